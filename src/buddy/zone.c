/* zone.c — zones, watermarks and lowmem_reserve (Linux mm/page_alloc.c).
 *
 * Zones split the PFN range by physical address: DMA below 16 MiB, DMA32
 * below 4 GiB, Normal above (x86-64's layout); or, with MM_ZONES_X86_32,
 * DMA below 16 MiB, Normal below 896 MiB, HighMem above (DMA32 empty). Watermarks follow Linux's
 * init_per_zone_wmark_min() and __setup_per_zone_wmarks():
 *   min_free_kbytes = clamp(int_sqrt(16 * lowmem_kbytes), 128, 262144)
 *   pages_min       = min_free_kbytes / 4                   (4 KiB pages)
 *   zone min        = pages_min * zone_managed / total_managed
 *   step            = max(min / 4, zone_managed * watermark_scale_factor / 10000)
 *   low = min + step, high = low + step
 * lowmem_reserve (setup_per_zone_lowmem_reserve): zone i keeps back, from
 * allocations that could have used zone j > i,
 *   (managed pages of zones i+1 .. j) / lowmem_reserve_ratio[i]
 * with ratios {DMA 256, DMA32 256, Normal 32, HighMem 0}.
 * lowmem_kbytes is the managed memory of all zones but HighMem (Linux's
 * nr_free_buffer_pages() at boot, when the high watermarks are still 0);
 * "total_managed" above is the same lowmem count, and HighMem's min is
 * clamp(managed / 1024, 32, 128) while its step still uses the
 * proportional value (Linux's is_highmem() branch).
 */
#include "mmkit/error.h"
#include "buddy_internal.h"

static const char *const zone_names[MM_NR_ZONES] = { "DMA", "DMA32", "Normal", "HighMem" };

void __mm_zones_init(struct mm_buddy *b)
{
	static const uint64_t zone_end_64[MM_NR_ZONES] = {
		MM_ZONE_DMA_END_PFN, MM_ZONE_DMA32_END_PFN, UINT64_MAX, UINT64_MAX
	};
	static const uint64_t zone_end_32[MM_NR_ZONES] = {
		MM_ZONE_DMA_END_PFN, MM_ZONE_DMA_END_PFN, MM_ZONE_HIGHMEM_START_PFN, UINT64_MAX
	};
	const uint64_t *zone_end = b->layout == MM_ZONES_X86_32 ? zone_end_32 : zone_end_64;
	uint64_t lo = 0;
	for (int zi = 0; zi < MM_NR_ZONES; zi++) {
		struct mm_zone *z = &b->zones[zi];
		pthread_mutex_init(&z->lock, NULL);
		z->b = b;
		z->idx = (enum mm_zone_type)zi;
		z->name = zone_names[zi];
		for (unsigned int o = 0; o < MM_MAX_ORDER_LIMIT; o++)
			for (int mt = 0; mt < MM_MIGRATE_TYPES; mt++)
				mm_list_init(&z->area[o].free_list[mt]);
		uint64_t zs, ze;
		if (b->zones_on) {
			zs = MM_MAX(lo, b->start_pfn);
			ze = MM_MIN(zone_end[zi], b->end_pfn);
			lo = zone_end[zi];
		} else if (zi == MM_ZONE_NORMAL) {
			zs = b->start_pfn;
			ze = b->end_pfn;
		} else {
			zs = ze = b->start_pfn;
		}
		if (ze < zs)
			ze = zs;
		if (ze == zs)
			zs = ze = MM_MIN(MM_MAX(zs, b->start_pfn), b->end_pfn);
		z->start_pfn = zs;
		z->end_pfn = ze;
		z->present = ze - zs;
	}
}

unsigned long mm_calc_min_free_kbytes(uint64_t lowmem_kbytes)
{
	uint64_t x = lowmem_kbytes * 16;
	/* int_sqrt: largest r with r * r <= x */
	uint64_t r = 0, bit = 1ULL << 62;
	while (bit > x)
		bit >>= 2;
	while (bit) {
		if (x >= r + bit) {
			x -= r + bit;
			r = (r >> 1) + bit;
		} else {
			r >>= 1;
		}
		bit >>= 2;
	}
	if (r < 128)
		r = 128;
	if (r > 262144)
		r = 262144;
	return (unsigned long)r;
}

void __mm_zone_update_fast_wmarks(struct mm_zone *z)
{
	uint64_t min = atomic_load_explicit(&z->wmark[MM_WMARK_MIN], memory_order_relaxed);
	for (int h = 0; h < MM_NR_ZONES; h++)
		for (int c = 0; c < NR_WCLASS; c++)
			atomic_store_explicit(&z->wmark_fast[h][c],
					      wmark_threshold(min, c, z->lowmem_reserve[h]),
					      memory_order_relaxed);
}

/* a * b / c without overflow (the sysctls may be anything), saturating. */
static uint64_t mul_div(uint64_t a, uint64_t b, uint64_t c)
{
	unsigned __int128 r = (unsigned __int128)a * b / c;
	return r > UINT64_MAX ? UINT64_MAX : (uint64_t)r;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

/* Zone lock held. */
static void setup_lowmem_reserve(struct mm_buddy *b, int i)
{
	struct mm_zone *z = &b->zones[i];
	uint64_t managed = 0;
	bool clear = !b->lowmem_ratio[i] || !z->managed;
	for (int j = 0; j < MM_NR_ZONES; j++)
		z->lowmem_reserve[j] = 0;
	for (int j = i + 1; j < MM_NR_ZONES; j++) {
		managed += b->zones[j].managed;
		z->lowmem_reserve[j] = clear ? 0 : managed / b->lowmem_ratio[i];
	}
}

void mm_buddy_setup_watermarks(struct mm_buddy *b, unsigned long min_free_kbytes,
			       unsigned int watermark_scale_factor)
{
	uint64_t lowmem_pages = 0;
	/* serialised with mm_buddy_reserve, which changes managed counts */
	__mm_registry_lock();
	for (int zi = 0; zi < MM_NR_ZONES; zi++)
		if (zi != MM_ZONE_HIGHMEM)
			lowmem_pages += b->zones[zi].managed;
	if (!min_free_kbytes)
		min_free_kbytes = mm_calc_min_free_kbytes(lowmem_pages << (MM_PAGE_SHIFT - 10));
	if (!watermark_scale_factor)
		watermark_scale_factor = 10;
	uint64_t pages_min = min_free_kbytes >> (MM_PAGE_SHIFT - 10);

	for (int zi = 0; zi < MM_NR_ZONES; zi++) {
		struct mm_zone *z = &b->zones[zi];
		zone_lock(z);
		setup_lowmem_reserve(b, zi);
		uint64_t tmp = lowmem_pages ? mul_div(pages_min, z->managed, lowmem_pages) : 0;
		uint64_t min = tmp;
		if (zi == MM_ZONE_HIGHMEM && z->managed)
			min = MM_MIN(MM_MAX(z->managed / 1024, (uint64_t)32), (uint64_t)128);
		uint64_t step = MM_MAX(tmp >> 2, mul_div(z->managed, watermark_scale_factor, 10000));
		uint64_t low = sat_add(min, step);
		atomic_store_explicit(&z->wmark[MM_WMARK_MIN], min, memory_order_relaxed);
		atomic_store_explicit(&z->wmark[MM_WMARK_LOW], low, memory_order_relaxed);
		atomic_store_explicit(&z->wmark[MM_WMARK_HIGH], sat_add(low, step), memory_order_relaxed);
		__mm_zone_update_fast_wmarks(z);
		zone_unlock(z);
	}
	__mm_registry_unlock();
}

int mm_zone_set_watermarks(struct mm_zone *z, uint64_t min, uint64_t low, uint64_t high)
{
	if (min > low || low > high)
		return -MM_EINVAL;
	zone_lock(z);
	atomic_store_explicit(&z->wmark[MM_WMARK_MIN], min, memory_order_relaxed);
	atomic_store_explicit(&z->wmark[MM_WMARK_LOW], low, memory_order_relaxed);
	atomic_store_explicit(&z->wmark[MM_WMARK_HIGH], high, memory_order_relaxed);
	__mm_zone_update_fast_wmarks(z);
	zone_unlock(z);
	return 0;
}

bool mm_zone_watermark_ok(const struct mm_zone *z, unsigned int order, uint64_t mark,
			  enum mm_zone_type highest_zone, mm_gfp_t gfp)
{
	if (order >= z->b->max_order || highest_zone >= MM_NR_ZONES)
		return false;
	struct mm_zone *zz = (struct mm_zone *)(uintptr_t)z; /* the lock is not part of the value */
	zone_lock(zz);
	bool ok = __mm_watermark_ok(z, order, mark, highest_zone, gfp_wclass(gfp), zone_free(z));
	zone_unlock(zz);
	return ok;
}

/* ---- accessors --------------------------------------------------------------------------- */

struct mm_zone *mm_buddy_zone(struct mm_buddy *b, enum mm_zone_type type)
{
	if ((unsigned int)type >= MM_NR_ZONES || !b->zones[type].present)
		return NULL;
	return &b->zones[type];
}

struct mm_zone *mm_page_zone(struct mm_buddy *b, const struct mm_page *page)
{
	return &b->zones[page->zone];
}

const char *mm_zone_name(const struct mm_zone *z)
{
	return z->name;
}

enum mm_zone_type mm_zone_idx(const struct mm_zone *z)
{
	return z->idx;
}

uint64_t mm_zone_start_pfn(const struct mm_zone *z)
{
	return z->start_pfn;
}

uint64_t mm_zone_spanned_pages(const struct mm_zone *z)
{
	return z->end_pfn - z->start_pfn;
}

uint64_t mm_zone_present_pages(const struct mm_zone *z)
{
	return z->present;
}

uint64_t mm_zone_managed_pages(const struct mm_zone *z)
{
	return z->managed;
}

uint64_t mm_zone_free_pages(const struct mm_zone *z)
{
	return zone_free(z);
}

uint64_t mm_zone_nr_free(const struct mm_zone *z, unsigned int order)
{
	if (order >= z->b->max_order)
		return 0;
	struct mm_zone *zz = (struct mm_zone *)(uintptr_t)z;
	zone_lock(zz);
	uint64_t n = z->area[order].nr_free;
	zone_unlock(zz);
	return n;
}

uint64_t mm_zone_wmark(const struct mm_zone *z, enum mm_wmark mark)
{
	if ((unsigned int)mark >= MM_NR_WMARK)
		return 0;
	return atomic_load_explicit(&z->wmark[mark], memory_order_relaxed);
}

uint64_t mm_zone_lowmem_reserve(const struct mm_zone *z, enum mm_zone_type classzone)
{
	if ((unsigned int)classzone >= MM_NR_ZONES)
		return 0;
	return z->lowmem_reserve[classzone];
}

unsigned int mm_zone_pcp_batch(const struct mm_zone *z)
{
	return z->pcp_batch;
}

unsigned int mm_zone_pcp_high(const struct mm_zone *z)
{
	return z->pcp_high;
}
