/* bench_sim — translation throughput of the simulated machine, per paging
 * mode, on one host core:
 *   tlb-hit   8-byte reads cycling over 16 resident pages (L1 DTLB hits);
 *   walk      8-byte reads cycling over 256 resident pages with the STLB
 *             off: a cyclic sweep of 16 pages per 4-way set misses the
 *             64-entry L1 every time (LRU) and walks; the pages are few
 *             enough to stay in the host's caches, so this times the
 *             simulator's walk, not the host's DRAM;
 *   fault     first touch (8-byte write) of fresh anonymous pages: a TLB
 *             miss, a page fault (zeroed frame, page tables on the way) and
 *             the retried walk.
 * Times are the thread's CPU time (the host may be shared); each case is
 * run three times and the best rate is printed.
 * Usage: bench_sim [seconds-per-case (default 0.5)]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mmkit/sim.h"

#define MAX(a, b) ((a) > (b) ? (a) : (b))

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static struct mm_machine *boot(enum mm_paging_mode mode, bool stlb, uint64_t ram)
{
	struct mm_machine_config cfg;
	mm_machine_config_init(&cfg);
	cfg.paging = mode;
	cfg.ram_bytes = ram;
	if (!stlb)
		cfg.stlb.entries = 0;
	struct mm_machine *m;
	if (mm_machine_create(&cfg, &m)) {
		fprintf(stderr, "bench_sim: cannot boot\n");
		exit(1);
	}
	return m;
}

static double bench_reads(enum mm_paging_mode mode, bool stlb, uint64_t pages, double secs,
			  struct mm_counters *out)
{
	struct mm_machine *m = boot(mode, stlb, 256ULL << 20);
	struct mm_task *t;
	mm_task_create(m, "bench", &t);
	int64_t a = mm_do_mmap(m, t, 0, pages * 4096, MM_PROT_READ | MM_PROT_WRITE,
			       MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_POPULATE, -1, 0);
	if (a < 0) {
		fprintf(stderr, "bench_sim: mmap failed\n");
		exit(1);
	}
	uint64_t v, sum = 0, n = 0;
	/* warm */
	for (uint64_t p = 0; p < pages; p++)
		mm_read(m, t, (uint64_t)a + p * 4096, &v, 8);
	struct mm_counters c0, c1;
	mm_task_counters(t, &c0);
	double t0 = now(), t1;
	do {
		for (int rep = 0; rep < 64; rep++) {
			for (uint64_t p = 0; p < pages; p++) {
				mm_read(m, t, (uint64_t)a + p * 4096 + (p & 63) * 8, &v, 8);
				sum += v;
			}
			n += pages;
		}
		t1 = now();
	} while (t1 - t0 < secs);
	mm_task_counters(t, &c1);
	out->accesses = c1.accesses - c0.accesses;
	out->dtlb_hits = c1.dtlb_hits - c0.dtlb_hits;
	out->tlb_misses = c1.tlb_misses - c0.tlb_misses;
	out->walk_refs = c1.walk_refs - c0.walk_refs;
	mm_machine_destroy(m);
	if (sum == 1)
		puts("");
	return (double)n / (t1 - t0);
}

static double bench_faults(enum mm_paging_mode mode, double secs, uint64_t *faults)
{
	uint64_t n = 0;
	double busy = 0;
	while (busy < secs) {
		struct mm_machine *m = boot(mode, true, 512ULL << 20);
		struct mm_task *t;
		mm_task_create(m, "bench", &t);
		uint64_t pages = 65536;   /* 256 MiB */
		/* a first pass makes the host back the simulated RAM, so the
		 * measured pass times the simulator, not the host's faults */
		int64_t a = mm_do_mmap(m, t, 0, pages * 4096, MM_PROT_READ | MM_PROT_WRITE,
				       MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_POPULATE, -1, 0);
		mm_do_munmap(m, t, (uint64_t)a, pages * 4096);
		struct mm_counters c0;
		mm_task_counters(t, &c0);
		a = mm_do_mmap(m, t, 0, pages * 4096, MM_PROT_READ | MM_PROT_WRITE,
			       MM_MAP_PRIVATE | MM_MAP_ANONYMOUS, -1, 0);
		uint64_t v = 1;
		double t0 = now();
		for (uint64_t p = 0; p < pages; p++)
			if (mm_write(m, t, (uint64_t)a + p * 4096, &v, 8))
				break;
		busy += now() - t0;
		struct mm_counters c;
		mm_task_counters(t, &c);
		n += c.min_flt - c0.min_flt;
		mm_machine_destroy(m);
	}
	*faults = n;
	return (double)n / busy;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 0.5;
	static const enum mm_paging_mode modes[] = { MM_PAGING_2LEVEL, MM_PAGING_4LEVEL, MM_PAGING_5LEVEL };
	static const char *const names[] = { "2-level", "4-level", "5-level" };
	printf("%-8s %14s %14s %14s   (accesses per second, one core)\n", "mode", "tlb-hit",
	       "walk", "fault");
	for (int i = 0; i < 3; i++) {
		struct mm_counters h, w;
		uint64_t nf;
		double rh = 0, rw = 0, rf = 0;
		for (int round = 0; round < 3; round++) {   /* best of three: shared hosts */
			rh = MAX(rh, bench_reads(modes[i], true, 16, secs, &h));
			rw = MAX(rw, bench_reads(modes[i], false, 256, secs, &w));
			rf = MAX(rf, bench_faults(modes[i], secs, &nf));
		}
		printf("%-8s %12.1f M %12.1f M %12.2f M\n", names[i], rh / 1e6, rw / 1e6, rf / 1e6);
		printf("         (hit ratio %.4f; walk case: %.4f misses/access, %.2f refs/walk)\n",
		       (double)h.dtlb_hits / (double)h.accesses,
		       (double)w.tlb_misses / (double)w.accesses,
		       (double)w.walk_refs / (double)(w.tlb_misses ? w.tlb_misses : 1));
	}
	return 0;
}
