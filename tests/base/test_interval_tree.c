/* Interval tree: random inserts, removes and overlap queries against a
 * brute-force list, with the checker after every update; queries must
 * return exactly the overlapping intervals, in start order. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "mmkit/error.h"
#include "mmkit/interval_tree.h"
#include "mmkit/rng.h"

#define N 400

struct iv {
	struct mm_interval_node node;
	bool in_tree;
	int seq; /* insertion order, for ties on start */
};

/* The brute-force answer, in (start, insertion order), i.e. the tree's
 * in-order sequence. */
static int brute(struct iv *all, uint64_t s, uint64_t l, struct iv **out)
{
	int n = 0;
	for (int i = 0; i < N; i++)
		if (all[i].in_tree && all[i].node.start <= l && all[i].node.last >= s)
			out[n++] = &all[i];
	/* insertion sort by (start, seq) */
	for (int i = 1; i < n; i++) {
		struct iv *x = out[i];
		int j = i;
		while (j > 0 && (out[j - 1]->node.start > x->node.start ||
				 (out[j - 1]->node.start == x->node.start && out[j - 1]->seq > x->seq))) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = x;
	}
	return n;
}

static void query_and_compare(struct mm_rb_root_cached *root, struct iv *all, uint64_t s,
			      uint64_t l, uint64_t op)
{
	static struct iv *want[N];
	int n = brute(all, s, l, want), i = 0;
	for (struct mm_interval_node *x = mm_interval_tree_iter_first(root, s, l); x;
	     x = mm_interval_tree_iter_next(x, s, l), i++) {
		if (i >= n || x != &want[i]->node)
			mm_test_fail_seed("op %llu: query [%llu, %llu] result %d wrong (%d expected)",
					  (unsigned long long)op, (unsigned long long)s,
					  (unsigned long long)l, i, n);
	}
	if (i != n)
		mm_test_fail_seed("op %llu: query [%llu, %llu] found %d of %d",
				  (unsigned long long)op, (unsigned long long)s, (unsigned long long)l,
				  i, n);
}

static void test_random_vs_brute_force(void **state)
{
	(void)state;
	struct mm_rng r;
	mm_rng_seed(&r, mm_test_seed());
	struct iv *all = calloc(N, sizeof(*all));
	assert_non_null(all);
	struct mm_rb_root_cached root = MM_RB_ROOT_CACHED;
	assert_null(mm_interval_tree_iter_first(&root, 0, UINT64_MAX));
	int seq = 0;
	uint64_t ops = mm_test_iters(30000);
	for (uint64_t op = 0; op < ops; op++) {
		/* coordinates in a small space so overlaps and ties are common;
		 * now and then near the top of the 64-bit range */
		uint64_t base = (op / 2000) % 3 == 2 ? UINT64_MAX - 2000 : 0;
		int i = (int)mm_rng_below(&r, N);
		struct iv *v = &all[i];
		if (!v->in_tree) {
			uint64_t s = base + mm_rng_below(&r, 1000);
			uint64_t len = mm_rng_below(&r, 4) ? mm_rng_below(&r, 20) : mm_rng_below(&r, 500);
			v->node.start = s;
			v->node.last = s + len < s ? UINT64_MAX : s + len;
			v->seq = seq++;
			mm_interval_tree_insert(&v->node, &root);
			v->in_tree = true;
		} else {
			mm_interval_tree_remove(&v->node, &root);
			v->in_tree = false;
		}
		if (mm_interval_tree_check(&root))
			mm_test_fail_seed("check failed after op %llu", (unsigned long long)op);
		uint64_t qs = base + mm_rng_below(&r, 1100);
		uint64_t ql = qs + (mm_rng_below(&r, 3) ? mm_rng_below(&r, 10) : mm_rng_below(&r, 300));
		if (ql < qs)
			ql = UINT64_MAX;
		query_and_compare(&root, all, qs, ql, op);
		if (op % 256 == 0) {
			query_and_compare(&root, all, 0, UINT64_MAX, op); /* everything */
			query_and_compare(&root, all, qs, qs, op);        /* a stabbing query */
		}
		/* when the drift moves to another range, empty the tree */
		if (op % 2000 == 1999)
			for (int k = 0; k < N; k++)
				if (all[k].in_tree) {
					mm_interval_tree_remove(&all[k].node, &root);
					all[k].in_tree = false;
				}
	}
	free(all);
}

static void test_small_cases(void **state)
{
	(void)state;
	struct mm_rb_root_cached root = MM_RB_ROOT_CACHED;
	struct mm_interval_node a = { .start = 10, .last = 20 }, b = { .start = 15, .last = 15 },
				c = { .start = 30, .last = 40 }, d = { .start = 0, .last = 100 };
	mm_interval_tree_insert(&a, &root);
	mm_interval_tree_insert(&b, &root);
	mm_interval_tree_insert(&c, &root);
	assert_int_equal(mm_interval_tree_check(&root), 0);
	assert_ptr_equal(mm_interval_tree_iter_first(&root, 15, 15), &a);
	assert_ptr_equal(mm_interval_tree_iter_next(&a, 15, 15), &b);
	assert_null(mm_interval_tree_iter_next(&b, 15, 15));
	assert_null(mm_interval_tree_iter_first(&root, 21, 29)); /* in a hole */
	assert_null(mm_interval_tree_iter_first(&root, 41, 50)); /* past the end */
	assert_null(mm_interval_tree_iter_first(&root, 0, 9));   /* before the start */
	assert_ptr_equal(mm_interval_tree_iter_first(&root, 20, 30), &a);
	assert_ptr_equal(mm_interval_tree_iter_next(&a, 20, 30), &c);
	mm_interval_tree_insert(&d, &root); /* new leftmost, covers all */
	assert_ptr_equal(mm_interval_tree_iter_first(&root, 25, 25), &d);
	assert_null(mm_interval_tree_iter_next(&d, 25, 25));
	assert_int_equal(mm_interval_tree_check(&root), 0);
	mm_interval_tree_remove(&d, &root);
	assert_null(mm_interval_tree_iter_first(&root, 25, 25));
	assert_int_equal(mm_interval_tree_check(&root), 0);
	/* a broken summary is caught */
	a.subtree_last = 1;
	assert_int_equal(mm_interval_tree_check(&root), -MM_ECORRUPT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_cases),
		cmocka_unit_test(test_random_vs_brute_force),
	};
	mm_test_seed();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
