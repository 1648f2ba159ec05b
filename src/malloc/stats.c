/* stats.c — seeing inside: mallinfo2, malloc_stats (glibc's text),
 * malloc_info (glibc's XML) and the MMALLOC_STATS=1 report at exit.
 *
 * Definitions used in the exit report (seed 000, "碎片"):
 *   internal fragmentation = bytes of in-use chunks that the program did
 *     not ask for (headers, rounding to 16, minimum size), as a share of
 *     the in-use chunk bytes. The core does not store request sizes, so it
 *     is measured over every allocation made: 1 - sum(requested) /
 *     sum(chunk sizes handed out).
 *   external fragmentation = free memory that cannot serve a request as
 *     large as the free total: 1 - largest free chunk / total free bytes
 *     (0 when all free memory is one block, near 1 when it is dust); free
 *     blocks in slab spans count as free bytes (each one a small block).
 * Everything here walks the arenas under their locks: O(heap) per call.
 */
#include <errno.h>
#include <string.h>

#include "malloc_internal.h"
#include "slab.h"
#include "tcache.h"

int mm_stats_requested;

struct arena_sum {
	size_t system;         /* bytes from the OS */
	size_t max_system;
	size_t nfree, free;    /* ordinary free chunks incl. top */
	size_t nfast, fast;    /* fast-bin chunks */
	size_t unsorted, small, large;
	size_t top;
	size_t largest;        /* largest free chunk (incl. top) */
	size_t slab_free;      /* bytes of free and never-used blocks in spans,
				  whole empty spans */
	size_t slab_spans;
};

static void sum_arena(struct mm_arena *a, struct arena_sum *s)
{
	mm_arena_drain(a);   /* blocks other threads gave back count as free */
	memset(s, 0, sizeof(*s));
	s->system = a->system_mem;
	s->max_system = a->max_system_mem;
	for (unsigned i = 0; i < NFASTBINS; i++)
		for (struct mchunk *p = a->fastbins[i]; p; p = (struct mchunk *)(void *)p->link.fd) {
			s->nfast++;
			s->fast += chunksize(p);
		}
	for (unsigned i = 1; i < NBINS; i++) {
		struct mlink *b = bin_at(a, i);
		for (struct mlink *l = b->fd; l != b; l = l->fd) {
			size_t sz = chunksize(link2chunk(l));
			s->nfree++;
			s->free += sz;
			if (i == UNSORTED)
				s->unsorted += sz;
			else if (i < NSMALLBINS)
				s->small += sz;
			else
				s->large += sz;
			if (sz > s->largest)
				s->largest = sz;
		}
	}
	for (struct mm_span *sp = a->slab_all; sp; sp = sp->all_next) {
		s->slab_spans++;
		/* an empty span is free memory as a whole, header and tail too */
		s->slab_free += sp->used ? (size_t)(sp->nblocks - sp->used) * sp->csize
					 : chunksize(mem2chunk(sp));
	}
	if (a->top) {
		s->top = chunksize(a->top);
		s->nfree++;
		s->free += s->top;
		if (s->top > s->largest)
			s->largest = s->top;
	}
}

#define FOR_EACH_ARENA(a) \
	for (struct mm_arena *a = &mm_main_arena; a; a = __atomic_load_n(&a->next, __ATOMIC_ACQUIRE))

struct mallinfo2 mmalloc_mallinfo2(void)
{
	mm_ensure_init();
	struct mallinfo2 mi;
	memset(&mi, 0, sizeof(mi));
	FOR_EACH_ARENA(a) {
		struct arena_sum s;
		mm_lock(a);
		sum_arena(a, &s);
		mm_unlock(a);
		mi.arena += s.system;
		mi.ordblks += s.nfree;
		mi.smblks += s.nfast;
		mi.fsmblks += s.fast;
		mi.fordblks += s.free + s.fast + s.slab_free;
		if (a->is_main)
			mi.keepcost = s.top;
	}
	mi.uordblks = mi.arena - mi.fordblks;
	mi.hblks = __atomic_load_n(&mm_mp.n_mmaps, __ATOMIC_RELAXED);
	mi.hblkhd = __atomic_load_n(&mm_mp.mmapped_mem, __ATOMIC_RELAXED);
	mi.usmblks = 0;
	return mi;
}

struct mallinfo mmalloc_mallinfo(void)
{
	struct mallinfo2 m2 = mmalloc_mallinfo2();
	struct mallinfo m;
	m.arena = (int)m2.arena;
	m.ordblks = (int)m2.ordblks;
	m.smblks = (int)m2.smblks;
	m.hblks = (int)m2.hblks;
	m.hblkhd = (int)m2.hblkhd;
	m.usmblks = (int)m2.usmblks;
	m.fsmblks = (int)m2.fsmblks;
	m.uordblks = (int)m2.uordblks;
	m.fordblks = (int)m2.fordblks;
	m.keepcost = (int)m2.keepcost;
	return m;
}

/* ---- malloc_stats: glibc's layout on stderr ---- */

static void line(char *buf, size_t cap, size_t *pos, const char *label, uint64_t v)
{
	mm_fmt_str(buf, cap, pos, label);
	mm_fmt_upad(buf, cap, pos, v, 10);
	mm_fmt_str(buf, cap, pos, "\n");
}

void mmalloc_stats(void)
{
	mm_ensure_init();
	char buf[512];
	size_t total_system = 0, total_inuse = 0;
	FOR_EACH_ARENA(a) {
		struct arena_sum s;
		mm_lock(a);
		sum_arena(a, &s);
		mm_unlock(a);
		size_t pos = 0;
		mm_fmt_str(buf, sizeof(buf), &pos, "Arena ");
		mm_fmt_u(buf, sizeof(buf), &pos, (uint64_t)a->index);
		mm_fmt_str(buf, sizeof(buf), &pos, ":\n");
		line(buf, sizeof(buf), &pos, "system bytes     = ", s.system);
		size_t inuse = s.system - s.free - s.fast - s.slab_free;
		line(buf, sizeof(buf), &pos, "in use bytes     = ", inuse);
		mm_os_write_err(buf, pos);
		total_system += s.system;
		total_inuse += inuse;
	}
	size_t mm = __atomic_load_n(&mm_mp.mmapped_mem, __ATOMIC_RELAXED);
	size_t pos = 0;
	mm_fmt_str(buf, sizeof(buf), &pos, "Total (incl. mmap):\n");
	line(buf, sizeof(buf), &pos, "system bytes     = ", total_system + mm);
	line(buf, sizeof(buf), &pos, "in use bytes     = ", total_inuse + mm);
	line(buf, sizeof(buf), &pos, "max mmap regions = ",
	     __atomic_load_n(&mm_mp.max_n_mmaps, __ATOMIC_RELAXED));
	line(buf, sizeof(buf), &pos, "max mmap bytes   = ",
	     __atomic_load_n(&mm_mp.max_mmapped_mem, __ATOMIC_RELAXED));
	mm_os_write_err(buf, pos);
}

/* ---- malloc_info: glibc's XML ---- */

/* Per-bin size summary of one arena, gathered under its lock and printed
 * after it is dropped: fprintf may allocate (a memstream grows with
 * realloc), and that must not find the arena locked. */
struct bin_line {
	size_t from, to, total, count;
	int unsorted;
};
#define INFO_LINES (NFASTBINS + NBINS)

static size_t info_sizes(struct mm_arena *a, struct bin_line *out)
{
	size_t k = 0;
	for (unsigned i = 0; i < NFASTBINS; i++) {
		size_t n = 0, tot = 0;
		for (struct mchunk *p = a->fastbins[i]; p; p = (struct mchunk *)(void *)p->link.fd) {
			n++;
			tot += chunksize(p);
		}
		if (n)
			out[k++] = (struct bin_line){ (size_t)(i + 1) * MALLOC_ALIGN + 1,
						      (size_t)(i + 2) * MALLOC_ALIGN, tot, n, 0 };
	}
	for (unsigned i = 2; i < NBINS; i++) {
		struct mlink *b = bin_at(a, i);
		size_t n = 0, tot = 0, lo = SIZE_MAX, hi = 0;
		for (struct mlink *l = b->fd; l != b; l = l->fd) {
			size_t sz = chunksize(link2chunk(l));
			n++;
			tot += sz;
			lo = sz < lo ? sz : lo;
			hi = sz > hi ? sz : hi;
		}
		if (n)
			out[k++] = (struct bin_line){ lo, hi, tot, n, 0 };
	}
	/* glibc lists the unsorted bin last, with its smallest and largest
	 * chunk (glibc's numbers include the chunk's flag bits: one more) */
	struct mlink *u = bin_at(a, UNSORTED);
	size_t n = 0, tot = 0, lo = SIZE_MAX, hi = 0;
	for (struct mlink *l = u->fd; l != u; l = l->fd) {
		size_t sz = chunksize(link2chunk(l));
		n++;
		tot += sz;
		lo = sz < lo ? sz : lo;
		hi = sz > hi ? sz : hi;
	}
	if (n)
		out[k++] = (struct bin_line){ lo, hi, tot, n, 1 };
	return k;
}

/* A thread arena's heaps: bytes in use, bytes made read-write and how
 * many (glibc's <aspace> total, mprotect and subheaps). Lock held. */
static void info_heaps(struct mm_arena *a, size_t *size, size_t *mprot, size_t *count)
{
	*size = *mprot = *count = 0;
	for (struct mm_heap *h = a->heap; h; h = h->prev) {
		*size += h->size;
		*mprot += h->mprotect_size;
		(*count)++;
	}
}

int mmalloc_info(int options, FILE *fp)
{
	if (options != 0)
		return EINVAL;   /* glibc 2.36: the error as the result, errno untouched */
	mm_ensure_init();
	size_t t_nfast = 0, t_fast = 0, t_nrest = 0, t_rest = 0, t_sys = 0, t_max = 0;
	size_t t_aspace = 0, t_mprot = 0;
	struct bin_line lines[INFO_LINES];
	fputs("<malloc version=\"1\">\n", fp);
	FOR_EACH_ARENA(a) {
		struct arena_sum s;
		mm_lock(a);
		sum_arena(a, &s);
		size_t nl = info_sizes(a, lines);
		size_t hsize = s.system, hmprot = s.system, hcount = 0;
		if (!a->is_main)
			info_heaps(a, &hsize, &hmprot, &hcount);
		mm_unlock(a);
		fprintf(fp, "<heap nr=\"%d\">\n<sizes>\n", a->index);
		for (size_t k = 0; k < nl; k++)
			fprintf(fp, "  <%s from=\"%zu\" to=\"%zu\" total=\"%zu\" count=\"%zu\"/>\n",
				lines[k].unsorted ? "unsorted" : "size", lines[k].from, lines[k].to,
				lines[k].total, lines[k].count);
		/* glibc counts the top chunk with the rest */
		size_t nrest = s.nfree, rest = s.free;
		fprintf(fp, "</sizes>\n<total type=\"fast\" count=\"%zu\" size=\"%zu\"/>\n",
			s.nfast, s.fast);
		fprintf(fp, "<total type=\"rest\" count=\"%zu\" size=\"%zu\"/>\n", nrest, rest);
		fprintf(fp, "<system type=\"current\" size=\"%zu\"/>\n", s.system);
		fprintf(fp, "<system type=\"max\" size=\"%zu\"/>\n", s.max_system);
		fprintf(fp, "<aspace type=\"total\" size=\"%zu\"/>\n", hsize);
		fprintf(fp, "<aspace type=\"mprotect\" size=\"%zu\"/>\n", hmprot);
		if (!a->is_main)
			fprintf(fp, "<aspace type=\"subheaps\" size=\"%zu\"/>\n", hcount);
		fputs("</heap>\n", fp);
		t_nfast += s.nfast;
		t_fast += s.fast;
		t_nrest += nrest;
		t_rest += rest;
		t_sys += s.system;
		t_max += s.max_system;
		t_aspace += hsize;
		t_mprot += hmprot;
	}
	fprintf(fp, "<total type=\"fast\" count=\"%zu\" size=\"%zu\"/>\n", t_nfast, t_fast);
	fprintf(fp, "<total type=\"rest\" count=\"%zu\" size=\"%zu\"/>\n", t_nrest, t_rest);
	fprintf(fp, "<total type=\"mmap\" count=\"%zu\" size=\"%zu\"/>\n",
		__atomic_load_n(&mm_mp.n_mmaps, __ATOMIC_RELAXED),
		__atomic_load_n(&mm_mp.mmapped_mem, __ATOMIC_RELAXED));
	fprintf(fp, "<system type=\"current\" size=\"%zu\"/>\n", t_sys);
	fprintf(fp, "<system type=\"max\" size=\"%zu\"/>\n", t_max);
	fprintf(fp, "<aspace type=\"total\" size=\"%zu\"/>\n", t_aspace);
	fprintf(fp, "<aspace type=\"mprotect\" size=\"%zu\"/>\n", t_mprot);
	fputs("</malloc>\n", fp);
	return 0;
}

/* ---- MMALLOC_STATS=1: the report at exit ---- */

static void kv(const char *label, uint64_t v)
{
	char buf[160];
	size_t pos = 0;
	mm_fmt_str(buf, sizeof(buf), &pos, label);
	mm_fmt_upad(buf, sizeof(buf), &pos, v, 14);
	mm_fmt_str(buf, sizeof(buf), &pos, "\n");
	mm_os_write_err(buf, pos);
}

static void kv_pct(const char *label, uint64_t num, uint64_t den)
{
	char buf[160];
	size_t pos = 0;
	uint64_t tenths = den ? (num * 1000 + den / 2) / den : 0;
	mm_fmt_str(buf, sizeof(buf), &pos, label);
	mm_fmt_upad(buf, sizeof(buf), &pos, tenths / 10, 12);
	mm_fmt_str(buf, sizeof(buf), &pos, ".");
	mm_fmt_u(buf, sizeof(buf), &pos, tenths % 10);
	mm_fmt_str(buf, sizeof(buf), &pos, "%\n");
	mm_os_write_err(buf, pos);
}

/* Allocation totals for internal fragmentation (relaxed atomics). */
uint64_t mm_req_bytes, mm_chunk_bytes;

void mm_stats_at_exit(void)
{
	struct mmalloc_os_counters oc;
	mmalloc_os_counters(&oc);
	struct arena_sum t;
	memset(&t, 0, sizeof(t));
	size_t narenas = 0;
	FOR_EACH_ARENA(a) {
		struct arena_sum s;
		mm_lock(a);
		sum_arena(a, &s);
		mm_unlock(a);
		narenas++;
		t.system += s.system;
		t.nfast += s.nfast;
		t.fast += s.fast;
		t.unsorted += s.unsorted;
		t.small += s.small;
		t.large += s.large;
		t.top += s.top;
		t.free += s.free;
		t.slab_free += s.slab_free;
		t.slab_spans += s.slab_spans;
		if (s.largest > t.largest)
			t.largest = s.largest;
	}
	size_t tc = 0;
	for (unsigned i = 0; i < TC_NBINS; i++)
		tc += (size_t)mm_tc.count[i] * (i + 2) * MALLOC_ALIGN;
	tc += mm_tc.mbytes;
	static const char hdr[] = "==mmalloc== statistics at exit\n";
	mm_os_write_err(hdr, sizeof(hdr) - 1);
	kv("arenas                    ", narenas);
	kv("brk calls                 ", oc.brk_calls);
	kv("mmap calls                ", oc.mmap_calls);
	kv("munmap calls              ", oc.munmap_calls);
	kv("mremap calls              ", oc.mremap_calls);
	kv("mprotect calls            ", oc.mprotect_calls);
	kv("madvise calls             ", oc.madvise_calls);
	kv("bytes trimmed             ", oc.bytes_trimmed);
	kv("system bytes (arenas)     ", t.system);
	kv("mmapped chunk bytes       ", __atomic_load_n(&mm_mp.mmapped_mem, __ATOMIC_RELAXED));
	kv("bytes in fast bins        ", t.fast);
	kv("bytes in unsorted bin     ", t.unsorted);
	kv("bytes in small bins       ", t.small);
	kv("bytes in large bins       ", t.large);
	kv("bytes in top chunks       ", t.top);
	kv("slab spans                ", t.slab_spans);
	kv("bytes free in slab spans  ", t.slab_free);
	kv("bytes in this thread cache", tc);
	uint64_t req = __atomic_load_n(&mm_req_bytes, __ATOMIC_RELAXED);
	uint64_t chk = __atomic_load_n(&mm_chunk_bytes, __ATOMIC_RELAXED);
	kv_pct("internal fragmentation    ", chk - req, chk);
	size_t free_total = t.free + t.slab_free;
	kv_pct("external fragmentation    ", free_total - t.largest, free_total);
}

__attribute__((destructor)) static void stats_destructor(void)
{
	mm_ensure_init();   /* a program may never have allocated */
	if (mm_stats_requested)
		mm_stats_at_exit();
}
