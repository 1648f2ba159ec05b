/* mmkit-demo — a short showcase of the kernel allocators (make demo).
 *
 * Builds a 64 MiB real-memory machine's worth of pages managed by the buddy
 * allocator (zones DMA and DMA32, as an x86-64 box with that much RAM has),
 * puts a slab allocator on top of it, runs a small kernel-like workload
 * (task and VMA objects from their own caches, kmalloc of mixed sizes, a
 * physically contiguous DMA buffer, a mempool with a reserve), and prints
 * /proc/buddyinfo, /proc/slabinfo and the fragmentation indices before,
 * during and after. Everything is freed at the end and the tool verifies
 * that every page came back and merged.
 *
 * Usage: mmkit-demo [--ram MiB] [--seed N] [--quiet]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmkit/buddy.h"
#include "mmkit/error.h"
#include "mmkit/rng.h"
#include "mmkit/slab.h"

struct task_like {
	int pid;
	char comm[16];
	unsigned long state;
	void *mm;
	char pad[200];
};

struct vma_like {
	unsigned long vm_start, vm_end, vm_flags;
	void *vm_file;
	unsigned long vm_pgoff;
	char pad[48];
};

static void task_ctor(void *obj)
{
	struct task_like *t = obj;
	memset(t, 0, sizeof(*t));
	t->pid = -1;
}

static int quiet;

static void banner(const char *title)
{
	printf("\n==== %s ====\n", title);
}

static void show_buddy(struct mm_buddy *b)
{
	printf("$ cat /proc/buddyinfo\n");
	mm_buddy_print_buddyinfo(b, stdout);
	if (!quiet) {
		printf("$ cat /sys/kernel/debug/extfrag/unusable_index\n");
		mm_buddy_print_unusable_index(b, stdout);
	}
}

/* Only the caches that hold something: the full view is long. */
static void show_slab(struct mm_kmem *k)
{
	size_t need = mm_kmem_slabinfo(k, NULL, 0) + 1;
	char *buf = malloc(need);
	if (!buf)
		return;
	mm_kmem_slabinfo(k, buf, need);
	printf("$ cat /proc/slabinfo   (caches with objects)\n");
	int line = 0;
	for (char *s = buf, *nl; *s; s = nl + 1, line++) {
		nl = strchr(s, '\n');
		if (!nl)
			nl = s + strlen(s) - 1;
		char name[64];
		unsigned long active = 0, num = 0;
		int shown = line < 2 ||
			    (sscanf(s, "%63s %lu %lu", name, &active, &num) == 3 && num > 0);
		if (shown)
			fwrite(s, 1, (size_t)(nl - s + 1), stdout);
	}
	free(buf);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: mmkit-demo [--ram MiB] [--seed N] [--quiet]\n"
		   "  Shows the buddy and slab allocators at work: /proc/buddyinfo and\n"
		   "  /proc/slabinfo before and after a kernel-like workload.\n"
		   "  --ram MiB   memory managed by the buddy allocator (default 64, 8..4096)\n"
		   "  --seed N    seed of the workload (default 1)\n"
		   "  --quiet     fewer views\n");
}

int main(int argc, char **argv)
{
	unsigned long ram_mib = 64;
	unsigned long long seed = 1;
	static const struct option opts[] = {
		{ "ram", required_argument, NULL, 'r' },
		{ "seed", required_argument, NULL, 's' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "r:s:qh", opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'r':
			errno = 0;
			ram_mib = strtoul(optarg, &end, 10);
			if (errno || *end || ram_mib < 8 || ram_mib > 4096) {
				fprintf(stderr, "mmkit-demo: --ram: '%s' is not a size in MiB "
						"between 8 and 4096\n", optarg);
				return 2;
			}
			break;
		case 's':
			errno = 0;
			seed = strtoull(optarg, &end, 0);
			if (errno || *end) {
				fprintf(stderr, "mmkit-demo: --seed: '%s' is not a number\n", optarg);
				return 2;
			}
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "mmkit-demo: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	struct mm_buddy_config cfg;
	mm_buddy_config_init(&cfg, 0, (uint64_t)ram_mib << (20 - MM_PAGE_SHIFT));
	cfg.zones = true;
	/* the first page is reserved, as the BIOS area is on a PC */
	struct mm_pfn_range hole = { 0, 1 };
	cfg.reserved = &hole;
	cfg.nr_reserved = 1;
	struct mm_buddy *b;
	int err = mm_buddy_create_mmap(&cfg, &b);
	if (err) {
		fprintf(stderr, "mmkit-demo: cannot create the buddy allocator: %s\n",
			mm_strerror(err));
		return 1;
	}
	uint64_t free_at_start = mm_buddy_free_pages(b);

	banner("1. boot: every free page merged into the largest blocks");
	printf("%lu MiB managed, %llu pages free, 1 page reserved; zones:", ram_mib,
	       (unsigned long long)free_at_start);
	for (int z = 0; z < MM_NR_ZONES; z++) {
		struct mm_zone *zone = mm_buddy_zone(b, (enum mm_zone_type)z);
		if (zone)
			printf(" %s (min %llu low %llu high %llu pages)", mm_zone_name(zone),
			       (unsigned long long)mm_zone_wmark(zone, MM_WMARK_MIN),
			       (unsigned long long)mm_zone_wmark(zone, MM_WMARK_LOW),
			       (unsigned long long)mm_zone_wmark(zone, MM_WMARK_HIGH));
	}
	printf("\n");
	show_buddy(b);

	struct mm_page_source ps = mm_buddy_page_source(b);
	struct mm_kmem *k = mm_kmem_create(&ps, 0);
	if (!k) {
		fprintf(stderr, "mmkit-demo: cannot create the slab allocator\n");
		mm_buddy_destroy(b);
		return 1;
	}
	struct mm_kmem_cache *tasks = mm_kmem_cache_create(k, "task_struct", sizeof(struct task_like),
							   0, MM_SLAB_HWCACHE_ALIGN, task_ctor);
	struct mm_kmem_cache *vmas = mm_kmem_cache_create(k, "vm_area_struct",
							  sizeof(struct vma_like), 0, 0, NULL);
	if (!tasks || !vmas) {
		fprintf(stderr, "mmkit-demo: cannot create the caches\n");
		mm_kmem_destroy(k);
		mm_buddy_destroy(b);
		return 1;
	}

	/* The workload: 2000 tasks with 10 VMAs each, 6000 kmalloc objects of
	 * mixed sizes, order-2 and order-5 page blocks, a DMA buffer. */
	enum { NTASK = 2000, NVMA = 20000, NKM = 6000, NPG = 300 };
	struct mm_rng rng;
	mm_rng_seed(&rng, seed);
	static struct task_like *task[NTASK];
	static struct vma_like *vma[NVMA];
	static void *km[NKM];
	static struct mm_page *pg[NPG];
	static unsigned pg_order[NPG];
	static const size_t sizes[] = { 8, 24, 64, 100, 200, 256, 500, 1024, 3000, 6000, 20000 };
	size_t failed = 0;
	for (int i = 0; i < NTASK; i++) {
		task[i] = mm_kmem_cache_alloc(tasks, 0);
		failed += !task[i];
		if (task[i]) {
			task[i]->pid = i + 1;
			snprintf(task[i]->comm, sizeof(task[i]->comm), "proc%d", i + 1);
		}
	}
	for (int i = 0; i < NVMA; i++) {
		vma[i] = mm_kmem_cache_alloc(vmas, 0);
		failed += !vma[i];
	}
	for (int i = 0; i < NKM; i++) {
		km[i] = mm_kmalloc(k, sizes[mm_rng_below(&rng, MM_ARRAY_SIZE(sizes))], 0);
		failed += !km[i];
	}
	for (int i = 0; i < NPG; i++) {
		pg_order[i] = mm_rng_below(&rng, 4) ? 2 : 5;
		pg[i] = mm_alloc_pages(b, MM_GFP_MOVABLE, pg_order[i]);
		failed += !pg[i];
	}
	struct mm_page *dma = mm_alloc_pages(b, MM_GFP_DMA, 4);
	banner("2. after the workload: slabs and page blocks in use");
	printf("%d task_struct, %d vm_area_struct, %d kmalloc objects, %d page blocks "
	       "(orders 2 and 5), a 64 KiB DMA buffer at PFN %llu (zone %s); %zu allocations "
	       "failed\n",
	       NTASK, NVMA, NKM, NPG, dma ? (unsigned long long)mm_page_to_pfn(b, dma) : 0ULL,
	       dma ? mm_zone_name(mm_page_zone(b, dma)) : "-", failed);
	show_buddy(b);
	show_slab(k);

	/* Free every other object and every other block: fragmentation. */
	for (int i = 0; i < NTASK; i += 2)
		mm_kmem_cache_free(tasks, task[i]), task[i] = NULL;
	for (int i = 0; i < NVMA; i += 2)
		mm_kmem_cache_free(vmas, vma[i]), vma[i] = NULL;
	for (int i = 0; i < NKM; i += 2)
		mm_kfree(k, km[i]), km[i] = NULL;
	for (int i = 0; i < NPG; i += 2)
		mm_free_pages(b, pg[i], pg_order[i]), pg[i] = NULL;
	int shrunk = 0;
	shrunk += mm_kmem_cache_shrink(tasks);
	shrunk += mm_kmem_cache_shrink(vmas);
	banner("3. half of everything freed: partial slabs, a fragmented buddy");
	printf("kmem_cache_shrink returned %d pages of empty slabs\n", shrunk);
	show_buddy(b);
	printf("$ cat /sys/kernel/debug/extfrag/extfrag_index\n");
	mm_buddy_print_extfrag_index(b, stdout);
	show_slab(k);

	/* Free the rest. */
	for (int i = 0; i < NTASK; i++)
		mm_kmem_cache_free(tasks, task[i]);
	for (int i = 0; i < NVMA; i++)
		mm_kmem_cache_free(vmas, vma[i]);
	for (int i = 0; i < NKM; i++)
		mm_kfree(k, km[i]);
	for (int i = 0; i < NPG; i++)
		if (pg[i])
			mm_free_pages(b, pg[i], pg_order[i]);
	mm_free_pages(b, dma, 4);
	int bad = mm_kmem_check(k) != 0;
	mm_kmem_cache_destroy(tasks);
	mm_kmem_cache_destroy(vmas);
	mm_kmem_destroy(k);
	mm_buddy_drain_all(b);
	bad |= mm_buddy_check(b) != 0;

	banner("4. everything freed: every page back and merged");
	uint64_t free_at_end = mm_buddy_free_pages(b);
	show_buddy(b);
	printf("free pages: %llu at boot, %llu now: %s\n", (unsigned long long)free_at_start,
	       (unsigned long long)free_at_end,
	       free_at_end == free_at_start && !bad ? "nothing lost" : "PAGES LOST");
	mm_buddy_destroy(b);
	return free_at_end == free_at_start && !bad ? 0 : 1;
}
