/* scenario_internal.h — the parsed form of a scenario, shared by the parser
 * (scenario_parse.c), the interpreter (scenario_run.c) and the views and
 * counter lookups (scenario_view.c).
 *
 * A script is a list of statements; `repeat` holds a list of its own.
 * Every node, string and list lives in one arena owned by the script, so a
 * parse error frees everything at once and nothing is freed piecemeal.
 */
#ifndef MMSIM_SCENARIO_INTERNAL_H
#define MMSIM_SCENARIO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenario.h"

struct mm_machine;
struct mm_task;

/* ---- Arena -------------------------------------------------------------- */

struct sc_chunk {
	struct sc_chunk *next;
	size_t used, cap;
	max_align_t data[]; /* cap bytes */
};

struct sc_arena {
	struct sc_chunk *head;
	size_t total;       /* bytes allocated, for the cap */
};

/* Zeroed memory, NULL when the host is out of memory. */
void *sc_alloc(struct sc_arena *a, size_t n);
char *sc_strndup(struct sc_arena *a, const char *s, size_t n);
void sc_arena_free(struct sc_arena *a);

/* ---- Expressions -------------------------------------------------------- */

enum sc_ex_op {
	EX_NUM,     /* num */
	EX_VAR,     /* $name */
	EX_CTR,     /* a counter of the process (name: another process's, or
		     * NULL): num = enum sc_ctr; EX_PID and EX_OOM also take name */
	EX_MCTR,    /* machine.X: num = enum sc_ctr */
	EX_TLB,     /* tlb.X: num = enum sc_tlbstat */
	EX_VIEW,    /* meminfo.Row / vmstat.row / status.Row: name = view, field */
	EX_PID,     /* pid of the process */
	EX_OOM,     /* oom_score (num 0), oom_score_adj (1), killed (2), frames (3) of
		     * the process */
	EX_SWAP,    /* swap.X: num = enum sc_swapstat */
	EX_RECLAIM, /* reclaim.X: num = enum sc_rstat */
	EX_JIFFIES, /* the simulated clock */
	EX_NEG, EX_ADD, EX_SUB, EX_MUL, EX_DIV, EX_MOD,
	EX_READ,    /* read ADDR: width bytes, little-endian */
};

struct sc_expr {
	enum sc_ex_op op;
	int col;
	unsigned int width;       /* EX_READ: 1, 2, 4 or 8 */
	int64_t num;
	const char *name, *field;
	struct sc_expr *a, *b;
};

/* Per-process counters (struct mm_counters) as the language names them. */
enum sc_ctr {
	CTR_ACCESSES, CTR_DTLB_HITS, CTR_ITLB_HITS, CTR_STLB_HITS, CTR_TLB_MISSES, CTR_WALK_REFS,
	CTR_DIRTY_WALKS, CTR_MINFLT, CTR_MAJFLT, CTR_COW_COPIES, CTR_COW_REUSES, CTR_ZERO_MAPS,
	CTR_SEGV, CTR_TLB_FLUSHES, CTR_TLB_HITS, CTR_FAULTS, SC_NCTR,
};
extern const char *const sc_ctr_names[SC_NCTR];

enum sc_tlbstat {
	TLB_CR3_LOADS, TLB_FULL_FLUSHES, TLB_PCID_FLUSHES, TLB_INVLPG, TLB_GLOBAL_FLUSHES,
	TLB_SHOOTDOWNS, SC_NTLBSTAT,
};
extern const char *const sc_tlbstat_names[SC_NTLBSTAT];

enum sc_swapstat {
	SW_TOTAL, SW_FREE, SW_USED, SW_CACHED, SW_PSWPIN, SW_PSWPOUT, SW_WRITE_ERRORS,
	SW_FULL_EVENTS, SC_NSWAPSTAT,
};
extern const char *const sc_swapstat_names[SC_NSWAPSTAT];

enum sc_rstat {
	RS_PGSCAN_KSWAPD, RS_PGSCAN_DIRECT, RS_PGSTEAL_KSWAPD, RS_PGSTEAL_DIRECT, RS_PGSTEAL_FILE,
	RS_PGSTEAL_ANON, RS_PGACTIVATE, RS_PGDEACTIVATE, RS_PGROTATED, RS_PAGEOUTRUN,
	RS_ALLOCSTALL, RS_KSWAPD_WAKEUPS, RS_FILE_WRITEBACK, RS_FLUSHER_WRITEBACK,
	RS_LOCAL_RECLAIMS, RS_SLAB_SHRINKS, RS_NR_ACTIVE_ANON, RS_NR_INACTIVE_ANON,
	RS_NR_ACTIVE_FILE, RS_NR_INACTIVE_FILE, RS_NR_UNEVICTABLE, RS_KSWAPD_AWAKE, SC_NRSTAT,
};
extern const char *const sc_rstat_names[SC_NRSTAT];

/* ---- Statements --------------------------------------------------------- */

enum sc_kind {
	ST_MACHINE, ST_PROCESS, ST_SPAWN, ST_SWITCH, ST_FORK, ST_EXEC, ST_EXIT,
	ST_MMAP, ST_MUNMAP, ST_MPROTECT, ST_BRK, ST_SBRK, ST_MADVISE, ST_MSYNC,
	ST_OPEN, ST_CLOSE, ST_SHMGET, ST_SHMAT, ST_SHMDT, ST_SHMRM, ST_DROP_CACHES,
	ST_TMPFILE, ST_ACCESS, ST_FILL, ST_REPEAT, ST_TICK, ST_SHOW, ST_EXPECT, ST_CHECK,
	ST_LET, ST_PARAM, ST_ECHO, ST_SECTION, ST_STRACE, ST_OOM_ADJ, ST_RECLAIM, ST_SYNC,
	ST_FRAME_LIMIT, ST_SWAP_FAIL,
};

/* Access patterns. */
enum sc_pattern { PAT_ONE, PAT_SEQ, PAT_RANDOM, PAT_ZIPF };

/* Comparison operators of expect. */
enum sc_cmp { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE };

/* A key=value of `machine` (value an expression or a word). */
struct sc_kv {
	const char *key;
	int col;
	struct sc_expr *e;
	const char *word;
	struct sc_kv *next;
};

/* A piece of echo text: literal text, or a $(EXPR) to print in decimal. */
struct sc_seg {
	const char *text;
	int col;                   /* the text's column in its line */
	struct sc_expr *e;
	struct sc_seg *next;
};

struct sc_stmt {
	enum sc_kind kind;
	int file;                  /* index into the script's file names */
	int line, col;
	const char *proc;          /* @NAME: the process for this statement */
	const char *var;           /* NAME = ... : where the result goes */
	int var_col;
	bool try_;                 /* try: a failure sets $errno and goes on */
	const char *name;          /* process, tmpfile, view, variable name; text */
	const char *path;          /* file path */
	const char **argv;         /* spawn/exec arguments (argv[0] = path) */
	int argc;
	struct sc_expr *a[4];      /* positional operands */
	struct sc_expr *count, *step, *size, *seed, *value, *addr, *offset, *fill;
	double alpha;              /* zipf exponent */
	int prot, flags, advice, shmflg;
	int access;                /* enum mm_access_kind */
	int pattern;               /* enum sc_pattern */
	int cmp;                   /* enum sc_cmp */
	bool on;                   /* strace on/off; shmget private key */
	const uint8_t *data;       /* write "string" */
	size_t datalen;
	const char *text;          /* expect: the source; section: the title */
	struct sc_seg *segs;       /* echo: the text and its $(EXPR)s */
	struct sc_kv *kv;          /* machine options */
	struct sc_stmt *body;      /* repeat */
	struct sc_stmt *next;
};

struct sc_script {
	struct sc_arena arena;
	const char **files;        /* names of the files read (includes) */
	int nfiles, capfiles;
	struct sc_stmt *first;
	struct sc_limits lim;
};

/* ---- Views and lookups (scenario_view.c) -------------------------------- */

/* The text of a view into a malloc'ed string (NULL: no memory). t may be
 * NULL for machine-wide views. Returns NULL also when the view is unknown. */
char *sc_view_text(struct mm_machine *m, struct mm_task *t, const char *view, uint64_t arg);

/* Is name a view show accepts? Does it need a process? An argument? */
bool sc_view_known(const char *view, bool *per_process, bool *takes_addr);
extern const char *const sc_view_names[];
extern const size_t sc_nviews;

/* The number on the row `field` of a view's text ("MemFree:  123 kB" ->
 * 123; "pgfault 5" -> 5). 0 and *v, or -1 when there is no such row. */
int sc_view_field(const char *text, const char *field, int64_t *v);

/* The shell line that prints a view ("$ cat /proc/1/maps"). */
void sc_view_prompt(char *buf, size_t len, const char *view, int pid, uint64_t arg);

#endif /* MMSIM_SCENARIO_INTERNAL_H */
