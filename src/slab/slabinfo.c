/* /proc/slabinfo, version 2.1, in Linux's layout (mm/slab_common.c
 * cache_show with SLAB's tunables):
 *
 *   slabinfo - version: 2.1
 *   # name            <active_objs> <num_objs> <objsize> <objperslab> ...
 *   %-17s %6lu %6lu %6u %4u %4d : tunables %4u %4u %4u : slabdata %6lu %6lu %6lu
 *
 * Caches are listed newest first, as Linux walks slab_caches. Columns:
 * active_objs = objects not free in a slab (those parked in magazines count
 * as active, as SLAB's array caches did); objsize = the stride; tunables =
 * magazine size (SLAB's limit), refill batch (batchcount), depot bound in
 * magazines (sharedfactor), all 0 for caches without magazines; slabdata =
 * full + partial slabs, all slabs, objects waiting in the depot (SLAB's
 * shared array, "sharedavail").
 */
#include <stdarg.h>
#include <stdio.h>

#include "slab_internal.h"

struct sink {
	char *buf;
	size_t len;
	size_t pos;   /* bytes the full text needs so far */
	FILE *f;
	int err;
};

MM_PRINTF(2, 3)
static void sink_printf(struct sink *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (s->f) {
		if (vfprintf(s->f, fmt, ap) < 0)
			s->err = -MM_EIO;
	} else {
		size_t room = s->pos < s->len ? s->len - s->pos : 0;
		int n = vsnprintf(room ? s->buf + s->pos : NULL, room, fmt, ap);
		if (n > 0)
			s->pos += (size_t)n;
	}
	va_end(ap);
}

static void slabinfo_write(struct mm_kmem *k, struct sink *s)
{
	sink_printf(s, "slabinfo - version: 2.1\n");
	sink_printf(s, "# name            <active_objs> <num_objs> <objsize> <objperslab> "
		       "<pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : "
		       "slabdata <active_slabs> <num_slabs> <sharedavail>\n");
	pthread_mutex_lock(&k->chain_lock);
	struct mm_kmem_cache *c;
	mm_list_for_each_entry(c, &k->caches, chain) {
		struct mm_kmem_cache_stats st;
		mm_kmem_cache_stats(c, &st);
		unsigned long slabs = st.full_slabs + st.partial_slabs + st.empty_slabs;
		sink_printf(s, "%-17s %6lu %6lu %6u %4u %4d", c->name, st.active_objs,
			    st.num_objs, (unsigned)st.size, st.objs_per_slab, 1 << st.order);
		sink_printf(s, " : tunables %4u %4u %4u", st.mag_size, st.batch, st.depot_max);
		sink_printf(s, " : slabdata %6lu %6lu %6lu\n", st.full_slabs + st.partial_slabs,
			    slabs, st.depot_objs);
	}
	pthread_mutex_unlock(&k->chain_lock);
}

size_t mm_kmem_slabinfo(struct mm_kmem *k, char *buf, size_t len)
{
	struct sink s = { .buf = buf, .len = len };
	if (len)
		buf[0] = '\0';
	slabinfo_write(k, &s);
	return s.pos;
}

int mm_kmem_slabinfo_print(struct mm_kmem *k, FILE *f)
{
	struct sink s = { .f = f };
	slabinfo_write(k, &s);
	return s.err;
}
