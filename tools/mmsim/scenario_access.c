/* scenario_access.c — memory accesses (one access, with data, or a
 * pattern: sequential, strided, uniform random, Zipf; fill) through the
 * machine's MMU, and the statements that look at the machine: show, expect
 * and echo. Every access counts one step against the budget.
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

/* ---- Accesses ----------------------------------------------------------- */

static const char *access_word(int kind)
{
	return kind == MM_ACCESS_WRITE ? "write" : kind == MM_ACCESS_READ ? "read" : "fetch";
}

/* One access of len bytes (buf holds the data of a write). */
static bool one_access(struct run *r, struct mm_task *t, uint64_t va, uint8_t *buf, size_t len,
		       int kind)
{
	if (!scr_step(r))
		return false;
	int rc = mm_access(r->m, t, va, buf, len, (enum mm_access_kind)kind);
	if (rc)
		return scr_access_failed(r, t, access_word(kind), va, rc);
	return true;
}

bool scr_do_access(struct run *r, const struct sc_stmt *st)
{
	struct mm_task *t = scr_task(r);
	if (!t)
		return false;
	int64_t addr, len = 1, size = 1, value = 0;
	if (!scr_eval(r, st->a[0], &addr))
		return false;
	if (st->try_ && !scr_try_reset(r))
		return false;
	if (st->pattern == PAT_ONE) {
		if (st->data) {
			uint8_t *d = malloc(st->datalen);
			if (!d)
				return scr_nomem(r);
			memcpy(d, st->data, st->datalen);
			bool ok = one_access(r, t, (uint64_t)addr, d, st->datalen, st->access);
			free(d);
			return ok;
		}
		if (st->access == MM_ACCESS_WRITE) {
			if (st->size && !scr_eval_range(r, st->size, 1, 8, "size", &size))
				return false;
			if (size != 1 && size != 2 && size != 4 && size != 8)
				return scr_bad(r, st->size->col,
					       "size %" PRId64 ": a write of a number is "
					       "1, 2, 4 or 8 bytes",
					       size);
			if (!scr_eval(r, st->value, &value))
				return false;
			if (size < 8 && (value >= (int64_t)1 << (8 * size) ||
					 value < -((int64_t)1 << (8 * size - 1))))
				return scr_bad(r, st->value->col,
					       "value %" PRId64 " does not fit in %" PRId64
					       " byte%s (size=N)",
					       value, size, size > 1 ? "s" : "");
			uint8_t b[8];
			for (int i = 0; i < 8; i++)
				b[i] = (uint8_t)((uint64_t)value >> (8 * i));
			return one_access(r, t, (uint64_t)addr, b, (size_t)size, st->access);
		}
		const struct sc_expr *le = st->a[1] ? st->a[1] : st->size;
		if (le && !scr_eval_range(r, le, 1, (int64_t)SC_MAX_ACCESS, "length", &len))
			return false;
		uint8_t *b = calloc(1, (size_t)len);
		if (!b)
			return scr_nomem(r);
		bool ok = one_access(r, t, (uint64_t)addr, b, (size_t)len, st->access);
		free(b);
		return ok;
	}
	/* patterns */
	int64_t step_ = 4096, count, seed = 1;
	if (!scr_eval_range(r, st->a[1], 1, INT64_MAX, "length", &len) ||
	    (st->step && !scr_eval_range(r, st->step, 1, INT64_MAX, "step", &step_)) ||
	    (st->size && !scr_eval_range(r, st->size, 1, 4096, "size", &size)) ||
	    (st->seed && !scr_eval(r, st->seed, &seed)))
		return false;
	if (st->access == MM_ACCESS_WRITE) {
		value = 1;
		if (st->value && !scr_eval_range(r, st->value, 0, 255, "value", &value))
			return false;
	}
	uint64_t slots = (uint64_t)((len + step_ - 1) / step_);
	if (st->pattern == PAT_SEQ)
		count = (int64_t)slots;
	else if (!scr_eval_range(r, st->count, 0, INT64_MAX, "count", &count))
		return false;
	uint8_t buf[4096];
	struct mm_rng rng;
	struct mm_zipf z;
	mm_rng_seed(&rng, (uint64_t)seed);
	if (st->pattern == PAT_ZIPF)
		mm_zipf_init(&z, slots, st->alpha);
	for (int64_t i = 0; i < count; i++) {
		uint64_t slot;
		if (st->pattern == PAT_SEQ)
			slot = (uint64_t)i;
		else if (st->pattern == PAT_RANDOM)
			slot = mm_rng_below(&rng, slots);
		else
			slot = mm_zipf_draw(&z, &rng);
		uint64_t va = (uint64_t)addr + slot * (uint64_t)step_;
		memset(buf, (int)value, (size_t)size);
		if (!one_access(r, t, va, buf, (size_t)size, st->access) || r->stop)
			return false;
		if (st->try_) {
			struct var *e = scr_var_find(r, "errno");
			if (e && e->v)
				return true; /* stop at the first fault, recorded */
		}
	}
	return true;
}

bool scr_do_fill(struct run *r, const struct sc_stmt *st)
{
	struct mm_task *t = scr_task(r);
	if (!t)
		return false;
	int64_t addr, len, value;
	if (!scr_eval(r, st->a[0], &addr) ||
	    !scr_eval_range(r, st->a[1], 0, INT64_MAX, "length", &len) ||
	    !scr_eval_range(r, st->value, 0, 255, "value", &value))
		return false;
	if (st->try_ && !scr_try_reset(r))
		return false;
	uint8_t buf[4096];
	memset(buf, (int)value, sizeof(buf));
	uint64_t va = (uint64_t)addr, end = va + (uint64_t)len;
	while (va < end) {
		uint64_t n = 4096 - (va & 4095);
		if (n > end - va)
			n = end - va;
		if (!one_access(r, t, va, buf, n, MM_ACCESS_WRITE) || r->stop)
			return false;
		struct var *e = st->try_ ? scr_var_find(r, "errno") : NULL;
		if (e && e->v)
			return true;
		va += n;
	}
	return true;
}

/* ---- show, expect, echo ------------------------------------------------- */

bool scr_do_show(struct run *r, const struct sc_stmt *st)
{
	bool per, takes;
	sc_view_known(st->name, &per, &takes);
	struct mm_task *t = NULL;
	if (per) {
		if (!(t = scr_task_of(r, st->path ? st->path : st->proc)))
			return false;
	} else if (!scr_boot(r)) {
		return false;
	}
	int64_t arg = 0;
	if (takes && !scr_eval(r, st->a[0], &arg))
		return false;
	char *text = sc_view_text(r->m, t, st->name, (uint64_t)arg);
	if (!text)
		return scr_nomem(r);
	char prompt[128];
	int pid = t ? mm_task_pid(t) : 0;
	sc_view_prompt(prompt, sizeof(prompt), st->name, pid, (uint64_t)arg);
	if (r->sink->view) {
		struct sc_where w = scr_where(r);
		r->sink->view(r->sink->ctx, &w, prompt, st->name, pid, text);
	}
	free(text);
	return true;
}

static void fmt_value(char *buf, size_t len, int64_t v)
{
	if (v > 9 || v < -9)
		snprintf(buf, len, "%" PRId64 " = %#" PRIx64, v, (uint64_t)v);
	else
		snprintf(buf, len, "%" PRId64, v);
}

bool scr_do_expect(struct run *r, const struct sc_stmt *st)
{
	int64_t a, b;
	if (!scr_eval(r, st->a[0], &a) || !scr_eval(r, st->a[1], &b))
		return false;
	bool ok;
	switch (st->cmp) {
	case CMP_EQ:
		ok = a == b;
		break;
	case CMP_NE:
		ok = a != b;
		break;
	case CMP_LT:
		ok = a < b;
		break;
	case CMP_LE:
		ok = a <= b;
		break;
	case CMP_GT:
		ok = a > b;
		break;
	default:
		ok = a >= b;
		break;
	}
	r->res->expects++;
	char msg[1024] = "";
	if (!ok) {
		r->res->expects_failed++;
		r->res->status = SC_FAILED;
		char ga[64], gb[64];
		fmt_value(ga, sizeof(ga), a);
		fmt_value(gb, sizeof(gb), b);
		if (st->a[1]->op == EX_NUM)
			snprintf(msg, sizeof(msg), "expect failed: %s (got %s)", st->text, ga);
		else
			snprintf(msg, sizeof(msg), "expect failed: %s (got %s; right side %s)",
				 st->text, ga, gb);
	}
	if (r->sink->expect) {
		struct sc_where w = scr_where(r);
		r->sink->expect(r->sink->ctx, &w, st->text, ok, a, b, ok ? NULL : msg);
	}
	return true;
}

/* Room in echo's buffer for one more value or character (48 bytes past n),
 * doubling it when short. False, with the buffer freed, when out of memory. */
static bool echo_room(char **out, size_t *cap, size_t n)
{
	if (n + 48 < *cap)
		return true;
	*cap *= 2;
	char *no = realloc(*out, *cap);
	if (!no) {
		free(*out);
		return false;
	}
	*out = no;
	return true;
}

/* echo text with $NAME / ${NAME} replaced by values, $(EXPR) by its value */
bool scr_do_echo(struct run *r, const struct sc_stmt *st)
{
	size_t cap = 256, n = 0;
	char *out = malloc(cap);
	if (!out)
		return scr_nomem(r);
	for (const struct sc_seg *g = st->segs; g; g = g->next) {
		if (g->e) {
			int64_t v;
			if (!scr_eval(r, g->e, &v)) {
				free(out);
				return false;
			}
			if (!echo_room(&out, &cap, n))
				return scr_nomem(r);
			n += (size_t)snprintf(out + n, cap - n, "%" PRId64, v);
			continue;
		}
		const char *s = g->text;
		while (*s) {
			if (!echo_room(&out, &cap, n))
				return scr_nomem(r);
			if (*s == '$' &&
			    (s[1] == '{' || s[1] == '_' || (s[1] >= 'a' && s[1] <= 'z') ||
			     (s[1] >= 'A' && s[1] <= 'Z'))) {
				bool brace = s[1] == '{';
				const char *b = s + 1 + brace, *e = b;
				while (*e == '_' || (*e >= 'a' && *e <= 'z') ||
				       (*e >= 'A' && *e <= 'Z') || (*e >= '0' && *e <= '9'))
					e++;
				char name[64];
				if (e == b || e - b >= 64 || (brace && *e != '}')) {
					out[n++] = *s++;
					continue;
				}
				memcpy(name, b, (size_t)(e - b));
				name[e - b] = 0;
				struct var *v = scr_var_find(r, name);
				if (!v) {
					free(out);
					return scr_bad(r, g->col + (int)(s - g->text),
						       "variable $%s is not set", name);
				}
				n += (size_t)snprintf(out + n, cap - n,
						      v->hex ? "%#" PRIx64 : "%" PRId64, v->v);
				s = e + brace;
				continue;
			}
			out[n++] = *s++;
		}
	}
	out[n] = 0;
	if (r->sink->echo) {
		struct sc_where w = scr_where(r);
		r->sink->echo(r->sink->ctx, &w, out);
	}
	free(out);
	return true;
}
