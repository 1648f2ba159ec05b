/* mcache.c — a small cache of freed mmap-ed chunks.
 *
 * Algorithm: glibc unmaps a chunk served by mmap as soon as it is freed, so
 * a program that keeps replacing big buffers pays a munmap, an mmap and a
 * page fault per page for each one. Here (default settings only: not once
 * the user fixed the mmap or trim threshold) a freed mapping of at most
 * MCACHE_MAX_BYTES is kept in one of MCACHE_SLOTS slots, its pages still
 * resident, the oldest evicted when the bytes would exceed
 * MCACHE_MAX_BYTES. A later mmap-ed request takes a cached mapping that
 * fits without wasting more than half of it, or grows one of at least
 * half its size with mremap (only the new pages fault); cached mappings
 * smaller than half the request are unmapped then (a program whose big
 * buffers keep doubling would otherwise keep every old size). malloc_trim
 * empties the cache; after MCACHE_IDLE_GROWTHS arena growths in a row
 * without a request served from the cache the oldest mapping is unmapped
 * (a program whose heap grows while it asks for no big mapping would only
 * add the cache to its peak). Reused memory is not zero: mm_mcache_dirty tells calloc.
 * Cost: a few compares under a spin lock (no system call inside it).
 * Memory: at most MCACHE_MAX_BYTES resident beyond what the program holds.
 * Reference: mimalloc's segment cache and jemalloc's retained extents keep
 * freed large memory mapped for the same reason.
 */
#include "malloc_internal.h"

#define MCACHE_SLOTS     4
#define MCACHE_MAX_BYTES ((size_t)32 * 1024 * 1024)
#define MCACHE_IDLE_GROWTHS 8   /* arena growths without a hit before an eviction */

/* Invariant (under mcache_lock): slot[i].base == NULL for an empty slot;
 * bytes = sum of the lengths cached; stamp orders slots oldest first. */
static struct mcache_slot {
	char *base;              /* start of the mapping (page aligned) */
	size_t len;              /* its length (pages) */
	uint64_t stamp;          /* insertion order */
} slot[MCACHE_SLOTS];
static size_t mcache_bytes;     /* written under mcache_lock, atomically: peeked without it */
static uint64_t mcache_clock;
static int mcache_lock __attribute__((aligned(64))); /* spin lock: held for a few compares */
static int mcache_hit;           /* a request was served since the last arena growth */
static int mcache_idle;          /* arena growths since the cache last served one */

MM_TLS int mm_mcache_dirty;

static void lock(void)
{
	while (__atomic_exchange_n(&mcache_lock, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&mcache_lock, __ATOMIC_RELAXED))
			__builtin_ia32_pause();
}
static void unlock(void) { __atomic_store_n(&mcache_lock, 0, __ATOMIC_RELEASE); }

static int enabled(void)
{
	return !MP_GET(no_dyn_threshold) && mm_trim_keep;
}

/* ---- Putting a freed mapping ---- */

int mm_mcache_put(char *base, size_t len)
{
	if (!enabled() || len > MCACHE_MAX_BYTES)
		return 0;
	struct mcache_slot out[MCACHE_SLOTS];
	int nout = 0;
	lock();
	/* evict the oldest until the mapping fits in bytes and slots */
	for (;;) {
		int oldest = -1, empty = -1;
		for (int i = 0; i < MCACHE_SLOTS; i++) {
			if (!slot[i].base)
				empty = i;
			else if (oldest < 0 || slot[i].stamp < slot[oldest].stamp)
				oldest = i;
		}
		if (empty >= 0 && mcache_bytes + len <= MCACHE_MAX_BYTES) {
			slot[empty].base = base;
			slot[empty].len = len;
			slot[empty].stamp = ++mcache_clock;
			__atomic_store_n(&mcache_bytes, mcache_bytes + len, __ATOMIC_RELAXED);
			break;
		}
		out[nout++] = slot[oldest];
		__atomic_store_n(&mcache_bytes, mcache_bytes - slot[oldest].len, __ATOMIC_RELAXED);
		slot[oldest].base = NULL;
	}
	unlock();
	for (int i = 0; i < nout; i++)
		mm_os_unmap(out[i].base, out[i].len);
	return 1;
}

/* ---- Taking one for a request ---- */

void *mm_mcache_get(size_t *lenp)
{
	size_t len = *lenp;
	if (!__atomic_load_n(&mcache_bytes, __ATOMIC_RELAXED))
		return NULL;
	struct mcache_slot out[MCACHE_SLOTS];
	int nout = 0;
	lock();
	int fit = -1, grow = -1;
	for (int i = 0; i < MCACHE_SLOTS; i++) {
		size_t l = slot[i].len;
		if (!slot[i].base)
			continue;
		if (l < len / 2) {
			/* too small for this size and smaller ones are not asked
			 * for (mapped requests keep getting bigger, as buffers
			 * that double do): give it back now */
			out[nout++] = slot[i];
			__atomic_store_n(&mcache_bytes, mcache_bytes - l, __ATOMIC_RELAXED);
			slot[i].base = NULL;
		} else if (l >= len && l - len <= l / 2) {
			if (fit < 0 || l < slot[fit].len)
				fit = i;
		} else if (l < len && l >= len / 2) {
			if (grow < 0 || l > slot[grow].len)
				grow = i;
		}
	}
	int take = fit >= 0 ? fit : grow;
	struct mcache_slot s = {0};
	if (take >= 0) {
		s = slot[take];
		slot[take].base = NULL;
		__atomic_store_n(&mcache_bytes, mcache_bytes - s.len, __ATOMIC_RELAXED);
	}
	unlock();
	for (int i = 0; i < nout; i++)
		mm_os_unmap(out[i].base, out[i].len);
	if (!s.base)
		return NULL;
	if (s.len < len) {
		char *m = mm_os_remap(s.base, s.len, len);
		if (!m) {
			mm_os_unmap(s.base, s.len);
			return NULL;
		}
		s.base = m;
		s.len = len;
	}
	mm_mcache_dirty = 1;
	__atomic_store_n(&mcache_hit, 1, __ATOMIC_RELAXED);
	*lenp = s.len;
	return s.base;
}

/* ---- Emptying (malloc_trim) and fork ---- */

int mm_mcache_flush(void)
{
	if (!__atomic_load_n(&mcache_bytes, __ATOMIC_RELAXED))
		return 0;
	struct mcache_slot out[MCACHE_SLOTS];
	int nout = 0;
	lock();
	for (int i = 0; i < MCACHE_SLOTS; i++) {
		if (slot[i].base)
			out[nout++] = slot[i];
		slot[i].base = NULL;
	}
	__atomic_store_n(&mcache_bytes, 0, __ATOMIC_RELAXED);
	unlock();
	for (int i = 0; i < nout; i++) {
		mm_os_note_trimmed(out[i].len);
		mm_os_unmap(out[i].base, out[i].len);
	}
	return nout > 0;
}

void mm_mcache_arena_grows(void)
{
	if (!__atomic_load_n(&mcache_bytes, __ATOMIC_RELAXED))
		return;
	if (__atomic_exchange_n(&mcache_hit, 0, __ATOMIC_RELAXED) != 0) {
		__atomic_store_n(&mcache_idle, 0, __ATOMIC_RELAXED);
		return;
	}
	if (__atomic_add_fetch(&mcache_idle, 1, __ATOMIC_RELAXED) < MCACHE_IDLE_GROWTHS)
		return;
	__atomic_store_n(&mcache_idle, 0, __ATOMIC_RELAXED);
	/* give back the oldest mapping */
	struct mcache_slot s = {0};
	lock();
	int oldest = -1;
	for (int i = 0; i < MCACHE_SLOTS; i++)
		if (slot[i].base && (oldest < 0 || slot[i].stamp < slot[oldest].stamp))
			oldest = i;
	if (oldest >= 0) {
		s = slot[oldest];
		slot[oldest].base = NULL;
		__atomic_store_n(&mcache_bytes, mcache_bytes - s.len, __ATOMIC_RELAXED);
	}
	unlock();
	if (s.base) {
		mm_os_note_trimmed(s.len);
		mm_os_unmap(s.base, s.len);
	}
}

void mm_mcache_fork_prepare(void) { lock(); }
void mm_mcache_fork_parent(void) { unlock(); }
void mm_mcache_fork_child(void) { unlock(); }
