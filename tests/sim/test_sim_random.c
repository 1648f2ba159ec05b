/* Randomized multi-process scenarios against a shadow model kept outside the
 * simulator: mmap (fixed), munmap, mprotect, madvise(DONTNEED), reads and
 * writes of random bytes through the MMU, fork (copy-on-write) and exit;
 * a host file mapped shared or private (msync, writeback at munmap and
 * exit) and a System V segment attached and detached. Every access's result
 * (success, or the SIGSEGV code) and every byte read must match the model;
 * the host file must match the model after every msync and at the end;
 * mm_machine_check() runs after every step; after everything exits, free
 * memory is back where it started. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmkit/compiler.h"
#include "mmkit/error.h"
#include "mmkit/rng.h"
#include "mmkit/sim.h"
#include "testutil.h"

#define WIN_BASE  0x10000000ULL
#define WIN_PAGES 192
#define MAX_PROCS 8           /* more than the 6 PCIDs: slots get recycled */
#define FILE_BASE 0x20000000ULL
#define FILE_PAGES 24
#define SHM_BASE  0x30000000ULL
#define SHM_PAGES 8

enum { FILE_NONE, FILE_SHARED, FILE_PRIVATE };

struct shadow {
	struct mm_task *t;
	int prot[WIN_PAGES];          /* -1: unmapped */
	uint8_t *data;                /* WIN_PAGES pages */
	int fd;                       /* the shared host file */
	int file_mode;                /* FILE_* */
	bool file_cow[FILE_PAGES];    /* private mapping: page copied */
	uint8_t *file_priv;           /* FILE_PAGES pages of private copies */
	bool shm_attached;
};

struct world {
	struct mm_machine *m;
	struct mm_rng rng;
	struct shadow p[MAX_PROCS];
	int n;
	uint64_t steps, mismatches;
	char path[64];
	uint8_t *file_data;           /* the page cache's content */
	uint8_t *shm_data;
	int shmid;
};

static void shadow_init(struct shadow *s, struct mm_task *t)
{
	memset(s, 0, sizeof(*s));
	s->t = t;
	for (int i = 0; i < WIN_PAGES; i++)
		s->prot[i] = -1;
	s->data = calloc(WIN_PAGES, 4096);
	s->file_priv = calloc(FILE_PAGES, 4096);
	assert_non_null(s->data);
	assert_non_null(s->file_priv);
}

static void shadow_free(struct shadow *s)
{
	free(s->data);
	free(s->file_priv);
}

static void check(struct world *w, const char *what)
{
	if (mm_machine_check(w->m))
		mm_test_fail_seed("machine check failed after %s (step %llu)", what,
				  (unsigned long long)w->steps);
}

static uint64_t pick(struct world *w, uint64_t n)
{
	return mm_rng_below(&w->rng, n);
}

static void op_mmap(struct world *w, struct shadow *s)
{
	uint64_t p = pick(w, WIN_PAGES), n = 1 + pick(w, MM_MIN(24, WIN_PAGES - p));
	static const int prots[] = { MM_PROT_READ | MM_PROT_WRITE, MM_PROT_READ | MM_PROT_WRITE,
				     MM_PROT_READ, MM_PROT_NONE, MM_PROT_WRITE,
				     MM_PROT_READ | MM_PROT_EXEC };
	int prot = prots[pick(w, MM_ARRAY_SIZE(prots))];
	int flags = MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_FIXED;
	if (pick(w, 4) == 0)
		flags |= MM_MAP_POPULATE;
	int64_t r = mm_do_mmap(w->m, s->t, WIN_BASE + p * 4096, n * 4096, prot, flags, -1, 0);
	if (r != (int64_t)(WIN_BASE + p * 4096))
		mm_test_fail_seed("mmap at page %llu: %lld", (unsigned long long)p, (long long)r);
	for (uint64_t i = p; i < p + n; i++) {
		s->prot[i] = prot;
		memset(s->data + i * 4096, 0, 4096);
	}
}

static void op_munmap(struct world *w, struct shadow *s)
{
	uint64_t p = pick(w, WIN_PAGES), n = 1 + pick(w, MM_MIN(32, WIN_PAGES - p));
	if (mm_do_munmap(w->m, s->t, WIN_BASE + p * 4096, n * 4096))
		mm_test_fail_seed("munmap failed");
	for (uint64_t i = p; i < p + n; i++)
		s->prot[i] = -1;
}

static void op_mprotect(struct world *w, struct shadow *s)
{
	uint64_t p = pick(w, WIN_PAGES), n = 1 + pick(w, MM_MIN(16, WIN_PAGES - p));
	static const int prots[] = { MM_PROT_READ | MM_PROT_WRITE, MM_PROT_READ, MM_PROT_NONE,
				     MM_PROT_READ | MM_PROT_EXEC };
	int prot = prots[pick(w, MM_ARRAY_SIZE(prots))];
	int r = mm_do_mprotect(w->m, s->t, WIN_BASE + p * 4096, n * 4096, prot);
	int want = 0;
	for (uint64_t i = p; i < p + n; i++) {
		if (s->prot[i] < 0) {
			want = -MM_ENOMEM;
			break;
		}
		s->prot[i] = prot;
	}
	if (r != want)
		mm_test_fail_seed("mprotect: %d, want %d", r, want);
}

static void op_dontneed(struct world *w, struct shadow *s)
{
	uint64_t p = pick(w, WIN_PAGES), n = 1 + pick(w, MM_MIN(16, WIN_PAGES - p));
	int r = mm_do_madvise(w->m, s->t, WIN_BASE + p * 4096, n * 4096, MM_MADV_DONTNEED);
	int want = 0;
	for (uint64_t i = p; i < p + n; i++) {
		if (s->prot[i] < 0)
			want = -MM_ENOMEM;
		else
			memset(s->data + i * 4096, 0, 4096);
	}
	if (r != want)
		mm_test_fail_seed("madvise: %d, want %d", r, want);
}

/* Expected outcome of an access: bytes moved before the first bad page. */
static int expect(const struct shadow *s, uint64_t off, size_t len, bool write, size_t *ok_bytes,
		  int *code)
{
	size_t done = 0;
	while (done < len) {
		uint64_t pg = (off + done) / 4096;
		size_t n = MM_MIN(len - done, 4096 - (off + done) % 4096);
		int prot = s->prot[pg];
		if (prot < 0 || (write ? !(prot & MM_PROT_WRITE) : prot == MM_PROT_NONE)) {
			*ok_bytes = done;
			*code = prot < 0 ? MM_SEGV_MAPERR : MM_SEGV_ACCERR;
			return -MM_EFAULT;
		}
		done += n;
	}
	*ok_bytes = len;
	return 0;
}

static void op_write(struct world *w, struct shadow *s)
{
	size_t len = 1 + pick(w, pick(w, 4) ? 64 : 9000);
	uint64_t off = pick(w, WIN_PAGES * 4096 - len);
	uint8_t *buf = malloc(len);
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)mm_rng_next(&w->rng);
	size_t okb;
	int code = 0;
	int want = expect(s, off, len, true, &okb, &code);
	int r = mm_write(w->m, s->t, WIN_BASE + off, buf, len);
	if (r != want || (r && mm_task_siginfo(s->t)->code != code))
		mm_test_fail_seed("write %zu at %#llx: %d (code %d), want %d (code %d)", len,
				  (unsigned long long)(WIN_BASE + off), r, mm_task_siginfo(s->t)->code,
				  want, code);
	memcpy(s->data + off, buf, okb);
	free(buf);
}

static void op_read(struct world *w, struct shadow *s)
{
	size_t len = 1 + pick(w, pick(w, 4) ? 64 : 9000);
	uint64_t off = pick(w, WIN_PAGES * 4096 - len);
	uint8_t *buf = malloc(len);
	size_t okb;
	int code = 0;
	int want = expect(s, off, len, false, &okb, &code);
	int r = mm_read(w->m, s->t, WIN_BASE + off, buf, len);
	if (r != want || (r && mm_task_siginfo(s->t)->code != code))
		mm_test_fail_seed("read %zu at %#llx: %d, want %d", len,
				  (unsigned long long)(WIN_BASE + off), r, want);
	if (memcmp(buf, s->data + off, okb)) {
		w->mismatches++;
		mm_test_fail_seed("read %zu at %#llx: data differs from the shadow", len,
				  (unsigned long long)(WIN_BASE + off));
	}
	free(buf);
}

static void op_fork(struct world *w, struct shadow *s)
{
	if (w->n >= MAX_PROCS)
		return;
	struct mm_task *c;
	if (mm_fork(w->m, s->t, &c))
		mm_test_fail_seed("fork failed");
	struct shadow *cs = &w->p[w->n++];
	shadow_init(cs, c);
	memcpy(cs->prot, s->prot, sizeof(s->prot));
	memcpy(cs->data, s->data, WIN_PAGES * 4096);
	cs->fd = s->fd;
	cs->file_mode = s->file_mode;
	memcpy(cs->file_cow, s->file_cow, sizeof(s->file_cow));
	memcpy(cs->file_priv, s->file_priv, FILE_PAGES * 4096);
	cs->shm_attached = s->shm_attached;
}

static void op_exit(struct world *w, int i)
{
	mm_exit(w->m, w->p[i].t);
	shadow_free(&w->p[i]);
	w->p[i] = w->p[--w->n];
}

/* ---- the shared file and the shm segment ---- */

static void check_host_file(struct world *w, const char *when)
{
	static uint8_t buf[FILE_PAGES * 4096];
	int fd = open(w->path, O_RDONLY);
	assert_true(fd >= 0);
	ssize_t n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n != (ssize_t)sizeof(buf) || memcmp(buf, w->file_data, sizeof(buf))) {
		w->mismatches++;
		mm_test_fail_seed("host file differs from the model %s (step %llu)", when,
				  (unsigned long long)w->steps);
	}
}

static void op_file_map(struct world *w, struct shadow *s)
{
	if (s->file_mode != FILE_NONE) {
		assert_int_equal(mm_do_munmap(w->m, s->t, FILE_BASE, FILE_PAGES * 4096), 0);
		s->file_mode = FILE_NONE;
		return;
	}
	bool shared = pick(w, 2);
	int64_t r = mm_do_mmap(w->m, s->t, FILE_BASE, FILE_PAGES * 4096, MM_PROT_READ | MM_PROT_WRITE,
			       (shared ? MM_MAP_SHARED : MM_MAP_PRIVATE) | MM_MAP_FIXED, s->fd, 0);
	if (r != (int64_t)FILE_BASE)
		mm_test_fail_seed("file mmap: %lld", (long long)r);
	s->file_mode = shared ? FILE_SHARED : FILE_PRIVATE;
	memset(s->file_cow, 0, sizeof(s->file_cow));
}

static void op_msync(struct world *w, struct shadow *s)
{
	int r = mm_do_msync(w->m, s->t, FILE_BASE, FILE_PAGES * 4096, MM_MS_SYNC);
	if (r != (s->file_mode == FILE_NONE ? -MM_ENOMEM : 0))
		mm_test_fail_seed("msync: %d", r);
	if (s->file_mode == FILE_SHARED)
		check_host_file(w, "after msync");
}

static void op_shm(struct world *w, struct shadow *s)
{
	if (s->shm_attached) {
		assert_int_equal(mm_shmdt(w->m, s->t, SHM_BASE), 0);
		s->shm_attached = false;
	} else {
		assert_int_equal(mm_shmat(w->m, s->t, w->shmid, SHM_BASE, 0), (int64_t)SHM_BASE);
		s->shm_attached = true;
	}
}

/* Reads and writes in the file or shm window, checked against the model. */
static void op_shared_access(struct world *w, struct shadow *s, bool write)
{
	bool file = pick(w, 2);
	uint64_t pages = file ? FILE_PAGES : SHM_PAGES;
	size_t len = 1 + pick(w, pick(w, 3) ? 64 : 6000);
	uint64_t off = pick(w, pages * 4096 - len);
	uint64_t base = file ? FILE_BASE : SHM_BASE;
	bool mapped = file ? s->file_mode != FILE_NONE : s->shm_attached;
	uint8_t *buf = malloc(len);
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)mm_rng_next(&w->rng);
	int r = write ? mm_write(w->m, s->t, base + off, buf, len) : mm_read(w->m, s->t, base + off, buf, len);
	if (r != (mapped ? 0 : -MM_EFAULT))
		mm_test_fail_seed("%s %s at +%#llx: %d", write ? "write" : "read", file ? "file" : "shm",
				  (unsigned long long)off, r);
	if (!mapped) {
		free(buf);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		uint64_t o = off + i, pg = o / 4096;
		uint8_t *cell;
		if (!file) {
			cell = w->shm_data + o;
		} else if (s->file_mode == FILE_SHARED) {
			cell = w->file_data + o;
		} else {
			if (write && !s->file_cow[pg]) {
				memcpy(s->file_priv + pg * 4096, w->file_data + pg * 4096, 4096);
				s->file_cow[pg] = true;
			}
			cell = s->file_cow[pg] ? s->file_priv + o : w->file_data + o;
		}
		if (write) {
			*cell = buf[i];
		} else if (*cell != buf[i]) {
			w->mismatches++;
			mm_test_fail_seed("read %s +%#llx: %#x, model %#x", file ? "file" : "shm",
					  (unsigned long long)o, buf[i], *cell);
		}
	}
	free(buf);
}

/* Read every readable page of every process back and compare. */
static void verify_all(struct world *w)
{
	uint8_t *buf = malloc(4096);
	for (int i = 0; i < w->n; i++) {
		struct shadow *s = &w->p[i];
		for (int pg = 0; pg < WIN_PAGES; pg++) {
			if (s->prot[pg] <= 0)
				continue;
			if (mm_read(w->m, s->t, WIN_BASE + (uint64_t)pg * 4096, buf, 4096))
				mm_test_fail_seed("verify: read failed");
			if (memcmp(buf, s->data + (size_t)pg * 4096, 4096)) {
				w->mismatches++;
				mm_test_fail_seed("verify: pid %d page %d differs", mm_task_pid(s->t), pg);
			}
		}
	}
	free(buf);
}

static void run_scenario(uint64_t seed, enum mm_paging_mode mode, bool pcid, uint64_t steps)
{
	struct world w = { 0 };
	mm_rng_seed(&w.rng, seed);
	struct mm_machine_config cfg;
	mm_machine_config_init(&cfg);
	cfg.ram_bytes = 32ULL << 20;
	cfg.paging = mode;
	cfg.pcid = pcid;
	if (pick(&w, 2)) {   /* a small TLB makes evictions and STLB traffic common */
		cfg.dtlb_4k = (struct mm_tlb_geometry){ 8, 2 };
		cfg.stlb = (struct mm_tlb_geometry){ 32, 4 };
	}
	assert_int_equal(mm_machine_create(&cfg, &w.m), 0);
	mm_machine_drop_caches(w.m);
	struct mm_meminfo mi0, mi;
	mm_machine_meminfo(w.m, &mi0);
	/* the host file and the shm segment */
	strcpy(w.path, "/tmp/mmsim-rand-XXXXXX");
	int hfd = mkstemp(w.path);
	assert_true(hfd >= 0);
	w.file_data = malloc(FILE_PAGES * 4096);
	w.shm_data = calloc(SHM_PAGES, 4096);
	for (size_t i = 0; i < FILE_PAGES * 4096; i++)
		w.file_data[i] = (uint8_t)mm_rng_next(&w.rng);
	assert_int_equal(write(hfd, w.file_data, FILE_PAGES * 4096), FILE_PAGES * 4096);
	close(hfd);
	struct mm_task *t;
	assert_int_equal(mm_task_create(w.m, "init", &t), 0);
	shadow_init(&w.p[0], t);
	w.n = 1;
	w.p[0].fd = mm_open(w.m, t, w.path, MM_O_RDWR);
	assert_true(w.p[0].fd >= 0);
	w.shmid = mm_shmget(w.m, t, MM_IPC_PRIVATE, SHM_PAGES * 4096, 0);
	assert_true(w.shmid >= 0);
	for (w.steps = 0; w.steps < steps; w.steps++) {
		struct shadow *s = &w.p[pick(&w, (uint64_t)w.n)];
		unsigned int op = (unsigned int)pick(&w, 100);
		const char *what;
		if (op < 12) {
			op_mmap(&w, s);
			what = "mmap";
		} else if (op < 18) {
			op_munmap(&w, s);
			what = "munmap";
		} else if (op < 24) {
			op_mprotect(&w, s);
			what = "mprotect";
		} else if (op < 27) {
			op_dontneed(&w, s);
			what = "madvise";
		} else if (op < 45) {
			op_write(&w, s);
			what = "write";
		} else if (op < 70) {
			op_read(&w, s);
			what = "read";
		} else if (op < 78) {
			op_shared_access(&w, s, true);
			what = "shared write";
		} else if (op < 86) {
			op_shared_access(&w, s, false);
			what = "shared read";
		} else if (op < 89) {
			op_file_map(&w, s);
			what = "file map/unmap";
		} else if (op < 90) {
			op_msync(&w, s);
			what = "msync";
		} else if (op < 92) {
			op_shm(&w, s);
			what = "shmat/shmdt";
		} else if (op < 97) {
			op_fork(&w, s);
			what = "fork";
		} else {
			if (w.n > 1)
				op_exit(&w, (int)pick(&w, (uint64_t)w.n));
			what = "exit";
		}
		check(&w, what);
		if (w.steps % 256 == 255)
			verify_all(&w);
	}
	verify_all(&w);
	while (w.n)
		op_exit(&w, w.n - 1);
	check(&w, "final exit");
	check_host_file(&w, "after every process exited");
	assert_int_equal(mm_shmctl(w.m, NULL, w.shmid, MM_IPC_RMID, NULL), 0);
	unlink(w.path);
	free(w.file_data);
	free(w.shm_data);
	mm_machine_drop_caches(w.m);
	mm_machine_meminfo(w.m, &mi);
	/* Exact: every page is free again except the page-map leaves the slab
	 * made for 2 MiB ranges its slabs first used during the run (kept for
	 * the machine's life, as mem_map is); nothing else may differ. */
	uint64_t pm_growth = mi.slab_pagemap_pages - mi0.slab_pagemap_pages;
	if (mi.free_pages + pm_growth != mi0.free_pages || mi.pagetable_pages || mi.anon_pages ||
	    mi.slab_pages - mi0.slab_pages != pm_growth || mi.kernel_pages != mi0.kernel_pages)
		mm_test_fail_seed("after exit: free %llu + page-map growth %llu (start %llu), slab %llu "
				  "(start %llu), tables %llu, anon %llu",
				  (unsigned long long)mi.free_pages, (unsigned long long)pm_growth,
				  (unsigned long long)mi0.free_pages, (unsigned long long)mi.slab_pages,
				  (unsigned long long)mi0.slab_pages, (unsigned long long)mi.pagetable_pages,
				  (unsigned long long)mi.anon_pages);
	assert_int_equal(w.mismatches, 0);
	mm_machine_destroy(w.m);
}

static void test_random_modes(void **state)
{
	(void)state;
	uint64_t seed = mm_test_seed();
	uint64_t steps = mm_test_iters(2500);
	run_scenario(seed, MM_PAGING_4LEVEL, true, steps);
	run_scenario(seed + 1, MM_PAGING_2LEVEL, false, steps);
	run_scenario(seed + 2, MM_PAGING_5LEVEL, true, steps);
	run_scenario(seed + 3, MM_PAGING_4LEVEL, false, steps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_modes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
