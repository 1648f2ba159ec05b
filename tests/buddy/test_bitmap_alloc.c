/* Tests of seed 001's bitmap page allocator: next-fit / first-fit placement,
 * alignment, reserved pages, the buddy-equivalent histogram and fragmentation
 * figures, the check, and a randomized run against a model. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "mmkit/bitmap_alloc.h"
#include "mmkit/error.h"
#include "mmkit/rng.h"

static struct mm_bitmap_alloc *mk(uint64_t start, uint64_t nr, unsigned int max_order,
				  bool first_fit, const struct mm_pfn_range *res, size_t nres)
{
	struct mm_bitmap_alloc_config cfg;
	struct mm_bitmap_alloc *ba;
	mm_bitmap_alloc_config_init(&cfg, start, nr);
	cfg.max_order = max_order;
	cfg.first_fit = first_fit;
	cfg.reserved = res;
	cfg.nr_reserved = nres;
	assert_int_equal(mm_bitmap_alloc_create(&cfg, &ba), 0);
	assert_int_equal(mm_bitmap_alloc_check(ba), 0);
	return ba;
}

static void test_next_fit_and_first_fit(void **state)
{
	(void)state;
	struct mm_bitmap_alloc *nf = mk(0, 64, 7, false, NULL, 0);
	struct mm_bitmap_alloc *ff = mk(0, 64, 7, true, NULL, 0);
	uint64_t a, b2, c;
	for (int k = 0; k < 2; k++) {
		struct mm_bitmap_alloc *ba = k ? ff : nf;
		assert_int_equal(mm_bitmap_alloc_pages(ba, 0, &a), 0);
		assert_int_equal(mm_bitmap_alloc_pages(ba, 0, &b2), 0);
		assert_int_equal(a, 0);
		assert_int_equal(b2, 1);
		mm_bitmap_free_pages(ba, a, 0);
		assert_int_equal(mm_bitmap_alloc_pages(ba, 0, &c), 0);
		/* next-fit continues after the last block; first-fit reuses 0 */
		assert_int_equal(c, k ? 0 : 2);
		/* order 2 must be 4-aligned */
		assert_int_equal(mm_bitmap_alloc_pages(ba, 2, &c), 0);
		assert_int_equal(c % 4, 0);
		assert_int_equal(mm_bitmap_alloc_check(ba), 0);
	}
	assert_int_equal(mm_bitmap_alloc_pages(nf, 7, &c), -MM_EINVAL);
	assert_int_equal(mm_bitmap_alloc_pages(nf, 6, &c), -MM_ENOMEM); /* 64 pages, some used */
	mm_bitmap_alloc_destroy(nf);
	mm_bitmap_alloc_destroy(ff);
}

/* Next-fit wraps around to the start when the end is full. */
static void test_next_fit_wraps(void **state)
{
	(void)state;
	struct mm_bitmap_alloc *ba = mk(0, 16, 5, false, NULL, 0);
	uint64_t p[16];
	for (int i = 0; i < 16; i++)
		assert_int_equal(mm_bitmap_alloc_pages(ba, 0, &p[i]), 0);
	assert_int_equal(mm_bitmap_alloc_pages(ba, 0, &p[0]), -MM_ENOMEM);
	mm_bitmap_free_pages(ba, 3, 0);
	uint64_t x;
	assert_int_equal(mm_bitmap_alloc_pages(ba, 0, &x), 0);
	assert_int_equal(x, 3);
	assert_int_equal(mm_bitmap_alloc_free_pages(ba), 0);
	assert_int_equal(mm_bitmap_alloc_check(ba), 0);
	mm_bitmap_alloc_destroy(ba);
}

/* Unaligned start and holes: reserved pages never handed out; the histogram
 * equals the blocks the buddy allocator makes of the same range. */
static void test_unaligned_holes_histogram(void **state)
{
	(void)state;
	struct mm_pfn_range hole = { 10, 2 };
	struct mm_bitmap_alloc *ba = mk(3, 29, 5, true, &hole, 1);
	uint64_t h[5];
	mm_bitmap_alloc_free_histogram(ba, h);
	/* as test_unaligned_and_holes of the buddy: "1 1 2 0 1" */
	assert_int_equal(h[0], 1);
	assert_int_equal(h[1], 1);
	assert_int_equal(h[2], 2);
	assert_int_equal(h[3], 0);
	assert_int_equal(h[4], 1);
	assert_int_equal(mm_bitmap_alloc_free_pages(ba), 27);
	uint64_t pfn;
	int n = 0;
	while (mm_bitmap_alloc_pages(ba, 0, &pfn) == 0) {
		assert_true(pfn >= 3 && pfn < 32 && pfn != 10 && pfn != 11);
		n++;
	}
	assert_int_equal(n, 27);
	assert_int_equal(mm_bitmap_alloc_check(ba), 0);
	mm_bitmap_alloc_destroy(ba);
}

/* Same hand-built free set as the buddy's fragmentation test: free pages
 * 0, 2, 4, 6, 8-9, 12-15 of 16 -> same indices. */
static void test_fragmentation_figures(void **state)
{
	(void)state;
	struct mm_bitmap_alloc *ba = mk(0, 16, 5, true, NULL, 0);
	uint64_t pfn;
	for (int i = 0; i < 16; i++) {
		assert_int_equal(mm_bitmap_alloc_pages(ba, 0, &pfn), 0);
		assert_int_equal(pfn, (uint64_t)i);
	}
	static const int to_free[] = { 0, 2, 4, 6, 8, 9, 12, 13, 14, 15 };
	for (size_t i = 0; i < MM_ARRAY_SIZE(to_free); i++)
		mm_bitmap_free_pages(ba, (uint64_t)to_free[i], 0);
	static const int unusable[] = { 0, 400, 600, 1000, 1000 };
	static const int extfrag[] = { -1000, -1000, -1000, 625, 730 };
	for (unsigned int o = 0; o < 5; o++) {
		assert_int_equal(mm_bitmap_alloc_unusable_index(ba, o), unusable[o]);
		assert_int_equal(mm_bitmap_alloc_extfrag_index(ba, o), extfrag[o]);
	}
	char buf[256];
	mm_bitmap_alloc_show_frag(ba, buf, sizeof(buf));
	assert_string_equal(buf, "Node 0, zone   bitmap 0.000 0.400 0.600 1.000 1.000 \n"
				 "Node 0, zone   bitmap -1.000 -1.000 -1.000  0.625  0.730 \n");
	mm_bitmap_alloc_destroy(ba);
}

static void test_page_source_real_memory(void **state)
{
	(void)state;
	size_t len = 64 * MM_PAGE_SIZE, blk = 16 * MM_PAGE_SIZE;
	char *raw = mmap(NULL, len + blk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(raw != MAP_FAILED);
	char *base = (char *)MM_ALIGN_UP((uintptr_t)raw, blk);
	struct mm_bitmap_alloc_config cfg;
	struct mm_bitmap_alloc *ba;
	mm_bitmap_alloc_config_init(&cfg, 0, 64);
	cfg.max_order = 5;
	cfg.mem_base = base;
	assert_int_equal(mm_bitmap_alloc_create(&cfg, &ba), 0);
	struct mm_page_source ps = mm_bitmap_alloc_page_source(ba);
	char *a = mm_ps_alloc(&ps, 0, 0);
	char *b = mm_ps_alloc(&ps, 3, 0);
	assert_ptr_equal(a, base);
	assert_int_equal((uintptr_t)b % (MM_PAGE_SIZE << 3), 0);
	memset(b, 0x5a, MM_PAGE_SIZE << 3);
	mm_ps_free(&ps, b, 3);
	char *z = mm_ps_alloc(&ps, 3, MM_GFP_ZERO);
	assert_non_null(z);
	for (size_t i = 0; i < MM_PAGE_SIZE << 3; i++)
		if (z[i])
			fail_msg("byte %zu not zeroed", i);
	mm_ps_free(&ps, z, 3);
	mm_ps_free(&ps, a, 0);
	assert_int_equal(mm_bitmap_alloc_free_pages(ba), 64);
	assert_int_equal(mm_bitmap_alloc_check(ba), 0);
	mm_bitmap_alloc_destroy(ba);
	cfg.mem_base = base + MM_PAGE_SIZE; /* misaligned for order-4 blocks */
	assert_int_equal(mm_bitmap_alloc_create(&cfg, &ba), -MM_EINVAL);
	munmap(raw, len + blk);
	/* reserved ranges: missing array, a range whose end wraps around
	 * (it would have set bits far outside the bitmap) */
	cfg.mem_base = NULL;
	cfg.nr_reserved = 1;
	cfg.reserved = NULL;
	assert_int_equal(mm_bitmap_alloc_create(&cfg, &ba), -MM_EINVAL);
	const struct mm_pfn_range wrap = { UINT64_MAX - 1, 5 };
	cfg.reserved = &wrap;
	assert_int_equal(mm_bitmap_alloc_create(&cfg, &ba), -MM_EINVAL);
}

static void test_bad_free_aborts(void **state)
{
	(void)state;
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 2);
		struct mm_bitmap_alloc *ba = mk(0, 16, 5, false, NULL, 0);
		uint64_t pfn;
		mm_bitmap_alloc_pages(ba, 1, &pfn);
		mm_bitmap_free_pages(ba, pfn, 1);
		mm_bitmap_free_pages(ba, pfn, 1);
		_exit(0);
	}
	close(fds[1]);
	char msg[512] = "";
	ssize_t got, total = 0;
	while ((got = read(fds[0], msg + total, sizeof(msg) - 1 - (size_t)total)) > 0)
		total += got;
	msg[total] = '\0';
	close(fds[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
	assert_non_null(strstr(msg, "double free"));
}

/* Random alloc/free against a model, the check after every operation. */
static void test_random_model(void **state)
{
	(void)state;
	enum { START = 5, NR = 700, MAXO = 7 };
	static const struct mm_pfn_range holes[] = { { 100, 5 }, { 511, 2 } };
	struct mm_rng rng;
	mm_rng_seed(&rng, mm_test_seed());
	for (int fit = 0; fit < 2; fit++) {
		struct mm_bitmap_alloc *ba = mk(START, NR, MAXO, fit, holes, 2);
		uint8_t used[NR] = { 0 };
		uint64_t pfns[NR];
		unsigned int ords[NR];
		size_t n = 0, used_pages = 0;
		uint64_t iters = mm_test_iters(300000);
		for (uint64_t it = 0; it < iters; it++) {
			if (n == 0 || mm_rng_below(&rng, 100) < 55) {
				unsigned int o = (unsigned int)mm_rng_below(&rng, MAXO);
				uint64_t pfn;
				int err = mm_bitmap_alloc_pages(ba, o, &pfn);
				if (err == 0) {
					if (pfn & ((1ULL << o) - 1))
						mm_test_fail_seed("unaligned block %llu order %u",
								  (unsigned long long)pfn, o);
					for (uint64_t q = pfn; q < pfn + (1ULL << o); q++) {
						bool hole = (q >= 100 && q < 105) || (q >= 511 && q < 513);
						if (q < START || q >= START + NR || used[q - START] || hole)
							mm_test_fail_seed("pfn %llu handed out wrongly",
									  (unsigned long long)q);
						used[q - START] = 1;
					}
					pfns[n] = pfn;
					ords[n++] = o;
					used_pages += 1ULL << o;
				} else if (err != -MM_ENOMEM) {
					mm_test_fail_seed("unexpected error %d", err);
				} else {
					/* both fits search every aligned window
					 * (next-fit wraps): a failure means the
					 * model has no free aligned run either */
					uint64_t len = 1ULL << o;
					for (uint64_t s0 = (START + len - 1) & ~(len - 1);
					     s0 + len <= START + NR; s0 += len) {
						bool free_run = true;
						for (uint64_t q = s0; q < s0 + len && free_run; q++)
							free_run = !used[q - START] &&
								   !((q >= 100 && q < 105) ||
								     (q >= 511 && q < 513));
						if (free_run)
							mm_test_fail_seed("order %u failed, pfn %llu.. free",
									  o, (unsigned long long)s0);
					}
				}
			} else {
				size_t i = mm_rng_below(&rng, n);
				for (uint64_t q = pfns[i]; q < pfns[i] + (1ULL << ords[i]); q++)
					used[q - START] = 0;
				used_pages -= 1ULL << ords[i];
				mm_bitmap_free_pages(ba, pfns[i], ords[i]);
				pfns[i] = pfns[--n];
				ords[i] = ords[n];
			}
			if (mm_bitmap_alloc_check(ba))
				mm_test_fail_seed("check failed at op %llu", (unsigned long long)it);
			if (mm_bitmap_alloc_free_pages(ba) != NR - 7 - used_pages)
				mm_test_fail_seed("free count disagrees with the model");
		}
		while (n) {
			n--;
			mm_bitmap_free_pages(ba, pfns[n], ords[n]);
		}
		assert_int_equal(mm_bitmap_alloc_free_pages(ba), NR - 7);
		assert_int_equal(mm_bitmap_alloc_check(ba), 0);
		mm_bitmap_alloc_destroy(ba);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_next_fit_and_first_fit),
		cmocka_unit_test(test_next_fit_wraps),
		cmocka_unit_test(test_unaligned_holes_histogram),
		cmocka_unit_test(test_fragmentation_figures),
		cmocka_unit_test(test_page_source_real_memory),
		cmocka_unit_test(test_bad_free_aborts),
		cmocka_unit_test(test_random_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
