/* bench_reclaim — the simulated machine under memory pressure, per
 * replacement policy of its LRU lists (docs/reclaim.md, docs/policies.md).
 *
 *   throughput  one process with 24 MiB of anonymous memory on a 16 MiB
 *               machine with 64 MiB of swap (a real file): every page
 *               written once, then N 8-byte reads (70%) and writes (30%),
 *               80% of them on a hot fifth of the pages, the rest uniform
 *               (one seeded stream for every policy; OPT is given each
 *               access's next use). The clock ticks every 4096 accesses
 *               (kswapd, NRU/aging ticks).
 *               Reported: accesses per second of host CPU time (the
 *               thread's, swap I/O included), the ratio to the linux
 *               policy, major faults and swap-outs per 1000 accesses.
 *   fault rate  examples/traces/sort.lk.zst (valgrind lackey of GNU sort
 *               on 3000 lines: 10.25 M accesses, 308 pages) replayed
 *               through the machine: every page the trace touches is
 *               mapped read-write-exec, anonymous; local replacement with
 *               a frame limit F gives the process exactly F frames; each
 *               record is a 1-byte access of its kind. Reported: page
 *               faults (minor + major, cold misses included) per 1000
 *               accesses for each F, and the ratio to OPT (which gets each
 *               access's next use from a pre-pass over the trace).
 * Times are the thread's CPU time (user and system: swap I/O included);
 * each throughput case runs three times and the best rate is printed (the
 * counts are the same every time: one seeded stream).
 * Usage: bench_reclaim [thousands-of-accesses (default 200)] [trace]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mmkit/policy.h"
#include "mmkit/rng.h"
#include "mmkit/sim.h"
#include "mmkit/trace.h"

#define PG 4096ULL

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_reclaim: %s\n", what);
	exit(1);
}

/* ---- throughput under pressure ------------------------------------------------------ */

#define PR_PAGES (24ULL << 20 >> 12)   /* working set */

/* The access stream, the same for every policy: pages, word offsets, kinds,
 * and each access's next use for OPT (times count the prefill first). */
struct stream {
	uint64_t n;
	uint32_t *page;
	uint16_t *word;
	uint8_t *write;
	uint64_t *next;       /* next use of the page, in machine access time */
	uint64_t *first;      /* per page: first use in the stream (prefill's next use) */
};

static void make_stream(struct stream *s, uint64_t n)
{
	const uint64_t hot = PR_PAGES / 5;
	s->n = n;
	s->page = malloc(n * sizeof(*s->page));
	s->word = malloc(n * sizeof(*s->word));
	s->write = malloc(n);
	s->next = malloc(n * sizeof(*s->next));
	s->first = malloc(PR_PAGES * sizeof(*s->first));
	if (!s->page || !s->word || !s->write || !s->next || !s->first)
		die("out of memory");
	struct mm_rng rng;
	mm_rng_seed(&rng, 42);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t r = mm_rng_next(&rng);
		s->page[i] = (uint32_t)((r & 0xff) < 205 ? (r >> 8) % hot : (r >> 8) % PR_PAGES);
		s->word[i] = (uint16_t)((r >> 40) & 511);
		s->write[i] = ((r >> 60) & 0xf) < 5;
	}
	for (uint64_t p = 0; p < PR_PAGES; p++)
		s->first[p] = MM_POLICY_NEVER;
	for (uint64_t i = n; i-- > 0;) {
		s->next[i] = s->first[s->page[i]];
		s->first[s->page[i]] = PR_PAGES + i;
	}
}

struct tput {
	double rate;            /* accesses per second */
	double majflt, swpout;  /* per 1000 accesses */
};

static struct tput run_pressure(const char *policy, const struct stream *s)
{
	struct mm_machine_config cfg;
	mm_machine_config_init(&cfg);
	cfg.ram_bytes = 16ULL << 20;
	cfg.swap_bytes = 64ULL << 20;
	cfg.reclaim_policy = policy;
	struct mm_machine *m;
	if (mm_machine_create(&cfg, &m))
		die("cannot boot");
	struct mm_task *t;
	if (mm_task_create(m, "bench", &t))
		die("no task");
	int64_t a = mm_do_mmap(m, t, 0, PR_PAGES * PG, MM_PROT_READ | MM_PROT_WRITE,
			       MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_NORESERVE, -1, 0);
	if (a < 0)
		die("mmap failed");
	uint64_t v = 1;
	for (uint64_t p = 0; p < PR_PAGES; p++) {
		mm_machine_set_next_use(m, s->first[p]);
		int err = mm_write(m, t, (uint64_t)a + p * PG, &v, 8);
		if (err) {
			fprintf(stderr, "bench_reclaim: %s: prefill page %llu: error %d\n", policy,
				(unsigned long long)p, err);
			exit(1);
		}
	}
	struct mm_counters c0, c1;
	struct mm_swap_info s0, s1;
	mm_task_counters(t, &c0);
	mm_machine_swap_info(m, &s0);
	uint64_t sum = 0;
	double t0 = now();
	for (uint64_t i = 0; i < s->n; i++) {
		uint64_t va = (uint64_t)a + (uint64_t)s->page[i] * PG + (uint64_t)s->word[i] * 8;
		mm_machine_set_next_use(m, s->next[i]);
		int err = s->write[i] ? mm_write(m, t, va, &v, 8) : mm_read(m, t, va, &v, 8);
		if (err)
			die("access failed");
		sum += v;
		if ((i & 4095) == 4095)
			mm_machine_tick(m, 1);
	}
	double t1 = now();
	mm_task_counters(t, &c1);
	mm_machine_swap_info(m, &s1);
	if (mm_machine_check(m))
		die("machine check failed");
	mm_machine_destroy(m);
	(void)sum;
	double n = (double)s->n;
	return (struct tput){ n / (t1 - t0), 1000.0 * (double)(c1.maj_flt - c0.maj_flt) / n,
			      1000.0 * (double)(s1.pswpout - s0.pswpout) / n };
}

/* ---- fault rate on a trace --------------------------------------------------------------- */

struct ref {
	uint64_t va;
	uint8_t kind;    /* enum mm_access_kind */
};

struct trace_refs {
	struct ref *r;
	size_t n, cap;
	uint64_t *pages;   /* distinct pages, sorted */
	size_t npages;
	uint64_t *next;    /* next use of the same page (index), or MM_POLICY_NEVER */
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void push(struct trace_refs *tr, uint64_t va, uint8_t kind)
{
	if (tr->n == tr->cap) {
		tr->cap = tr->cap ? tr->cap * 2 : 4096;
		tr->r = realloc(tr->r, tr->cap * sizeof(*tr->r));
		if (!tr->r)
			die("out of memory");
	}
	tr->r[tr->n++] = (struct ref){ va, kind };
}

static void load_trace(const char *path, struct trace_refs *tr)
{
	memset(tr, 0, sizeof(*tr));
	struct mm_trace_opts o;
	mm_trace_opts_init(&o);
	char err[256];
	struct mm_trace *t = mm_trace_open(path, &o, err, sizeof(err));
	if (!t) {
		fprintf(stderr, "bench_reclaim: %s\n", err);
		exit(1);
	}
	struct mm_trace_rec rec;
	int r;
	while ((r = mm_trace_next(t, &rec)) > 0) {
		switch (rec.kind) {
		case MM_TRACE_READ:
			push(tr, rec.addr, MM_ACCESS_READ);
			break;
		case MM_TRACE_WRITE:
			push(tr, rec.addr, MM_ACCESS_WRITE);
			break;
		case MM_TRACE_MODIFY:
			push(tr, rec.addr, MM_ACCESS_READ);
			push(tr, rec.addr, MM_ACCESS_WRITE);
			break;
		case MM_TRACE_IFETCH:
			push(tr, rec.addr, MM_ACCESS_EXEC);
			break;
		default:
			break;
		}
	}
	if (r < 0) {
		fprintf(stderr, "bench_reclaim: %s\n", mm_trace_error(t));
		exit(1);
	}
	mm_trace_close(t);
	/* distinct pages, and each access's next use (OPT's pre-pass) */
	uint64_t *pg = malloc(tr->n * sizeof(*pg));
	tr->next = malloc(tr->n * sizeof(*tr->next));
	if (!pg || !tr->next)
		die("out of memory");
	for (size_t i = 0; i < tr->n; i++)
		pg[i] = tr->r[i].va >> 12;
	qsort(pg, tr->n, sizeof(*pg), cmp_u64);
	size_t k = 0;
	for (size_t i = 0; i < tr->n; i++)
		if (!k || pg[k - 1] != pg[i])
			pg[k++] = pg[i];
	tr->pages = pg;
	tr->npages = k;
	uint64_t *last = malloc(k * sizeof(*last));
	if (!last)
		die("out of memory");
	for (size_t i = 0; i < k; i++)
		last[i] = MM_POLICY_NEVER;
	for (size_t i = tr->n; i-- > 0;) {
		uint64_t key = tr->r[i].va >> 12;
		uint64_t *f = bsearch(&key, pg, k, sizeof(*pg), cmp_u64);
		size_t idx = (size_t)(f - pg);
		tr->next[i] = last[idx];
		last[idx] = i;
	}
	free(last);
}

/* Faults per 1000 accesses of the trace with `frames` frames. */
static double run_trace(const char *policy, const struct trace_refs *tr, uint64_t frames)
{
	struct mm_machine_config cfg;
	mm_machine_config_init(&cfg);
	cfg.ram_bytes = 32ULL << 20;
	cfg.swap_bytes = 16ULL << 20;
	cfg.reclaim_policy = policy;
	cfg.reclaim_local = true;
	struct mm_machine *m;
	if (mm_machine_create(&cfg, &m))
		die("cannot boot");
	struct mm_task *t;
	if (mm_task_create(m, "trace", &t) || mm_task_set_frame_limit(m, t, frames))
		die("no task");
	/* one VMA per run of consecutive pages */
	for (size_t i = 0; i < tr->npages;) {
		size_t j = i + 1;
		while (j < tr->npages && tr->pages[j] == tr->pages[j - 1] + 1)
			j++;
		int64_t a = mm_do_mmap(m, t, tr->pages[i] << 12, (uint64_t)(j - i) << 12,
				       MM_PROT_READ | MM_PROT_WRITE | MM_PROT_EXEC,
				       MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_FIXED, -1, 0);
		if (a < 0)
			die("cannot map the trace's pages");
		i = j;
	}
	struct mm_counters c0, c1;
	mm_task_counters(t, &c0);
	for (size_t i = 0; i < tr->n; i++) {
		uint8_t b = 0;
		mm_machine_set_next_use(m, tr->next[i]);
		if (mm_access(m, t, tr->r[i].va, &b, 1, (enum mm_access_kind)tr->r[i].kind))
			die("trace access failed");
		if ((i & 1023) == 1023)
			mm_machine_tick(m, 1);
	}
	mm_task_counters(t, &c1);
	mm_machine_destroy(m);
	return 1000.0 * (double)(c1.min_flt + c1.maj_flt - c0.min_flt - c0.maj_flt) / (double)tr->n;
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) * 1000 : 200000;
	const char *trace = argc > 2 ? argv[2] : "examples/traces/sort.lk.zst";
	size_t np = mm_policy_count();
	if (!n)
		die("usage: bench_reclaim [thousands-of-accesses] [trace]");
	struct trace_refs tr;
	load_trace(trace, &tr);   /* first: a bad trace fails before the long part */
	struct stream st;
	make_stream(&st, n);

	printf("throughput under pressure: %llu accesses, 24 MiB working set, 16 MiB RAM, 64 MiB swap, "
	       "80%% of accesses on a hot 20%%\n", (unsigned long long)n);
	printf("%-14s %-9s %12s %8s %10s %10s\n", "policy", "kind", "M acc/s", "x linux", "majflt/1k",
	       "swpout/1k");
	struct tput *res = calloc(np, sizeof(*res));
	double base = 0;
	for (size_t i = 0; i < np; i++) {
		/* best of three: the host is shared */
		for (int rep = 0; rep < 3; rep++) {
			struct tput r = run_pressure(mm_policy_info(i)->name, &st);
			if (r.rate > res[i].rate)
				res[i] = r;
		}
		if (!strcmp(mm_policy_info(i)->name, "linux"))
			base = res[i].rate;
	}
	for (size_t i = 0; i < np; i++)
		printf("%-14s %-9s %12.2f %8.2f %10.1f %10.1f\n", mm_policy_info(i)->name,
		       mm_policy_info(i)->idealised ? "idealised" : "hardware", res[i].rate / 1e6,
		       base > 0 ? res[i].rate / base : 0.0, res[i].majflt, res[i].swpout);
	free(res);

	/* a geometric grid from 1/64 of the footprint to all of it: a real
	 * program's working set is a small part of what it ever touches */
	uint64_t d = tr.npages;
	uint64_t fr[7];
	size_t nf = 0;
	for (int sh = 6; sh >= 0; sh--) {
		uint64_t f = (d + (1ULL << sh) / 2) >> sh;
		if (f && (!nf || f > fr[nf - 1]))
			fr[nf++] = f;
	}
	printf("\nfault rate: %s, %zu accesses, %llu distinct pages; faults per 1000 accesses "
	       "(x opt) with F frames (local replacement)\n",
	       trace, tr.n, (unsigned long long)d);
	printf("%-14s", "policy");
	for (size_t f = 0; f < nf; f++) {
		char h[32];
		snprintf(h, sizeof(h), "F=%llu", (unsigned long long)fr[f]);
		printf(" %16s", h);
	}
	printf("\n");
	double *rate = calloc(np * nf, sizeof(*rate));
	size_t opt = 0;
	for (size_t i = 0; i < np; i++) {
		if (!strcmp(mm_policy_info(i)->name, "opt"))
			opt = i;
		for (size_t f = 0; f < nf; f++)
			rate[i * nf + f] = run_trace(mm_policy_info(i)->name, &tr, fr[f]);
	}
	for (size_t i = 0; i < np; i++) {
		printf("%-14s", mm_policy_info(i)->name);
		for (size_t f = 0; f < nf; f++) {
			double o = rate[opt * nf + f];
			printf(" %9.2f (%4.2f)", rate[i * nf + f], o > 0 ? rate[i * nf + f] / o : 0.0);
		}
		printf("\n");
	}
	free(rate);
	free(st.page);
	free(st.word);
	free(st.write);
	free(st.next);
	free(st.first);
	free(tr.r);
	free(tr.pages);
	free(tr.next);
	return 0;
}
