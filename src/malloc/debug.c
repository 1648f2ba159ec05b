/* debug.c — the checking allocator (MMALLOC_CHECK=1 or libmmalloc-debug.so).
 *
 * Every block is wrapped:
 *
 *   core block -> | header: magic, size, call site, live-list links | 16 guard bytes 0xFB |
 *         user -> | size bytes (0xAA on malloc, 0xDD once freed)     | 16 guard bytes 0xFD |
 *
 * malloc records the caller's backtrace; free checks the magic (double free:
 * the block is already marked freed; invalid free: no magic at all), checks
 * both guards (overflow or underflow), then poisons the block and puts it in
 * a FIFO quarantine (QUARANTINE_BYTES) instead of freeing it. When a block
 * leaves the quarantine its poison is verified, so a write after free is
 * caught. Each report names the address, the size and the allocation call
 * site and aborts, since going on would corrupt memory. At exit the guards
 * of the live blocks and the poison of the quarantined ones are checked
 * (damage aborts), then every block still live is reported as a leak
 * (MMALLOC_LEAKS=0 turns that off).
 * Cost: a backtrace per allocation and O(size) poisoning; memory: 144 bytes
 * per block plus the quarantine. Reference: the debug_realloc of Lua,
 * SQLite's mem2.c guard/poison scheme, glibc's MALLOC_CHECK_/mcheck.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <execinfo.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "malloc_internal.h"

#define DBG_FRAMES        8
#define GUARD_SZ          16
#define ALLOC_BYTE        0xAA
#define FREE_BYTE         0xDD
#define FRONT_GUARD_BYTE  0xFB
#define BACK_GUARD_BYTE   0xFD
#define MAGIC_LIVE        0x6d6d616c6c6f6321ULL   /* "mmalloc!" */
#define MAGIC_FREED       0x66726565642d2d21ULL   /* "freed--!" */
#define QUARANTINE_BYTES  ((size_t)16 << 20)
#define QUARANTINE_BLOCKS 65536

/* Invariants: a header is on the live list iff magic == MAGIC_LIVE, on the
 * quarantine list iff magic == MAGIC_FREED. Both lists and the counters are
 * protected by dbg_lock. */
struct dbg_hdr {
	uint64_t magic;
	size_t size;                  /* bytes the program asked for */
	size_t front;                 /* offset of this header in its core block */
	struct dbg_hdr *prev, *next;  /* live list or quarantine FIFO */
	void *frames[DBG_FRAMES];     /* allocation call site */
	uint32_t nframes;
	uint32_t internal;            /* made while priming backtrace(): no report */
	unsigned char guard[GUARD_SZ];
};
#define HDR_SZ MM_ALIGN_UP(sizeof(struct dbg_hdr), MALLOC_ALIGN)

int mm_debug_mode = -1;
static pthread_mutex_t dbg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dbg_hdr live = { .prev = &live, .next = &live };
static struct dbg_hdr quarantine = { .prev = &quarantine, .next = &quarantine };
static size_t quarantine_bytes, quarantine_blocks, live_blocks;
static int dbg_started;                /* leak report armed */
static int leaks_off;
static MM_TLS int in_dbg;              /* inside backtrace(): no nesting */

void mm_debug_init(void)
{
#ifdef MMALLOC_DEBUG_DEFAULT
	mm_debug_mode = 1;     /* libmmalloc-debug.so */
#else
	const char *v = mm_getenv("MMALLOC_CHECK");
	mm_debug_mode = (v && *v && *v != '0') ? 1 : 0;
#endif
}

static void dbg_start(void)
{
	if (__atomic_load_n(&dbg_started, __ATOMIC_ACQUIRE) || in_dbg)
		return;   /* running, or a nested call from the priming below */
	mm_ensure_init();
	const char *v = mm_getenv("MMALLOC_LEAKS");
	leaks_off = v && *v == '0';
	/* the first backtrace() loads libgcc_s and allocates: do it now,
	 * with nested calls told not to take backtraces themselves */
	void *f[2];
	in_dbg = 1;
	backtrace(f, 2);
	in_dbg = 0;
	__atomic_store_n(&dbg_started, 1, __ATOMIC_RELEASE);
}

/* ---- Reports ---- */

static void say(const char *a, const void *addr, const char *b, size_t n, const char *c)
{
	char buf[300];
	size_t pos = 0;
	mm_fmt_str(buf, sizeof(buf), &pos, "mmalloc-debug: ");
	mm_fmt_str(buf, sizeof(buf), &pos, a);
	mm_fmt_hex(buf, sizeof(buf), &pos, (uintptr_t)addr);
	mm_fmt_str(buf, sizeof(buf), &pos, b);
	mm_fmt_u(buf, sizeof(buf), &pos, n);
	mm_fmt_str(buf, sizeof(buf), &pos, c);
	mm_os_write_err(buf, pos);
}

static void say_ptr(const char *a, const void *addr, const char *b)
{
	char buf[300];
	size_t pos = 0;
	mm_fmt_str(buf, sizeof(buf), &pos, "mmalloc-debug: ");
	mm_fmt_str(buf, sizeof(buf), &pos, a);
	mm_fmt_hex(buf, sizeof(buf), &pos, (uintptr_t)addr);
	mm_fmt_str(buf, sizeof(buf), &pos, b);
	mm_os_write_err(buf, pos);
}

static void say_frames(const char *title, void *const *frames, int n)
{
	mm_os_write_err(title, strlen(title));
	if (n > 0)
		backtrace_symbols_fd(frames, n, mm_os_err_fd());
	else
		mm_os_write_err("    (no backtrace)\n", 19);
}

static void say_here(void)
{
	void *f[DBG_FRAMES + 2];
	int n = 0;
	if (!in_dbg) {
		in_dbg = 1;
		n = backtrace(f, DBG_FRAMES + 2);
		in_dbg = 0;
	}
	say_frames("  at:\n", n > 2 ? f + 2 : f, n > 2 ? n - 2 : n);
}

MM_NORETURN static void report_block(const char *what, const struct dbg_hdr *h, const void *user)
{
	say(what, user, " (", h->size, " bytes)\n");
	say_frames("  allocated at:\n", h->frames, (int)h->nframes);
	say_here();
	abort();
}

/* ---- Helpers ---- */

static unsigned char *user_of(struct dbg_hdr *h)
{
	return (unsigned char *)h + HDR_SZ;
}

static struct dbg_hdr *hdr_of(const void *user)
{
	return (struct dbg_hdr *)((uintptr_t)user - HDR_SZ);
}

static void *core_of(struct dbg_hdr *h)
{
	return (char *)h - h->front;
}

static int guards_ok(struct dbg_hdr *h)
{
	const unsigned char *back = user_of(h) + h->size;
	for (int i = 0; i < GUARD_SZ; i++)
		if (h->guard[i] != FRONT_GUARD_BYTE || back[i] != BACK_GUARD_BYTE)
			return 0;
	return 1;
}

/* Offset of the first byte of a freed block that is no longer poisoned,
 * or SIZE_MAX. */
static size_t poison_broken(struct dbg_hdr *h)
{
	const unsigned char *u = user_of(h);
	for (size_t i = 0; i < h->size; i++)
		if (u[i] != FREE_BYTE)
			return i;
	return SIZE_MAX;
}

static void list_add_tail(struct dbg_hdr *head, struct dbg_hdr *h)
{
	h->prev = head->prev;
	h->next = head;
	head->prev->next = h;
	head->prev = h;
}

static void list_remove(struct dbg_hdr *h)
{
	h->prev->next = h->next;
	h->next->prev = h->prev;
}

/* Set up a header in core block `core` at offset `front`; `ra` is the
 * return address into the program's code: the recorded backtrace starts
 * at that frame (this layer's own frames are dropped). */
static void *finish_block(void *core, size_t front, size_t n, const void *ra)
{
	struct dbg_hdr *h = (struct dbg_hdr *)((char *)core + front);
	h->size = n;
	h->front = front;
	h->nframes = 0;
	h->internal = (uint32_t)in_dbg;
	if (!in_dbg && __atomic_load_n(&dbg_started, __ATOMIC_ACQUIRE)) {
		void *f[DBG_FRAMES + 4];
		in_dbg = 1;
		int k = backtrace(f, DBG_FRAMES + 4);
		in_dbg = 0;
		int skip = 0;
		while (skip < k && f[skip] != ra)
			skip++;
		if (skip == k)
			skip = k > 1 ? 1 : 0;
		int m = k - skip < DBG_FRAMES ? k - skip : DBG_FRAMES;
		for (int i = 0; i < m; i++)
			h->frames[i] = f[skip + i];
		h->nframes = (uint32_t)m;
	}
	memset(h->guard, FRONT_GUARD_BYTE, GUARD_SZ);
	unsigned char *u = user_of(h);
	memset(u, ALLOC_BYTE, n);
	memset(u + n, BACK_GUARD_BYTE, GUARD_SZ);
	pthread_mutex_lock(&dbg_lock);
	h->magic = MAGIC_LIVE;
	list_add_tail(&live, h);
	live_blocks++;
	pthread_mutex_unlock(&dbg_lock);
	return u;
}

/* Check a block handed back by the program; aborts on any damage.
 * Caller holds dbg_lock. */
static struct dbg_hdr *check_user_ptr_locked(const void *p, const char *fn)
{
	if (!aligned_ok(p)) {
		pthread_mutex_unlock(&dbg_lock);
		say_ptr(fn, p, ": misaligned pointer, not from malloc\n");
		say_here();
		abort();
	}
	struct dbg_hdr *h = hdr_of(p);
	if (h->magic == MAGIC_FREED) {
		pthread_mutex_unlock(&dbg_lock);
		report_block(fn[0] == 'r' ? "realloc of freed block " : "double free of ", h, p);
	}
	if (h->magic != MAGIC_LIVE) {
		pthread_mutex_unlock(&dbg_lock);
		say_ptr(fn, p, ": invalid pointer, not from malloc or header overwritten\n");
		say_here();
		abort();
	}
	if (!guards_ok(h)) {
		pthread_mutex_unlock(&dbg_lock);
		report_block("guard bytes overwritten (buffer overflow) around ", h, p);
	}
	return h;
}

/* Release the oldest quarantined blocks until the quarantine fits. Caller
 * holds dbg_lock; the blocks go back to the core after it is dropped. */
static struct dbg_hdr *quarantine_trim_locked(void)
{
	struct dbg_hdr *out = NULL;
	while (quarantine_bytes > QUARANTINE_BYTES || quarantine_blocks > QUARANTINE_BLOCKS) {
		struct dbg_hdr *h = quarantine.next;
		size_t bad = poison_broken(h);
		if (bad != SIZE_MAX) {
			pthread_mutex_unlock(&dbg_lock);
			say("use after free: write into freed block ", user_of(h), " at offset ",
			    bad, "\n");
			report_block("the block was ", h, user_of(h));
		}
		list_remove(h);
		quarantine_bytes -= h->size;
		quarantine_blocks--;
		h->magic = 0;
		h->next = out;
		out = h;
	}
	return out;
}

/* ---- The surface ---- */

static void *dbg_malloc_at(size_t n, const void *ra)
{
	dbg_start();
	if (n > SIZE_MAX - HDR_SZ - GUARD_SZ - 64) {
		errno = ENOMEM;
		return NULL;
	}
	void *core = mmalloc_malloc(HDR_SZ + n + GUARD_SZ);
	if (!core)
		return NULL;
	return finish_block(core, 0, n, ra);
}

void *mmalloc_dbg_malloc(size_t n)
{
	return dbg_malloc_at(n, __builtin_return_address(0));
}

void mmalloc_dbg_free(void *p)
{
	if (!p)
		return;
	dbg_start();
	pthread_mutex_lock(&dbg_lock);
	struct dbg_hdr *h = check_user_ptr_locked(p, "free(): ");
	list_remove(h);
	live_blocks--;
	h->magic = MAGIC_FREED;
	memset(user_of(h), FREE_BYTE, h->size);
	list_add_tail(&quarantine, h);
	quarantine_bytes += h->size;
	quarantine_blocks++;
	struct dbg_hdr *out = quarantine_trim_locked();
	pthread_mutex_unlock(&dbg_lock);
	while (out) {
		struct dbg_hdr *next = out->next;
		mmalloc_free(core_of(out));
		out = next;
	}
}

void *mmalloc_dbg_calloc(size_t nmemb, size_t size)
{
	size_t total;
	if (__builtin_mul_overflow(nmemb, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	void *p = dbg_malloc_at(total, __builtin_return_address(0));
	if (p)
		memset(p, 0, total);
	return p;
}

void *mmalloc_dbg_realloc(void *p, size_t n)
{
	if (!p)
		return dbg_malloc_at(n, __builtin_return_address(0));
	if (n == 0) {
		mmalloc_dbg_free(p);
		return NULL;
	}
	dbg_start();
	pthread_mutex_lock(&dbg_lock);
	struct dbg_hdr *h = check_user_ptr_locked(p, "realloc(): ");
	size_t old = h->size;
	pthread_mutex_unlock(&dbg_lock);
	void *q = dbg_malloc_at(n, __builtin_return_address(0));
	if (!q)
		return NULL;
	memcpy(q, p, old < n ? old : n);
	mmalloc_dbg_free(p);
	return q;
}

void *mmalloc_dbg_memalign(size_t align, size_t n)
{
	if (align <= MALLOC_ALIGN)
		return dbg_malloc_at(n, __builtin_return_address(0));
	if (align > SIZE_MAX / 2 + 1) {
		errno = EINVAL;
		return NULL;
	}
	if (!MM_IS_POW2(align)) {
		size_t a = MINSIZE;
		while (a < align)
			a <<= 1;
		align = a;
	}
	dbg_start();
	size_t lead = MM_ALIGN_UP(HDR_SZ, align);
	if (n > SIZE_MAX / 2 - lead - GUARD_SZ) {
		errno = ENOMEM;
		return NULL;
	}
	char *core = mmalloc_memalign(align, lead + n + GUARD_SZ);
	if (!core)
		return NULL;
	return finish_block(core, lead - HDR_SZ, n, __builtin_return_address(0));
}

size_t mmalloc_dbg_usable_size(const void *p)
{
	if (!p)
		return 0;
	dbg_start();
	pthread_mutex_lock(&dbg_lock);
	struct dbg_hdr *h = check_user_ptr_locked(p, "malloc_usable_size(): ");
	size_t n = h->size;
	pthread_mutex_unlock(&dbg_lock);
	return n;
}

size_t mmalloc_dbg_verify(void)
{
	size_t bad = 0;
	pthread_mutex_lock(&dbg_lock);
	for (struct dbg_hdr *h = live.next; h != &live; h = h->next)
		if (!guards_ok(h)) {
			say("guard bytes overwritten around ", user_of(h), " (", h->size,
			    " bytes)\n");
			say_frames("  allocated at:\n", h->frames, (int)h->nframes);
			bad++;
		}
	for (struct dbg_hdr *h = quarantine.next; h != &quarantine; h = h->next) {
		size_t off = poison_broken(h);
		if (off != SIZE_MAX) {
			say("use after free: write into freed block ", user_of(h), " at offset ",
			    off, "\n");
			say_frames("  allocated at:\n", h->frames, (int)h->nframes);
			bad++;
		}
	}
	pthread_mutex_unlock(&dbg_lock);
	return bad;
}

size_t mmalloc_dbg_leak_report(void)
{
	size_t n = 0, bytes = 0;
	pthread_mutex_lock(&dbg_lock);
	for (struct dbg_hdr *h = live.next; h != &live; h = h->next) {
		if (h->internal)
			continue;
		say("leak: ", user_of(h), " (", h->size, " bytes) never freed\n");
		say_frames("  allocated at:\n", h->frames, (int)h->nframes);
		n++;
		bytes += h->size;
	}
	pthread_mutex_unlock(&dbg_lock);
	if (n) {
		char buf[160];
		size_t pos = 0;
		mm_fmt_str(buf, sizeof(buf), &pos, "mmalloc-debug: leak summary: ");
		mm_fmt_u(buf, sizeof(buf), &pos, n);
		mm_fmt_str(buf, sizeof(buf), &pos, " blocks, ");
		mm_fmt_u(buf, sizeof(buf), &pos, bytes);
		mm_fmt_str(buf, sizeof(buf), &pos, " bytes\n");
		mm_os_write_err(buf, pos);
	}
	return n;
}

/* At exit: the guards of every live block and the poison of every
 * quarantined one are checked first (a damaged block aborts, as the
 * checks at free do), then the leaks are listed. */
__attribute__((destructor)) static void dbg_at_exit(void)
{
	if (!__atomic_load_n(&dbg_started, __ATOMIC_ACQUIRE) || mm_debug_mode == 0)
		return;
	if (mmalloc_dbg_verify() != 0) {
		static const char msg[] = "mmalloc-debug: heap damage found at exit\n";
		mm_os_write_err(msg, sizeof(msg) - 1);
		abort();
	}
	if (!leaks_off)
		mmalloc_dbg_leak_report();
}

/* ---- fork ---- */

void mm_debug_fork_prepare(void)
{
	pthread_mutex_lock(&dbg_lock);
}

void mm_debug_fork_parent(void)
{
	pthread_mutex_unlock(&dbg_lock);
}

void mm_debug_fork_child(void)
{
	/* the child's one thread took it in the prepare handler */
	pthread_mutex_unlock(&dbg_lock);
}
