/* Bitmaps: every function against a bool-array model, with random ranges that
 * start and end on both sides of word boundaries. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "mmkit/bitmap.h"
#include "mmkit/compiler.h"
#include "mmkit/rng.h"

#define MAXBITS 700
#define GUARD   0xA5A5A5A5A5A5A5A5ULL

struct model {
	size_t nbits;
	bool b[MAXBITS];
	uint64_t map[MM_BITMAP_WORDS(MAXBITS) + 1]; /* + a guard word */
};

static size_t nwords(size_t nbits)
{
	return MM_BITMAP_WORDS(nbits);
}

/* The map agrees with the model on the first nbits bits; the guard is intact. */
static void check_same(const struct model *m)
{
	for (size_t i = 0; i < m->nbits; i++)
		if (mm_bit_test(m->map, i) != m->b[i])
			mm_test_fail_seed("bit %zu: map %d model %d (nbits %zu)", i,
					  mm_bit_test(m->map, i), m->b[i], m->nbits);
	if (m->map[nwords(m->nbits)] != GUARD)
		mm_test_fail_seed("guard word overwritten (nbits %zu)", m->nbits);
}

static size_t model_next(const struct model *m, size_t start, bool val)
{
	for (size_t i = start; i < m->nbits; i++)
		if (m->b[i] == val)
			return i;
	return m->nbits;
}

static bool model_range_all(const struct model *m, size_t start, size_t len, bool val)
{
	for (size_t i = start; i < start + len; i++)
		if (m->b[i] != val)
			return false;
	return true;
}

static size_t model_zero_area(const struct model *m, size_t start, size_t len, size_t align)
{
	size_t a = align ? align : 1;
	for (size_t i = (start + a - 1) / a * a; i < m->nbits && i + len <= m->nbits; i += a)
		if (model_range_all(m, i, len, false))
			return i;
	return m->nbits;
}

/* A random position biased towards word boundaries. */
static size_t rand_pos(struct mm_rng *r, size_t limit)
{
	if (limit == 0)
		return 0;
	if (mm_rng_below(r, 3) == 0) {
		size_t w = (size_t)mm_rng_below(r, limit / 64 + 1) * 64;
		size_t p = w + (size_t)mm_rng_below(r, 3) - 1;
		if (p <= limit)
			return p;
	}
	return (size_t)mm_rng_below(r, limit + 1);
}

static void model_init(struct model *m, size_t nbits, struct mm_rng *r)
{
	m->nbits = nbits;
	for (size_t w = 0; w < MM_ARRAY_SIZE(m->map); w++)
		m->map[w] = mm_rng_next(r); /* garbage that the functions must respect */
	m->map[nwords(nbits)] = GUARD;
	for (size_t i = 0; i < nbits; i++)
		m->b[i] = mm_bit_test(m->map, i);
}

static void test_single_bits(void **state)
{
	(void)state;
	uint64_t map[3] = { 0, 0, 0 };
	assert_false(mm_bit_test_and_set(map, 63));
	assert_true(mm_bit_test_and_set(map, 63));
	assert_int_equal(map[0], 1ULL << 63);
	mm_bit_set(map, 64);
	assert_int_equal(map[1], 1);
	assert_true(mm_bit_test_and_clear(map, 64));
	assert_false(mm_bit_test_and_clear(map, 64));
	assert_int_equal(map[1], 0);
	mm_bitmap_set_range(map, 60, 70); /* 60..129 */
	assert_int_equal(map[0], 0xFULL << 60);
	assert_int_equal(map[1], ~0ULL);
	assert_int_equal(map[2], 0x3);
	assert_int_equal(mm_bitmap_weight(map, 192), 70);
	assert_int_equal(mm_bitmap_weight(map, 129), 69);
	assert_int_equal(mm_bitmap_find_next_bit(map, 192, 0), 60);
	assert_int_equal(mm_bitmap_find_next_zero_bit(map, 192, 60), 130);
	assert_int_equal(mm_bitmap_find_next_zero_bit(map, 130, 60), 130);
	mm_bitmap_clear_range(map, 64, 64);
	assert_int_equal(map[1], 0);
	assert_int_equal(map[0], 0xFULL << 60);
	/* zero area: free 0..59, 64..127, 130..191 */
	assert_int_equal(mm_bitmap_find_next_zero_area(map, 192, 0, 64, 1), 64);
	assert_int_equal(mm_bitmap_find_next_zero_area(map, 192, 0, 60, 1), 0);
	assert_int_equal(mm_bitmap_find_next_zero_area(map, 192, 1, 60, 1), 64);
	assert_int_equal(mm_bitmap_find_next_zero_area(map, 192, 0, 62, 64), 64);
	assert_int_equal(mm_bitmap_find_next_zero_area(map, 192, 0, 65, 1), 192);
	assert_int_equal(mm_bitmap_find_next_zero_area(map, 192, 1, 62, 128), 192);
	assert_int_equal(mm_bitmap_find_next_zero_area(map, 192, 100, 62, 2), 130);
	assert_int_equal(mm_bitmap_find_next_zero_area(map, 192, 100, 62, 4), 192);
	assert_int_equal(mm_bitmap_find_next_zero_area(map, 192, 100, 63, 1), 192);
	assert_int_equal(mm_bitmap_find_next_zero_area(map, 192, 100, 0, 8), 104);
	assert_int_equal(mm_bitmap_find_next_zero_area(map, 192, 0, 500, 1), 192);
}

static void test_random_vs_model(void **state)
{
	(void)state;
	struct mm_rng r;
	mm_rng_seed(&r, mm_test_seed());
	struct model *m = malloc(sizeof(*m));
	assert_non_null(m);
	uint64_t rounds = mm_test_iters(3000);
	for (uint64_t round = 0; round < rounds; round++) {
		size_t nbits = rand_pos(&r, MAXBITS - 1) + 1;
		model_init(m, nbits, &r);
		check_same(m);
		for (int op = 0; op < 60; op++) {
			size_t start = rand_pos(&r, nbits);
			size_t len = rand_pos(&r, nbits - start);
			switch (mm_rng_below(&r, 9)) {
			case 0:
				mm_bitmap_set_range(m->map, start, len);
				for (size_t i = start; i < start + len; i++)
					m->b[i] = true;
				break;
			case 1:
			case 2: /* clear more often than set, so zero areas exist */
				mm_bitmap_clear_range(m->map, start, len);
				for (size_t i = start; i < start + len; i++)
					m->b[i] = false;
				break;
			case 3: {
				size_t w = mm_bitmap_weight(m->map, nbits), e = 0;
				for (size_t i = 0; i < nbits; i++)
					e += m->b[i];
				if (w != e)
					mm_test_fail_seed("weight %zu, model %zu", w, e);
				/* weight of a prefix */
				size_t k = rand_pos(&r, nbits);
				w = mm_bitmap_weight(m->map, k);
				e = 0;
				for (size_t i = 0; i < k; i++)
					e += m->b[i];
				if (w != e)
					mm_test_fail_seed("weight(%zu) %zu, model %zu", k, w, e);
				break;
			}
			case 4: {
				size_t got = mm_bitmap_find_next_bit(m->map, nbits, start);
				size_t exp = model_next(m, start, true);
				if (got != exp)
					mm_test_fail_seed("next_bit(%zu) %zu, model %zu", start, got, exp);
				got = mm_bitmap_find_next_zero_bit(m->map, nbits, start);
				exp = model_next(m, start, false);
				if (got != exp)
					mm_test_fail_seed("next_zero(%zu) %zu, model %zu", start, got, exp);
				break;
			}
			case 5: {
				bool c = mm_bitmap_range_is_clear(m->map, start, len);
				bool s = mm_bitmap_range_is_set(m->map, start, len);
				if (c != model_range_all(m, start, len, false) ||
				    s != model_range_all(m, start, len, true))
					mm_test_fail_seed("range_is [%zu,+%zu): clear %d set %d", start,
							  len, c, s);
				break;
			}
			case 6:
			case 7: {
				size_t align = 1ULL << mm_rng_below(&r, 8);
				size_t l = (size_t)mm_rng_below(&r, 90);
				size_t got = mm_bitmap_find_next_zero_area(m->map, nbits, start, l, align);
				size_t exp = model_zero_area(m, start, l, align);
				if (got != exp)
					mm_test_fail_seed("zero_area(start %zu len %zu align %zu) %zu, model %zu",
							  start, l, align, got, exp);
				break;
			}
			case 8:
				if (mm_rng_below(&r, 4) == 0) {
					if (mm_rng_below(&r, 2)) {
						mm_bitmap_zero(m->map, nbits);
						memset(m->b, 0, sizeof(m->b));
					} else {
						mm_bitmap_fill(m->map, nbits);
						memset(m->b, 1, sizeof(m->b));
					}
				}
				break;
			}
			check_same(m);
		}
	}
	free(m);
}

/* zero/fill touch exactly the first nbits bits. */
static void test_zero_fill_exact(void **state)
{
	(void)state;
	uint64_t map[3] = { 0, 0, 0 };
	mm_bitmap_fill(map, 70);
	assert_int_equal(map[0], ~0ULL);
	assert_int_equal(map[1], 0x3F);
	assert_int_equal(map[2], 0);
	map[1] |= 1ULL << 40;
	mm_bitmap_zero(map, 70);
	assert_int_equal(map[0], 0);
	assert_int_equal(map[1], 1ULL << 40);
	assert_int_equal(mm_bitmap_weight(map, 0), 0);
	assert_int_equal(mm_bitmap_find_next_bit(map, 0, 0), 0);
	assert_int_equal(mm_bitmap_find_next_bit(map, 128, 0), 104);
	assert_int_equal(mm_bitmap_find_next_bit(map, 104, 0), 104);
	assert_true(mm_bitmap_range_is_clear(map, 0, 104));
	assert_false(mm_bitmap_range_is_clear(map, 0, 105));
	assert_true(mm_bitmap_range_is_set(map, 104, 1));
	assert_true(mm_bitmap_range_is_set(map, 5, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_bits),
		cmocka_unit_test(test_zero_fill_exact),
		cmocka_unit_test(test_random_vs_model),
	};
	mm_test_seed();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
