/* Intrusive list: operations against an array model, and the checker. */
#include "testutil.h"

#include "mmkit/list.h"
#include "mmkit/rng.h"

struct item {
	int v;
	struct mm_list link;
};

static void test_add_del_order(void **state)
{
	(void)state;
	struct mm_list head = MM_LIST_INIT(head);
	struct item it[5];
	assert_true(mm_list_empty(&head));
	for (int i = 0; i < 5; i++) {
		it[i].v = i;
		mm_list_add_tail(&it[i].link, &head);
	}
	assert_int_equal(mm_list_count(&head), 5);
	struct item *pos;
	int expect = 0;
	mm_list_for_each_entry(pos, &head, link)
		assert_int_equal(pos->v, expect++);
	mm_list_del(&it[2].link);
	assert_true(mm_list_empty(&it[2].link));
	mm_list_del(&it[2].link); /* second delete is harmless */
	assert_int_equal(mm_list_count(&head), 4);
	mm_list_move(&it[4].link, &head);
	assert_int_equal(mm_list_first_entry(&head, struct item, link)->v, 4);
	assert_int_equal(mm_list_last_entry(&head, struct item, link)->v, 3);
	assert_int_equal(mm_list_check(&head, 10), 0);
	it[1].link.next = &it[0].link; /* corrupt: 0's prev does not point back to 1 */
	assert_int_equal(mm_list_check(&head, 10), -1001);
}

static void test_splice_and_safe_iter(void **state)
{
	(void)state;
	struct mm_list a = MM_LIST_INIT(a), b = MM_LIST_INIT(b);
	struct item it[6];
	for (int i = 0; i < 6; i++) {
		it[i].v = i;
		mm_list_add_tail(&it[i].link, i < 3 ? &a : &b);
	}
	mm_list_splice_tail(&b, &a);
	assert_true(mm_list_empty(&b));
	assert_int_equal(mm_list_count(&a), 6);
	struct item *pos, *tmp;
	int expect = 0;
	mm_list_for_each_entry_safe(pos, tmp, &a, link) {
		assert_int_equal(pos->v, expect++);
		if (pos->v % 2)
			mm_list_del(&pos->link);
	}
	assert_int_equal(mm_list_count(&a), 3);
	assert_true(mm_list_is_singular(&b) == false);
}

/* Random moves between 4 lists, checked against an array of owners. */
static void test_random_model(void **state)
{
	(void)state;
	enum { N = 64, L = 4 };
	struct mm_rng rng;
	mm_rng_seed(&rng, mm_test_seed());
	struct mm_list heads[L];
	struct item it[N];
	int owner[N];
	for (int i = 0; i < L; i++)
		mm_list_init(&heads[i]);
	for (int i = 0; i < N; i++) {
		it[i].v = i;
		owner[i] = -1;
		mm_list_init(&it[i].link);
	}
	uint64_t iters = mm_test_iters(200000);
	for (uint64_t k = 0; k < iters; k++) {
		int i = (int)mm_rng_below(&rng, N), l = (int)mm_rng_below(&rng, L);
		if (mm_rng_below(&rng, 4) == 0) {
			mm_list_del(&it[i].link);
			owner[i] = -1;
		} else {
			if (mm_rng_below(&rng, 2))
				mm_list_move(&it[i].link, &heads[l]);
			else
				mm_list_move_tail(&it[i].link, &heads[l]);
			owner[i] = l;
		}
		if (k % 1024 == 0) {
			for (int j = 0; j < L; j++) {
				size_t want = 0;
				for (int m = 0; m < N; m++)
					want += owner[m] == j;
				if (mm_list_check(&heads[j], N) != 0 || mm_list_count(&heads[j]) != want)
					mm_test_fail_seed("list %d inconsistent at step %llu", j,
							  (unsigned long long)k);
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_del_order),
		cmocka_unit_test(test_splice_and_safe_iter),
		cmocka_unit_test(test_random_model),
	};
	return cmocka_run_group_tests_name("list", tests, NULL, NULL);
}
