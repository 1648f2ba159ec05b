/* reclaim_internal.h — the swap device (swap.c) and the reclaim layer
 * (reclaim.c) of the simulated machine, private to those two files.
 *
 * Ownership: the machine owns one sim_swap (with swap on) and one
 * sim_reclaim (unless no_reclaim); both live in host memory (Linux keeps
 * swap_map and the LRU links in kernel memory; mmsim does not charge them
 * to simulated RAM). Single-threaded like the rest of the machine.
 */
#ifndef MMKIT_SIM_RECLAIM_INTERNAL_H
#define MMKIT_SIM_RECLAIM_INTERNAL_H

#include <limits.h>

#include "mmkit/policy.h"
#include "sim_internal.h"

/* ---- swap.c ------------------------------------------------------------------- */

/* One swap area (Linux's swap_info_struct), type 0, on a host file.
 * Invariants (sim_swap_check): slot 0 is the header, never allocated;
 * count[s] = PTEs holding the entry of slot s (Linux's swap_map count);
 * cache[s] = the swap-cache page of slot s or NULL (SWAP_HAS_CACHE); a
 * slot is free iff count == 0 and cache == NULL; nr_free = free slots
 * among 1 .. nslots-1; a swap-cache page has MM_PG_SWAPCACHE, private = its
 * slot, one reference for the cache, and is never mapped writable (its
 * bytes equal the slot's); it is never left with no mapping and a zero
 * count (it is freed at once: see sim_swap_page_unmapped). */
struct sim_swap {
	int fd;                      /* the host file */
	char path[PATH_MAX];
	bool keep;                   /* leave the file at destroy */
	bool unlinked;               /* a temporary file, unlinked at create */
	bool full_logged;            /* "swap full" logged since the last free slot */
	uint64_t nslots;             /* pages in the file, header included */
	uint32_t *count;             /* swap_map: references per slot */
	struct mm_page **cache;      /* swap cache: slot -> page */
	uint64_t nr_free;            /* SwapFree in pages */
	uint64_t cursor;             /* next-fit scan start */
	uint64_t nr_cache;           /* SwapCached */
	uint64_t fail_after;         /* writes that may still succeed */
	uint64_t pswpin, pswpout, write_errors, full_events;
	uint64_t rl_begin, rl_printed, rl_missed; /* write-error message ratelimit
						   * (rl_begin: ns, the kernel log's clock) */
};

/* The swap entry of slot s as a PTE value. */
uint64_t sim_swap_pte(struct mm_machine *m, uint64_t slot);
/* A free slot with a count of 0, reserved for the caller (it must add a
 * page to the cache or free it again); 0 when swap is off or full. */
uint64_t sim_swap_alloc_slot(struct mm_machine *m);
void sim_swap_free_slot(struct mm_machine *m, uint64_t slot);
/* Write the page's bytes to its slot (fault injection applies). 0 or
 * -MM_EIO (logged, counted). */
int sim_swap_writepage(struct mm_machine *m, struct mm_page *page, uint64_t slot);
/* add_to_swap_cache / delete_from_swap_cache: the cache's reference is
 * taken / dropped (the caller holds one of its own across the delete). */
void sim_swap_cache_add(struct mm_machine *m, struct mm_page *page, uint64_t slot);
void sim_swap_cache_delete(struct mm_machine *m, struct mm_page *page);
/* Shmem page idx of map now lives in slot (count 1: the mapping's); 0 or
 * -MM_ENOMEM (nothing changed). */
int sim_swap_shmem_store(struct mm_machine *m, struct sim_mapping *map, uint64_t idx, uint64_t slot);

/* ---- reclaim.c ---------------------------------------------------------------- */

enum { SIM_LRU_ANON, SIM_LRU_FILE, SIM_NR_LRU };

/* One process's charge under local replacement: its frames are ranked on
 * lists of its own, so replacing its frames never disturbs the order of
 * anybody else's. */
struct sim_charge {
	int pid;                     /* 0: a free entry */
	uint64_t limit;              /* frames (0: none) */
	uint64_t frames;             /* charged now */
	struct mm_policy *lru[SIM_NR_LRU]; /* its anonymous and file lists */
};

/* The reclaim layer (Linux's lruvec + kswapd + the flusher).
 * Invariants (sim_reclaim_check): a user frame with MM_PG_LRU is in
 * exactly one policy instance — anonymous pages (swap cache included) on
 * an ANON list, file page-cache pages on a FILE list: the owner's lists
 * under local replacement (owner[pfn] = the pid charged for the frame),
 * else lru[] — and every evictable user frame has MM_PG_LRU except while
 * reclaim holds it isolated; shmem frames carry MM_PG_UNEVICTABLE instead
 * (nr_unevictable of them). */
struct sim_reclaim {
	struct mm_policy *lru[SIM_NR_LRU];
	struct mm_policy_host host;  /* the machine: PTE A/D bits */
	char spec[64];               /* the policy spec asked for */
	bool idealised;
	uint64_t nr_unevictable;
	uint64_t wmark[MM_NR_WMARK]; /* min/low/high summed over the zones */
	/* the simulated clock */
	uint64_t jiffies;
	uint64_t next_flush, next_policy_tick;
	uint64_t vtime;              /* the policies' virtual time (user accesses) */
	uint64_t inserts;            /* LRU insertions (refresh vtime every 32) */
	uint64_t next_use;           /* OPT's hint for the next access */
	uint64_t *next_use_of;       /* idealised policies: per pfn, the next use
				      * last given for the frame (OPT) */
	uint64_t *dirtied;           /* per pfn: jiffies + 1 when the flusher first
				      * saw it dirty (0: clean at its last look) */
	/* kswapd */
	bool kswapd_awake;
	int depth;                   /* reclaim running: no recursion */
	/* local replacement */
	int32_t *owner;              /* per pfn */
	struct sim_charge *charge;
	size_t nr_charge;
	struct mm_reclaim_stats st;
};

#endif /* MMKIT_SIM_RECLAIM_INTERNAL_H */
