/* view.c — /proc/buddyinfo, /proc/pagetypeinfo and the debugfs extfrag
 * files, in Linux's exact layouts (mm/vmstat.c: frag_show_print,
 * pagetypeinfo_showfree_print, pagetypeinfo_showblockcount_print,
 * unusable_show_print, extfrag_show_print). Only populated zones are shown.
 * Each zone is read under its lock, so a zone's line is a consistent
 * snapshot (Linux reads without the lock).
 */
#include <stdarg.h>
#include <string.h>

#include "mmkit/error.h"
#include "mmkit/fragindex.h"
#include "buddy_internal.h"

static const char *const migratetype_names[MM_MIGRATE_TYPES] = {
	"Unmovable", "Movable", "Reclaimable", "HighAtomic", "Isolate",
};

/* Output into a buffer (snprintf semantics) or a FILE. */
struct out {
	char *buf;
	size_t size;
	size_t len;
	FILE *f;
	int err;
};

MM_PRINTF(2, 3)
static void outf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (o->f) {
		if (vfprintf(o->f, fmt, ap) < 0)
			o->err = -MM_EIO;
	} else {
		size_t room = o->len < o->size ? o->size - o->len : 0;
		int n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
		if (n > 0)
			o->len += (size_t)n;
	}
	va_end(ap);
}

/* A consistent copy of a zone's free-block counts. */
struct zone_snap {
	uint64_t nr_free[MM_MAX_ORDER_LIMIT];
	uint64_t nr_free_mt[MM_MAX_ORDER_LIMIT][MM_MIGRATE_TYPES];
};

static void snap_zone(struct mm_zone *z, struct zone_snap *s)
{
	zone_lock(z);
	for (unsigned int o = 0; o < z->b->max_order; o++) {
		s->nr_free[o] = z->area[o].nr_free;
		for (int mt = 0; mt < MM_MIGRATE_TYPES; mt++)
			s->nr_free_mt[o][mt] = z->area[o].nr_free_mt[mt];
	}
	zone_unlock(z);
}

/* The one-line-per-zone views: a figure per order after "Node n, zone name ". */
enum per_order_view { VIEW_BUDDYINFO, VIEW_UNUSABLE, VIEW_EXTFRAG };

static void show_per_order(struct mm_buddy *b, struct out *o, enum per_order_view v)
{
	for (int zi = 0; zi < MM_NR_ZONES; zi++) {
		struct mm_zone *z = &b->zones[zi];
		struct zone_snap s;
		if (!z->present)
			continue;
		snap_zone(z, &s);
		outf(o, "Node %d, zone %8s ", b->node_id, z->name);
		for (unsigned int ord = 0; ord < b->max_order; ord++) {
			struct mm_contig_info info;
			int idx;
			switch (v) {
			case VIEW_BUDDYINFO:
				outf(o, "%6llu ", (unsigned long long)s.nr_free[ord]);
				break;
			case VIEW_UNUSABLE:
				mm_fill_contig_info(s.nr_free, b->max_order, ord, &info);
				idx = mm_unusable_free_index(ord, &info);
				outf(o, "%d.%03d ", idx / 1000, idx % 1000);
				break;
			case VIEW_EXTFRAG:
				mm_fill_contig_info(s.nr_free, b->max_order, ord, &info);
				idx = mm_fragmentation_index(ord, &info);
				outf(o, "%2d.%03d ", idx / 1000, (idx < 0 ? -idx : idx) % 1000);
				break;
			}
		}
		outf(o, "\n");
	}
}

static void show_pagetypeinfo(struct mm_buddy *b, struct out *o)
{
	outf(o, "Page block order: %u\n", b->pageblock_order);
	outf(o, "Pages per block:  %lu\n", 1UL << b->pageblock_order);
	outf(o, "\n");
	outf(o, "%-43s ", "Free pages count per migrate type at order");
	for (unsigned int ord = 0; ord < b->max_order; ord++)
		outf(o, "%6u ", ord);
	outf(o, "\n");
	for (int zi = 0; zi < MM_NR_ZONES; zi++) {
		struct mm_zone *z = &b->zones[zi];
		struct zone_snap s;
		if (!z->present)
			continue;
		snap_zone(z, &s);
		for (int mt = 0; mt < MM_MIGRATE_TYPES; mt++) {
			outf(o, "Node %4d, zone %8s, type %12s ", b->node_id, z->name,
			     migratetype_names[mt]);
			for (unsigned int ord = 0; ord < b->max_order; ord++) {
				/* Linux stops counting at 100000 and prints ">" */
				uint64_t n = s.nr_free_mt[ord][mt];
				bool overflow = n >= 100000;
				if (overflow)
					n = 100000;
				outf(o, "%s%6llu ", overflow ? ">" : "", (unsigned long long)n);
			}
			outf(o, "\n");
		}
	}

	outf(o, "\n%-23s", "Number of blocks type ");
	for (int mt = 0; mt < MM_MIGRATE_TYPES; mt++)
		outf(o, "%12s ", migratetype_names[mt]);
	outf(o, "\n");
	uint64_t step = 1ULL << b->pageblock_order;
	for (int zi = 0; zi < MM_NR_ZONES; zi++) {
		struct mm_zone *z = &b->zones[zi];
		uint64_t count[MM_MIGRATE_TYPES] = { 0 };
		if (!z->present)
			continue;
		zone_lock(z);
		/* as Linux: from the zone's first PFN in pageblock steps */
		for (uint64_t pfn = z->start_pfn; pfn < z->end_pfn; pfn += step)
			count[pageblock_mt(b, pfn)]++;
		zone_unlock(z);
		outf(o, "Node %d, zone %8s ", b->node_id, z->name);
		for (int mt = 0; mt < MM_MIGRATE_TYPES; mt++)
			outf(o, "%12llu ", (unsigned long long)count[mt]);
		outf(o, "\n");
	}
}

static void zone_contig_info(const struct mm_zone *z, unsigned int order,
			     struct mm_contig_info *info)
{
	struct zone_snap s;
	snap_zone((struct mm_zone *)(uintptr_t)z, &s); /* the lock is not part of the value */
	mm_fill_contig_info(s.nr_free, z->b->max_order, order, info);
}

int mm_zone_unusable_index(const struct mm_zone *z, unsigned int order)
{
	struct mm_contig_info info;
	zone_contig_info(z, order, &info);
	return mm_unusable_free_index(order, &info);
}

int mm_zone_extfrag_index(const struct mm_zone *z, unsigned int order)
{
	struct mm_contig_info info;
	zone_contig_info(z, order, &info);
	return mm_fragmentation_index(order, &info);
}

/* ---- the public pairs: buffer and FILE ------------------------------------------------- */

#define VIEW_PAIR(name, body)                                                      \
	size_t mm_buddy_show_##name(struct mm_buddy *b, char *buf, size_t size)   \
	{                                                                          \
		struct out o = { buf, size, 0, NULL, 0 };                          \
		if (size)                                                          \
			buf[0] = '\0';                                             \
		body;                                                              \
		return o.len;                                                      \
	}                                                                          \
	int mm_buddy_print_##name(struct mm_buddy *b, FILE *f)                    \
	{                                                                          \
		struct out o = { NULL, 0, 0, f, 0 };                               \
		body;                                                              \
		return o.err;                                                      \
	}

VIEW_PAIR(buddyinfo, show_per_order(b, &o, VIEW_BUDDYINFO))
VIEW_PAIR(pagetypeinfo, show_pagetypeinfo(b, &o))
VIEW_PAIR(unusable_index, show_per_order(b, &o, VIEW_UNUSABLE))
VIEW_PAIR(extfrag_index, show_per_order(b, &o, VIEW_EXTFRAG))
