/* scenario_sys.c — the statements that configure the machine, start and
 * end processes and make system calls. Each call is printed strace-style
 * when `strace on`; a failure stops the run unless the statement is a
 * `try`, which records $errno instead (scr_sys_result).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmkit/error.h"
#include "mmkit/rng.h"
#include "mmkit/sim.h"
#include "scenario_runner.h"

/* ---- machine ------------------------------------------------------------ */

static bool tlb_geom(struct run *r, const struct sc_kv *kv, struct mm_tlb_geometry *g)
{
	const char *w = kv->word;
	if (strcmp(w, "off") == 0 || strcmp(w, "0") == 0) {
		g->entries = 0;
		g->ways = 0;
		return true;
	}
	char *end;
	errno = 0;
	unsigned long e = strtoul(w, &end, 10), ways = e;
	if (*end == ':') {
		const char *s = end + 1;
		ways = strtoul(s, &end, 10);
		if (end == s)
			ways = 0;
	}
	if (errno || *end || e == 0 || e > 65536 || ways == 0 || ways > e)
		return scr_bad(r, kv->col, "%s=%s: expected ENTRIES[:WAYS] (e.g. 64:4) or off",
			       kv->key, w);
	g->entries = (unsigned)e;
	g->ways = (unsigned)ways;
	return true;
}

static bool on_off(struct run *r, const struct sc_kv *kv, bool *out)
{
	if (strcmp(kv->word, "on") == 0 || strcmp(kv->word, "1") == 0 ||
	    strcmp(kv->word, "yes") == 0) {
		*out = true;
		return true;
	}
	if (strcmp(kv->word, "off") == 0 || strcmp(kv->word, "0") == 0 ||
	    strcmp(kv->word, "no") == 0) {
		*out = false;
		return true;
	}
	return scr_bad(r, kv->col, "%s=%s: expected on or off", kv->key, kv->word);
}

bool scr_do_machine(struct run *r, const struct sc_stmt *st)
{
	if (r->m)
		return scr_bad(r, st->col,
			       "the machine is already running: 'machine' must come before "
			       "the first statement that uses it");
	struct mm_machine_config *c = &r->cfg;
	for (const struct sc_kv *kv = st->kv; kv; kv = kv->next) {
		int64_t v = 0;
		const char *k = kv->key;
		if (kv->e && !scr_eval(r, kv->e, &v))
			return false;
		if (kv->e && v < 0)
			return scr_bad(r, kv->col, "%s=%" PRId64 ": negative", k, v);
		if (strcmp(k, "ram") == 0) {
			if ((uint64_t)v > r->lim.max_ram)
				return scr_bad(r, kv->col,
					       "ram=%" PRId64 ": more than the %" PRIu64
					       " MiB allowed",
					       v, r->lim.max_ram >> 20);
			if (v < (4 << 20) || v % (4 << 20))
				return scr_bad(r, kv->col,
					       "ram=%" PRId64 ": must be a multiple of 4M", v);
			c->ram_bytes = (uint64_t)v;
		} else if (strcmp(k, "paging") == 0) {
			if (v != 2 && v != 4 && v != 5)
				return scr_bad(r, kv->col,
					       "paging=%" PRId64 ": expected 2, 4 or 5 levels", v);
			c->paging = (enum mm_paging_mode)v;
		} else if (strcmp(k, "pcid") == 0) {
			if (!on_off(r, kv, &c->pcid))
				return false;
		} else if (strcmp(k, "zones") == 0) {
			if (!on_off(r, kv, &c->zones))
				return false;
		} else if (strcmp(k, "gbpages") == 0) {
			if (!on_off(r, kv, &c->gbpages))
				return false;
		} else if (strcmp(k, "dtlb") == 0) {
			if (!tlb_geom(r, kv, &c->dtlb_4k))
				return false;
		} else if (strcmp(k, "dtlb_large") == 0) {
			if (!tlb_geom(r, kv, &c->dtlb_large))
				return false;
		} else if (strcmp(k, "dtlb_1g") == 0) {
			if (!tlb_geom(r, kv, &c->dtlb_1g))
				return false;
		} else if (strcmp(k, "itlb") == 0) {
			if (!tlb_geom(r, kv, &c->itlb_4k))
				return false;
		} else if (strcmp(k, "itlb_large") == 0) {
			if (!tlb_geom(r, kv, &c->itlb_large))
				return false;
		} else if (strcmp(k, "stlb") == 0) {
			if (!tlb_geom(r, kv, &c->stlb))
				return false;
		} else if (strcmp(k, "tlb_ns") == 0) {
			c->lat.tlb_ns = (double)v;
		} else if (strcmp(k, "mem_ns") == 0) {
			c->lat.mem_ns = (double)v;
		} else if (strcmp(k, "disk_ns") == 0) {
			c->lat.disk_ns = (double)v;
		} else if (strcmp(k, "fault_ns") == 0) {
			c->lat.fault_ns = (double)v;
		} else if (strcmp(k, "stack_rlimit") == 0) {
			c->stack_rlimit = (uint64_t)v;
		} else if (strcmp(k, "stack_guard_gap") == 0) {
			c->stack_guard_gap = (uint64_t)v;
		} else if (strcmp(k, "mmap_min_addr") == 0) {
			c->mmap_min_addr = (uint64_t)v;
		} else if (strcmp(k, "reserve") == 0) {
			c->reserve_bytes = (uint64_t)v;
		} else if (strcmp(k, "swap") == 0) {
			if ((uint64_t)v > r->lim.max_swap)
				return scr_bad(r, kv->col,
					       "swap=%" PRId64 ": more than the %" PRIu64
					       " MiB allowed",
					       v, r->lim.max_swap >> 20);
			if (v && (v % 4096 || v < 2 * 4096))
				return scr_bad(r, kv->col,
					       "swap=%" PRId64 ": a multiple of 4K, at least 8K "
					       "(one header page and one slot), or 0",
					       v);
			c->swap_bytes = (uint64_t)v;
		} else if (strcmp(k, "swap_file") == 0) {
			if (!scr_files_allowed(r))
				return false;
			c->swap_path = scr_resolve(r, kv->word, r->swap_path, sizeof(r->swap_path));
			if (c->swap_path != r->swap_path) {
				snprintf(r->swap_path, sizeof(r->swap_path), "%s", c->swap_path);
				c->swap_path = r->swap_path;
			}
		} else if (strcmp(k, "reclaim") == 0) {
			bool on;
			if (!on_off(r, kv, &on))
				return false;
			c->no_reclaim = !on;
		} else if (strcmp(k, "policy") == 0) {
			c->reclaim_policy = kv->word;
		} else if (strcmp(k, "local") == 0) {
			if (!on_off(r, kv, &c->reclaim_local))
				return false;
		} else if (strcmp(k, "frame_limit") == 0) {
			c->frame_limit = (uint64_t)v;
		} else if (strcmp(k, "hz") == 0 || strcmp(k, "dirty_writeback") == 0 ||
			   strcmp(k, "dirty_expire") == 0 || strcmp(k, "policy_tick") == 0) {
			if (v > 1000000 || (k[0] == 'h' && v == 0))
				return scr_bad(r, kv->col,
					       "%s=%" PRId64 ": out of range (%s..1000000)", k, v,
					       k[0] == 'h' ? "1" : "0");
			unsigned int *f =
				k[0] == 'h'                         ? &c->hz
				: strcmp(k, "dirty_writeback") == 0 ? &c->dirty_writeback_centisecs
				: strcmp(k, "dirty_expire") == 0    ? &c->dirty_expire_centisecs
								    : &c->policy_tick_centisecs;
			*f = (unsigned int)v;
		} else if (strcmp(k, "nr_hugepages") == 0) {
			if (v > (int64_t)r->lim.max_hugepages)
				return scr_bad(r, kv->col, "nr_hugepages=%" PRId64 ": at most %u",
					       v, r->lim.max_hugepages);
			c->nr_hugepages = (unsigned)v;
		}
	}
	if (c->paging == MM_PAGING_2LEVEL && c->ram_bytes > ((uint64_t)4 << 30))
		return scr_bad(r, st->col, "paging=2 machines have at most 4G of RAM");
	uint64_t huge = (uint64_t)c->nr_hugepages << (c->paging == MM_PAGING_2LEVEL ? 22 : 21);
	if (huge >= c->ram_bytes)
		return scr_bad(r, st->col, "nr_hugepages=%u needs more RAM than the machine has",
			       c->nr_hugepages);
	if (c->reserve_bytes >= c->ram_bytes / 2)
		return scr_bad(r, st->col, "reserve= must be less than half of the RAM");
	return scr_boot(r);
}

/* ---- Processes ---------------------------------------------------------- */

bool scr_do_process(struct run *r, const struct sc_stmt *st)
{
	if (!scr_boot(r) || !scr_name_free(r, st->name))
		return false;
	int64_t sz[3] = { 64 << 10, 16 << 10, 16 << 10 };
	static const char *const what[3] = { "text", "data", "bss" };
	for (int i = 0; i < 3; i++)
		if (st->a[i] && !scr_eval_range(r, st->a[i], 0, (int64_t)1 << 40, what[i], &sz[i]))
			return false;
	struct mm_task *t;
	int rc = mm_task_create(r->m, st->name, &t);
	if (rc)
		return scr_refused(r, "cannot create process %s: %s", st->name, scr_strerror(rc));
	if (!st->on) {
		rc = mm_exec_synthetic(r->m, t, (uint64_t)sz[0], (uint64_t)sz[1], (uint64_t)sz[2]);
		if (rc) {
			mm_exit(r->m, t);
			return scr_refused(r, "cannot lay out process %s: %s", st->name,
					   scr_strerror(rc));
		}
	}
	if (!scr_proc_add(r, st->name, t)) {
		mm_exit(r->m, t);
		return false;
	}
	scr_strace_line(r, t, "started %s (pid %d)", st->name, mm_task_pid(t));
	return true;
}

bool scr_do_exec(struct run *r, const struct sc_stmt *st, struct mm_task *t)
{
	if (!scr_files_allowed(r))
		return false;
	char buf[4096];
	const char *path = scr_resolve(r, st->path, buf, sizeof(buf));
	const char *argv[65];
	for (int i = 0; i < st->argc && i < 64; i++)
		argv[i] = st->argv[i];
	argv[0] = path;
	argv[st->argc < 64 ? st->argc : 64] = NULL;
	static const char *const envp[] = { "PATH=/usr/bin:/bin", NULL };
	int rc = mm_execve(r->m, t, path, argv, envp);
	char eb[128];
	scr_strace_line(r, t, "execve(\"%s\", ...) = %s", path,
			rc ? scr_errtext(-rc, eb, sizeof(eb)) : "0");
	if (rc) {
		const char *why = mm_exec_error();
		if (rc == -MM_ENOMEM || rc == -MM_E2BIG) {
			/* past the point of no return: the process is gone, as Linux kills it */
			for (size_t i = 0; i < r->nprocs; i++)
				if (r->procs[i].t == t) {
					mm_exit(r->m, t);
					scr_proc_remove(r, (int)i);
					break;
				}
		}
		if (st->try_)
			return scr_var_set(r, "errno", -rc, false, false);
		return scr_refused(r, "exec %s: %s%s%s", path, scr_strerror(rc), why[0] ? ": " : "",
				   why);
	}
	return !st->try_ || scr_var_set(r, "errno", 0, false, false);
}

bool scr_do_spawn(struct run *r, const struct sc_stmt *st)
{
	if (!scr_files_allowed(r) || !scr_boot(r) || !scr_name_free(r, st->name))
		return false;
	struct mm_task *t;
	int rc = mm_task_create(r->m, st->name, &t);
	if (rc)
		return scr_refused(r, "cannot create process %s: %s", st->name, scr_strerror(rc));
	if (!scr_proc_add(r, st->name, t)) {
		mm_exit(r->m, t);
		return false;
	}
	size_t before = r->nprocs;
	if (!scr_do_exec(r, st, t)) {
		if (r->nprocs == before) { /* still there: the exec changed nothing */
			int i = scr_proc_find(r, st->name);
			if (i >= 0) {
				mm_exit(r->m, t);
				scr_proc_remove(r, i);
			}
		}
		return false;
	}
	return true;
}

bool scr_do_fork(struct run *r, const struct sc_stmt *st)
{
	struct mm_task *t = scr_task(r);
	if (!t || !scr_name_free(r, st->name))
		return false;
	struct mm_task *child;
	int rc = mm_fork(r->m, t, &child);
	char eb[128];
	if (rc) {
		scr_strace_line(r, t, "fork() = %s", scr_errtext(-rc, eb, sizeof(eb)));
		if (st->try_)
			return scr_var_set(r, "errno", -rc, false, false);
		return scr_refused(r, "fork failed: %s (%s)", mm_errname(-rc), scr_strerror(rc));
	}
	int cur = r->cur;
	if (!scr_proc_add(r, st->name, child)) {
		mm_exit(r->m, child);
		return false;
	}
	r->cur = cur; /* the parent stays current */
	scr_strace_line(r, t, "fork() = %d", mm_task_pid(child));
	return !st->try_ || scr_var_set(r, "errno", 0, false, false);
}

bool scr_do_exit(struct run *r, const struct sc_stmt *st)
{
	struct mm_task *t = scr_task_of(r, st->name ? st->name : st->proc);
	if (!t)
		return false;
	scr_strace_line(r, t, "exit_group(0) = ?");
	for (size_t i = 0; i < r->nprocs; i++) {
		if (r->procs[i].t == t) {
			scr_proc_remove(r, (int)i);
			break;
		}
	}
	mm_exit(r->m, t);
	return true;
}

/* ---- System calls ------------------------------------------------------- */

/* The result of a system call: a value (>= 0) or -errno. */
bool scr_sys_result(struct run *r, const struct sc_stmt *st, int64_t rc, bool hex, const char *name)
{
	if (rc < 0) {
		if (st->try_)
			return scr_var_set(r, "errno", -rc, false, false);
		return scr_refused(r, "%s failed: %s (%s)", name, mm_errname((int)-rc),
				   scr_strerror((int)-rc));
	}
	if (st->try_ && !scr_var_set(r, "errno", 0, false, false))
		return false;
	if (st->var)
		return scr_var_set(r, st->var, rc, hex, false);
	return true;
}

static void fmt_prot(char *buf, size_t len, int prot)
{
	if (!prot) {
		snprintf(buf, len, "PROT_NONE");
		return;
	}
	snprintf(buf, len, "%s%s%s%s%s", prot & MM_PROT_READ ? "PROT_READ" : "",
		 (prot & MM_PROT_READ) && (prot & (MM_PROT_WRITE | MM_PROT_EXEC)) ? "|" : "",
		 prot & MM_PROT_WRITE ? "PROT_WRITE" : "",
		 (prot & MM_PROT_WRITE) && (prot & MM_PROT_EXEC) ? "|" : "",
		 prot & MM_PROT_EXEC ? "PROT_EXEC" : "");
}

static void fmt_flags(char *buf, size_t len, int flags)
{
	static const struct {
		int v;
		const char *n;
	} names[] = {
		{ MM_MAP_FIXED, "MAP_FIXED" },
		{ MM_MAP_ANONYMOUS, "MAP_ANONYMOUS" },
		{ MM_MAP_GROWSDOWN, "MAP_GROWSDOWN" },
		{ MM_MAP_DENYWRITE, "MAP_DENYWRITE" },
		{ MM_MAP_EXECUTABLE, "MAP_EXECUTABLE" },
		{ MM_MAP_LOCKED, "MAP_LOCKED" },
		{ MM_MAP_NORESERVE, "MAP_NORESERVE" },
		{ MM_MAP_POPULATE, "MAP_POPULATE" },
		{ MM_MAP_NONBLOCK, "MAP_NONBLOCK" },
		{ MM_MAP_STACK, "MAP_STACK" },
		{ MM_MAP_HUGETLB, "MAP_HUGETLB" },
		{ MM_MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE" },
	};
	int type = flags & MM_MAP_TYPE;
	size_t n = (size_t)snprintf(buf, len, "%s",
				    type == MM_MAP_SHARED            ? "MAP_SHARED"
				    : type == MM_MAP_PRIVATE         ? "MAP_PRIVATE"
				    : type == MM_MAP_SHARED_VALIDATE ? "MAP_SHARED_VALIDATE"
								     : "0");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && n < len; i++)
		if (flags & names[i].v)
			n += (size_t)snprintf(buf + n, len - n, "|%s", names[i].n);
}

bool scr_do_mmap(struct run *r, const struct sc_stmt *st)
{
	struct mm_task *t = scr_task(r);
	if (!t)
		return false;
	int64_t len, addr = 0, off = 0, fd = -1;
	if (!scr_eval(r, st->a[0], &len) || (st->addr && !scr_eval(r, st->addr, &addr)) ||
	    (st->offset && !scr_eval(r, st->offset, &off)) ||
	    (st->a[1] && !scr_eval(r, st->a[1], &fd)))
		return false;
	bool own_fd = false;
	const char *path = NULL;
	char buf[4096];
	if (st->path) {
		if (!scr_files_allowed(r))
			return false;
		path = scr_resolve(r, st->path, buf, sizeof(buf));
		bool rw = (st->flags & MM_MAP_TYPE) != MM_MAP_PRIVATE && (st->prot & MM_PROT_WRITE);
		int rc = mm_open(r->m, t, path, rw ? MM_O_RDWR : MM_O_RDONLY);
		if (rc < 0)
			return scr_refused(r, "mmap: cannot open %s: %s", path, scr_strerror(rc));
		fd = rc;
		own_fd = true;
	}
	int64_t rc = mm_do_mmap(r->m, t, (uint64_t)addr, (uint64_t)len, st->prot, st->flags,
				(int)fd, (uint64_t)off);
	if (own_fd)
		mm_close(r->m, t, (int)fd);
	if (r->strace) {
		char p[64], f[256], res[128], a[32];
		fmt_prot(p, sizeof(p), st->prot);
		fmt_flags(f, sizeof(f), st->flags);
		if (addr)
			snprintf(a, sizeof(a), "%#" PRIx64, (uint64_t)addr);
		else
			snprintf(a, sizeof(a), "NULL");
		if (rc < 0)
			scr_errtext((int)-rc, res, sizeof(res));
		else
			snprintf(res, sizeof(res), "%#" PRIx64, (uint64_t)rc);
		scr_strace_line(r, t, "mmap(%s, %" PRIu64 ", %s, %s, %d, %#" PRIx64 ") = %s%s%s", a,
				(uint64_t)len, p, f, own_fd ? 3 : (int)fd, (uint64_t)off, res,
				path ? "  # " : "", path ? st->path : "");
	}
	return scr_sys_result(r, st, rc, true, "mmap");
}

bool scr_do_simple_sys(struct run *r, const struct sc_stmt *st)
{
	struct mm_task *t = scr_task(r);
	if (!t)
		return false;
	int64_t a = 0, b = 0, rc = 0;
	if ((st->a[0] && !scr_eval(r, st->a[0], &a)) || (st->a[1] && !scr_eval(r, st->a[1], &b)))
		return false;
	char res[128], p[64];
	uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
	switch (st->kind) {
	case ST_MUNMAP:
		rc = mm_do_munmap(r->m, t, ua, ub);
		scr_strace_line(r, t, "munmap(%#" PRIx64 ", %" PRIu64 ") = %s", ua, ub,
				rc ? scr_errtext((int)-rc, res, sizeof(res)) : "0");
		return scr_sys_result(r, st, rc, false, "munmap");
	case ST_MPROTECT:
		rc = mm_do_mprotect(r->m, t, ua, ub, st->prot);
		fmt_prot(p, sizeof(p), st->prot);
		scr_strace_line(r, t, "mprotect(%#" PRIx64 ", %" PRIu64 ", %s) = %s", ua, ub, p,
				rc ? scr_errtext((int)-rc, res, sizeof(res)) : "0");
		return scr_sys_result(r, st, rc, false, "mprotect");
	case ST_MADVISE:
		rc = mm_do_madvise(r->m, t, ua, ub, st->advice);
		scr_strace_line(r, t, "madvise(%#" PRIx64 ", %" PRIu64 ", %d) = %s", ua, ub,
				st->advice, rc ? scr_errtext((int)-rc, res, sizeof(res)) : "0");
		return scr_sys_result(r, st, rc, false, "madvise");
	case ST_MSYNC:
		rc = mm_do_msync(r->m, t, ua, ub, st->flags);
		scr_strace_line(r, t, "msync(%#" PRIx64 ", %" PRIu64 ", %s) = %s", ua, ub,
				st->flags == MM_MS_SYNC    ? "MS_SYNC"
				: st->flags == MM_MS_ASYNC ? "MS_ASYNC"
							   : "flags",
				rc ? scr_errtext((int)-rc, res, sizeof(res)) : "0");
		return scr_sys_result(r, st, rc, false, "msync");
	case ST_BRK: {
		uint64_t want = st->a[0] ? ua : 0;
		uint64_t got = mm_do_brk(r->m, t, want);
		scr_strace_line(r, t, "brk(%#" PRIx64 ") = %#" PRIx64, want, got);
		if (st->a[0] && got != want)
			return scr_sys_result(r, st, -MM_ENOMEM, true, "brk");
		return scr_sys_result(r, st, (int64_t)got, true, "brk");
	}
	case ST_SBRK:
		rc = mm_sbrk(r->m, t, a);
		scr_strace_line(
			r, t, "sbrk(%" PRId64 ") = %s", a,
			rc < 0 ? scr_errtext((int)-rc, res, sizeof(res))
			       : (snprintf(res, sizeof(res), "%#" PRIx64, (uint64_t)rc), res));
		return scr_sys_result(r, st, rc, true, "sbrk");
	case ST_CLOSE:
		if (a < 0 || a > INT32_MAX)
			return scr_sys_result(r, st, -MM_EBADF, false, "close");
		rc = mm_close(r->m, t, (int)a);
		scr_strace_line(r, t, "close(%d) = %s", (int)a,
				rc ? scr_errtext((int)-rc, res, sizeof(res)) : "0");
		return scr_sys_result(r, st, rc, false, "close");
	case ST_SHMDT:
		rc = mm_shmdt(r->m, t, ua);
		scr_strace_line(r, t, "shmdt(%#" PRIx64 ") = %s", ua,
				rc ? scr_errtext((int)-rc, res, sizeof(res)) : "0");
		return scr_sys_result(r, st, rc, false, "shmdt");
	case ST_SHMRM:
		if (a < 0 || a > INT32_MAX)
			return scr_sys_result(r, st, -MM_EINVAL, false, "shmctl");
		rc = mm_shmctl(r->m, t, (int)a, MM_IPC_RMID, NULL);
		scr_strace_line(r, t, "shmctl(%d, IPC_RMID, NULL) = %s", (int)a,
				rc ? scr_errtext((int)-rc, res, sizeof(res)) : "0");
		return scr_sys_result(r, st, rc, false, "shmctl");
	default:
		return scr_bad(r, st->col, "internal: not a simple system call");
	}
}

bool scr_do_open(struct run *r, const struct sc_stmt *st)
{
	struct mm_task *t = scr_task(r);
	if (!t || !scr_files_allowed(r))
		return false;
	char buf[4096], res[128];
	const char *path = scr_resolve(r, st->path, buf, sizeof(buf));
	int rc = mm_open(r->m, t, path, st->flags);
	scr_strace_line(r, t, "open(\"%s\", %s) = %s", st->path,
			st->flags == MM_O_RDWR ? "O_RDWR" : "O_RDONLY",
			rc < 0 ? scr_errtext(-rc, res, sizeof(res))
			       : (snprintf(res, sizeof(res), "%d", rc), res));
	return scr_sys_result(r, st, rc, false, "open");
}

bool scr_do_shm(struct run *r, const struct sc_stmt *st)
{
	struct mm_task *t = scr_task(r);
	if (!t)
		return false;
	char res[128];
	int64_t a = 0, b = 0;
	if ((st->a[0] && !scr_eval(r, st->a[0], &a)) || (st->a[1] && !scr_eval(r, st->a[1], &b)))
		return false;
	if (st->kind == ST_SHMGET) {
		if (!st->on && (a < 1 || a > INT32_MAX))
			return scr_bad(r, st->a[0]->col,
				       "shmget: key %" PRId64 " out of range "
				       "(1..2147483647, or private)",
				       a);
		int32_t key = st->on ? MM_IPC_PRIVATE : (int32_t)a;
		int rc = mm_shmget(r->m, t, key, (uint64_t)b, st->shmflg | 0600);
		char k[32];
		if (st->on)
			snprintf(k, sizeof(k), "IPC_PRIVATE");
		else
			snprintf(k, sizeof(k), "%#x", (unsigned)key);
		scr_strace_line(r, t, "shmget(%s, %" PRIu64 ", %s%s) = %s", k, (uint64_t)b,
				st->shmflg & MM_IPC_CREAT ? "IPC_CREAT|" : "",
				st->shmflg & MM_IPC_EXCL ? "IPC_EXCL|0600" : "0600",
				rc < 0 ? scr_errtext(-rc, res, sizeof(res))
				       : (snprintf(res, sizeof(res), "%d", rc), res));
		return scr_sys_result(r, st, rc, false, "shmget");
	}
	if (a < 0 || a > INT32_MAX)
		return scr_sys_result(r, st, -MM_EINVAL, true, "shmat");
	int64_t rc = mm_shmat(r->m, t, (int)a, (uint64_t)b, st->shmflg);
	char at[32];
	if (b)
		snprintf(at, sizeof(at), "%#" PRIx64, (uint64_t)b);
	else
		snprintf(at, sizeof(at), "NULL");
	scr_strace_line(r, t, "shmat(%d, %s, %s) = %s", (int)a, at,
			st->shmflg & MM_SHM_RDONLY ? "SHM_RDONLY" : "0",
			rc < 0 ? scr_errtext((int)-rc, res, sizeof(res))
			       : (snprintf(res, sizeof(res), "%#" PRIx64, (uint64_t)rc), res));
	return scr_sys_result(r, st, rc, true, "shmat");
}

bool scr_do_tmpfile(struct run *r, const struct sc_stmt *st)
{
	if (!scr_files_allowed(r))
		return false;
	int64_t size, fill = 0;
	if (!scr_eval_range(r, st->a[0], 0, (int64_t)r->lim.max_file_bytes, "tmpfile size",
			    &size) ||
	    (st->fill && !scr_eval_range(r, st->fill, 0, 255, "fill byte", &fill)))
		return false;
	size_t i;
	for (i = 0; i < r->ntmp; i++)
		if (strcmp(r->tmp[i].name, st->name) == 0)
			break;
	if (i == r->ntmp && r->ntmp == SC_MAX_TMPFILES)
		return scr_bad(r, st->col, "more than %d tmpfiles", SC_MAX_TMPFILES);
	if (!r->tmpdir) {
		const char *base = getenv("TMPDIR");
		char tmpl[4096];
		snprintf(tmpl, sizeof(tmpl), "%s/mmsim-XXXXXX", base && *base ? base : "/tmp");
		if (!mkdtemp(tmpl))
			return scr_status_fail(r, SC_IO,
					       "tmpfile: cannot create a directory %s: %s", tmpl,
					       strerror(errno));
		if (!(r->tmpdir = strdup(tmpl)))
			return scr_nomem(r);
	}
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", r->tmpdir, st->name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return scr_status_fail(r, SC_IO, "tmpfile: cannot create %s: %s", path,
				       strerror(errno));
	uint8_t block[4096];
	memset(block, (int)fill, sizeof(block));
	for (int64_t done = 0; done < size;) {
		size_t n = (size_t)(size - done < 4096 ? size - done : 4096);
		ssize_t w = write(fd, block, n);
		if (w <= 0) {
			int e = errno;
			close(fd);
			return scr_status_fail(r, SC_IO, "tmpfile: cannot write %s: %s", path,
					       strerror(e));
		}
		done += w;
	}
	close(fd);
	if (i == r->ntmp) {
		if (!(r->tmp[i].path = strdup(path)))
			return scr_nomem(r);
		snprintf(r->tmp[i].name, sizeof(r->tmp[i].name), "%s", st->name);
		r->ntmp++;
	}
	return true;
}
