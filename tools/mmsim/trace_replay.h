/* trace_replay.h — `mmsim trace`: a trace replayed through the simulated
 * machine (trace_replay.c), and its report (trace_report.c).
 *
 * One process of one machine executes the trace's accesses. Its VMAs come
 * from the trace's mapping system calls (lackey with --trace-syscalls=yes),
 * from the accesses themselves (automatic VMAs: a page is mapped when it is
 * first touched outside every VMA), or, for traces of ids, from one
 * anonymous region where the k-th distinct id is the k-th page.
 */
#ifndef MMSIM_TRACE_REPLAY_H
#define MMSIM_TRACE_REPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "mmkit/sim.h"
#include "mmkit/trace.h"

/* Where the VMAs come from (--vma). */
enum vma_mode {
	VMA_AUTO,      /* system calls when the trace has them, automatic VMAs for
			* every other page touched (default) */
	VMA_SYSCALLS,  /* only the system calls: other accesses are SIGSEGV */
	VMA_TOUCH,     /* only automatic VMAs: system calls are passed over */
	VMA_REGION,    /* every address or id is a page of one anonymous region */
};

/* One timeline sample (--timeline N). Memory in pages. */
struct tl_sample {
	uint64_t accesses;       /* trace accesses so far */
	uint64_t free_pages;     /* MemFree */
	uint64_t rss_pages;      /* VmRSS of the process */
	uint64_t swap_pages;     /* VmSwap of the process */
	uint64_t pgtable_pages;  /* VmPTE */
	uint64_t min_flt, maj_flt;
	uint64_t tlb_misses;
	uint64_t pswpin, pswpout; /* pages read from / written to swap */
};

/* Counts of what the replay did with the records. */
struct replay_stats {
	uint64_t records;        /* records read */
	uint64_t accesses;       /* access records (I, L, S, M; ids; addresses) */
	uint64_t reads, writes, modifies, ifetches;
	uint64_t deletes;        /* csv deletes: passed over */
	uint64_t syscalls;       /* mapping system call records */
	uint64_t sys_applied;    /* ... applied to the process */
	uint64_t sys_failed_in_trace; /* ... that had failed in the trace (nothing to do) */
	uint64_t sys_rejected;   /* ... the machine refused (first message kept) */
	uint64_t sys_file_anon;  /* file mappings made anonymous (no file in a trace) */
	uint64_t sys_noreserve;  /* mappings over the commit limit made MAP_NORESERVE */
	uint64_t sys_huge_small; /* MAP_HUGETLB mappings made of small pages (no pool) */
	uint64_t auto_vmas;      /* pages mapped automatically */
	uint64_t widened;        /* automatic pages whose protection was widened */
	uint64_t segv, sigbus;   /* accesses that raised a signal (and were passed over) */
	uint64_t distinct_ids;   /* id traces: pages of the region used */
	uint64_t too_big;        /* accesses larger than the access limit (skipped) */
	bool oom;                /* the replay stopped: out of simulated memory */
	uint64_t oom_line;
	char first_signal[160];  /* the first SIGSEGV/SIGBUS, described */
	char first_reject[200];  /* the first system call the machine refused */
};

struct u64set;

struct replay {
	struct mm_machine *m;
	struct mm_task *t;
	enum vma_mode mode;
	bool syscalls_seen;
	bool have_brk;           /* the heap start was set from the first brk */
	uint64_t region_base, region_pages; /* VMA_REGION (or an id trace) */
	struct u64set *auto_pages; /* pages mapped automatically (VMA_AUTO, VMA_TOUCH) */
	struct u64set *ids;      /* id -> its page's index in the region */
	struct replay_stats st;
	/* timeline */
	uint64_t every;          /* 0: none */
	uint64_t next_sample;    /* accesses at the next sample (UINT64_MAX: none) */
	uint64_t next_clock;     /* accesses at the next look at the clock */
	uint64_t next_event;     /* the smaller of the two */
	uint64_t ticks;          /* clock ticks given to the machine (mm_machine_tick) */
	struct tl_sample *tl;
	size_t ntl, tlcap;
	FILE *tl_csv;            /* samples are also written here as they come, or NULL */
	const char *cmd;
	uint8_t *wbuf;           /* bytes stores write */
	uint8_t *rbuf;           /* bytes loads read */
};

/* Boot the process (and, in region mode or for an id trace, map the
 * region). 0, or an exit code after a message. */
int replay_init(struct replay *r, struct mm_machine *m, const char *comm, enum vma_mode mode,
		bool ids);
void replay_free(struct replay *r);

struct progress;

/* Replay the trace, up to limit access records (0: all), taking timeline
 * samples and updating the progress line. 0, or an exit code after a
 * message (the reader's FILE:LINE:COL for bad input). Running out of
 * simulated memory is not an error: st.oom is set and the replay stops. */
int replay_run(struct replay *r, struct mm_trace *tr, uint64_t limit, struct progress *prog);

/* Take a timeline sample now (also called at the end). 0 or EXIT_NOMEM /
 * EXIT_IO. */
int replay_sample(struct replay *r);

/* Give the machine the clock ticks (1/hz s) that the process's time by the
 * cost model has reached since the last call (kswapd, the flusher, the
 * policies' clock run then). */
void replay_clock(struct replay *r);

/* The CSV header of the timeline, and one row. */
void timeline_csv_header(FILE *f);
void timeline_csv_row(FILE *f, const struct tl_sample *s);

#endif /* MMSIM_TRACE_REPLAY_H */
