/* Red-black tree: random inserts and erases against a sorted-array model with
 * the full checker after every operation, in-order / reverse / post-order
 * walks, replace, the comparator helpers, corruption detection, and an
 * augmented tree keeping the subtree maximum (how the VMA tree keeps its
 * largest free gap). */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "mmkit/error.h"
#include "mmkit/rbtree.h"
#include "mmkit/rng.h"

#define KEYSPACE 1000

struct item {
	struct mm_rb_node rb;
	int key;
	uint64_t val; /* augmented test: a payload ... */
	uint64_t max; /* ... and the max of val over the subtree */
	int seq;      /* insertion order, for duplicate keys */
	bool in_tree;
};

static struct item *item_of(const struct mm_rb_node *n)
{
	return mm_rb_entry((struct mm_rb_node *)(uintptr_t)n, struct item, rb);
}

static int item_cmp(const struct mm_rb_node *a, const struct mm_rb_node *b)
{
	int x = item_of(a)->key, y = item_of(b)->key;
	return (x > y) - (x < y);
}

static bool item_less(const struct mm_rb_node *a, const struct mm_rb_node *b)
{
	return item_of(a)->key < item_of(b)->key;
}

static int key_cmp(const void *key, const struct mm_rb_node *n)
{
	int x = *(const int *)key, y = item_of(n)->key;
	return (x > y) - (x < y);
}

/* Caller-driven insertion, as users of the tree write it. Returns false if
 * the key is present. */
static bool insert_plain(struct mm_rb_root *root, struct item *it)
{
	struct mm_rb_node **link = &root->node, *parent = NULL;
	while (*link) {
		parent = *link;
		int c = it->key - item_of(parent)->key;
		if (c == 0)
			return false;
		link = c < 0 ? &parent->left : &parent->right;
	}
	mm_rb_link_node(&it->rb, parent, link);
	mm_rb_insert_color(&it->rb, root);
	return true;
}

/* ---- augmented: subtree max --------------------------------------------- */

static uint64_t item_compute_max(const struct item *it)
{
	uint64_t m = it->val;
	if (it->rb.left && item_of(it->rb.left)->max > m)
		m = item_of(it->rb.left)->max;
	if (it->rb.right && item_of(it->rb.right)->max > m)
		m = item_of(it->rb.right)->max;
	return m;
}

MM_RB_DECLARE_CALLBACKS(max_cb, struct item, rb, uint64_t, max, item_compute_max);

static bool max_ok(const struct mm_rb_node *n)
{
	const struct item *it = item_of(n);
	return it->max == item_compute_max(it);
}

static void insert_aug(struct mm_rb_root *root, struct item *it)
{
	struct mm_rb_node **link = &root->node, *parent = NULL;
	while (*link) {
		parent = *link;
		link = it->key < item_of(parent)->key ? &parent->left : &parent->right;
	}
	/* whatever the caller leaves in the summary, insert_augmented must get
	 * the node and every ancestor right: the natural "max = val" (which
	 * defeats a propagation that stops at the first unchanged node), a
	 * stale value, or a value that is too large */
	switch (it->key % 3) {
	case 0: it->max = it->val; break;
	case 1: it->max = 0; break;
	default: it->max = UINT64_MAX; break;
	}
	mm_rb_link_node(&it->rb, parent, link);
	mm_rb_insert_augmented(&it->rb, root, &max_cb);
}

/* Leftmost item with val >= t, found in O(log n) through the subtree max. */
static struct item *first_at_least(const struct mm_rb_root *root, uint64_t t)
{
	struct mm_rb_node *n = root->node;
	if (!n || item_of(n)->max < t)
		return NULL;
	for (;;) {
		if (n->left && item_of(n->left)->max >= t)
			n = n->left;
		else if (item_of(n)->val >= t)
			return item_of(n);
		else
			n = n->right; /* must hold it: max >= t */
	}
}

/* ---- model -------------------------------------------------------------- */

struct model {
	struct item items[KEYSPACE]; /* item k has key k */
	int sorted[KEYSPACE];        /* keys in the tree, ascending */
	int n;
};

static void model_add(struct model *m, int key)
{
	int i = m->n;
	while (i > 0 && m->sorted[i - 1] > key) {
		m->sorted[i] = m->sorted[i - 1];
		i--;
	}
	m->sorted[i] = key;
	m->n++;
}

static void model_del(struct model *m, int key)
{
	int i = 0;
	while (m->sorted[i] != key)
		i++;
	memmove(&m->sorted[i], &m->sorted[i + 1], (size_t)(m->n - i - 1) * sizeof(int));
	m->n--;
}

static void compare_walks(const struct mm_rb_root *root, const struct model *m)
{
	int i = 0;
	for (struct mm_rb_node *n = mm_rb_first(root); n; n = mm_rb_next(n), i++)
		if (i >= m->n || item_of(n)->key != m->sorted[i])
			mm_test_fail_seed("in-order walk differs at %d", i);
	if (i != m->n)
		mm_test_fail_seed("in-order walk saw %d of %d", i, m->n);
	for (struct mm_rb_node *n = mm_rb_last(root); n; n = mm_rb_prev(n))
		if (--i < 0 || item_of(n)->key != m->sorted[i])
			mm_test_fail_seed("reverse walk differs at %d", i);
	if (i != 0)
		mm_test_fail_seed("reverse walk stopped early at %d", i);
}

static void random_run(bool augmented)
{
	struct mm_rng r;
	mm_rng_seed(&r, mm_test_seed() + augmented);
	struct model *m = calloc(1, sizeof(*m));
	assert_non_null(m);
	for (int k = 0; k < KEYSPACE; k++)
		m->items[k].key = k;
	struct mm_rb_root root = MM_RB_ROOT;
	uint64_t ops = mm_test_iters(30000);
	for (uint64_t op = 0; op < ops; op++) {
		/* drift between small and large trees */
		int span = (op / 3000) % 2 ? KEYSPACE : 64 + (int)(op / 300 % 10) * 30;
		int key = (int)mm_rng_below(&r, (uint64_t)span);
		struct item *it = &m->items[key];
		bool grow = mm_rng_below(&r, 100) < ((op / 1500) % 2 ? 70 : 35);
		if (!it->in_tree && grow) {
			it->val = mm_rng_below(&r, 1u << 20);
			if (augmented) {
				insert_aug(&root, it);
			} else if (!insert_plain(&root, it)) {
				mm_test_fail_seed("insert of absent key %d refused", key);
			}
			it->in_tree = true;
			model_add(m, key);
		} else if (it->in_tree && !grow) {
			if (augmented)
				mm_rb_erase_augmented(&it->rb, &root, &max_cb);
			else
				mm_rb_erase(&it->rb, &root);
			mm_rb_clear_node(&it->rb);
			it->in_tree = false;
			model_del(m, key);
		} else if (augmented && it->in_tree) {
			/* change a payload in place and propagate */
			it->val = mm_rng_below(&r, 1u << 20);
			max_cb.propagate(&it->rb, NULL);
		}
		int rc = augmented ? mm_rb_check_augmented(&root, item_cmp, max_ok)
				   : mm_rb_check(&root, item_cmp);
		if (rc)
			mm_test_fail_seed("check failed after op %llu", (unsigned long long)op);
		if (op % 16 == 0 || m->n < 8)
			compare_walks(&root, m);
		int probe = (int)mm_rng_below(&r, KEYSPACE);
		struct mm_rb_node *f = mm_rb_find(&probe, &root, key_cmp);
		if ((f != NULL) != m->items[probe].in_tree || (f && item_of(f)->key != probe))
			mm_test_fail_seed("find(%d) wrong", probe);
		if (augmented && op % 4 == 0) {
			uint64_t t = mm_rng_below(&r, 1u << 20);
			struct item *want = NULL;
			for (int i = 0; i < m->n && !want; i++)
				if (m->items[m->sorted[i]].val >= t)
					want = &m->items[m->sorted[i]];
			if (first_at_least(&root, t) != want)
				mm_test_fail_seed("subtree-max search for %llu wrong",
						  (unsigned long long)t);
		}
	}
	/* tear down with the post-order walk: children come before parents */
	int seen = 0;
	struct mm_rb_node *next;
	for (struct mm_rb_node *n = mm_rb_first_postorder(&root); n; n = next) {
		if ((n->left && !mm_rb_empty_node(n->left)) || (n->right && !mm_rb_empty_node(n->right)))
			mm_test_fail_seed("post-order visited a parent before its child");
		next = mm_rb_next_postorder(n);
		mm_rb_clear_node(n); /* "freed": the walk must not come back */
		seen++;
	}
	assert_int_equal(seen, m->n);
	free(m);
}

static void test_random_plain(void **state)
{
	(void)state;
	random_run(false);
}

static void test_random_augmented(void **state)
{
	(void)state;
	random_run(true);
}

static void test_sequential_and_height(void **state)
{
	(void)state;
	enum { N = 4096 };
	struct item *it = calloc(N, sizeof(*it));
	assert_non_null(it);
	struct mm_rb_root root = MM_RB_ROOT;
	assert_null(mm_rb_first(&root));
	assert_null(mm_rb_last(&root));
	assert_null(mm_rb_first_postorder(&root));
	assert_int_equal(mm_rb_check(&root, item_cmp), 0);
	for (int i = 0; i < N; i++) { /* ascending: the worst case for a plain BST */
		it[i].key = i;
		assert_true(insert_plain(&root, &it[i]));
	}
	assert_false(insert_plain(&root, &(struct item){ .key = 7 }));
	assert_int_equal(mm_rb_check(&root, item_cmp), 0);
	/* height <= 2 log2(n + 1) = 24 */
	int maxdepth = 0;
	for (int i = 0; i < N; i++) {
		int d = 0;
		for (struct mm_rb_node *n = &it[i].rb; n; n = mm_rb_parent(n))
			d++;
		maxdepth = d > maxdepth ? d : maxdepth;
	}
	assert_true(maxdepth <= 24);
	assert_int_equal(item_of(mm_rb_first(&root))->key, 0);
	assert_int_equal(item_of(mm_rb_last(&root))->key, N - 1);
	/* erase every other, then the rest, checking as we go */
	for (int i = 0; i < N; i += 2) {
		mm_rb_erase(&it[i].rb, &root);
		assert_int_equal(mm_rb_check(&root, item_cmp), 0);
	}
	assert_int_equal(item_of(mm_rb_first(&root))->key, 1);
	for (int i = 1; i < N; i += 2)
		mm_rb_erase(&it[i].rb, &root);
	assert_true(mm_rb_empty(&root));
	free(it);
}

static void test_replace_and_duplicates(void **state)
{
	(void)state;
	struct item it[8], repl = { .key = 3 };
	struct mm_rb_root root = MM_RB_ROOT;
	for (int i = 0; i < 8; i++) {
		it[i].key = i;
		insert_plain(&root, &it[i]);
	}
	mm_rb_replace_node(&it[3].rb, &repl.rb, &root);
	assert_int_equal(mm_rb_check(&root, item_cmp), 0);
	int k = 3;
	assert_ptr_equal(mm_rb_find(&k, &root, key_cmp), &repl.rb);
	assert_ptr_equal(mm_rb_next(&repl.rb), &it[4].rb);
	assert_ptr_equal(mm_rb_prev(&repl.rb), &it[2].rb);
	/* the root itself */
	struct item *top = item_of(root.node), nt = { .key = top->key };
	mm_rb_replace_node(&top->rb, &nt.rb, &root);
	assert_ptr_equal(root.node, &nt.rb);
	assert_int_equal(mm_rb_check(&root, item_cmp), 0);

	/* mm_rb_add keeps equal keys in insertion order */
	struct mm_rb_root dup = MM_RB_ROOT;
	struct item d[40];
	for (int i = 0; i < 40; i++) {
		d[i].key = i % 4;
		d[i].seq = i;
		mm_rb_add(&d[i].rb, &dup, item_less);
		assert_int_equal(mm_rb_check(&dup, item_cmp), 0);
	}
	int prev_key = -1, prev_seq = -1;
	for (struct mm_rb_node *n = mm_rb_first(&dup); n; n = mm_rb_next(n)) {
		struct item *x = item_of(n);
		assert_true(x->key >= prev_key);
		if (x->key == prev_key)
			assert_true(x->seq > prev_seq);
		prev_key = x->key;
		prev_seq = x->seq;
	}
}

static void test_check_detects_corruption(void **state)
{
	(void)state;
	struct item it[15];
	struct mm_rb_root root = MM_RB_ROOT;
	for (int i = 0; i < 15; i++) {
		it[i].key = i;
		insert_plain(&root, &it[i]);
	}
	assert_int_equal(mm_rb_check(&root, item_cmp), 0);

	/* order */
	it[0].key = 100;
	assert_int_equal(mm_rb_check(&root, item_cmp), -MM_ECORRUPT);
	assert_int_equal(mm_rb_check(&root, NULL), 0); /* no comparator, no order check */
	it[0].key = 0;

	/* a red root */
	uintptr_t saved = root.node->parent_color;
	root.node->parent_color &= ~(uintptr_t)1;
	assert_int_equal(mm_rb_check(&root, item_cmp), -MM_ECORRUPT);
	root.node->parent_color = saved;

	/* a black leaf flipped red or red flipped black breaks a rule */
	struct mm_rb_node *leaf = mm_rb_first(&root);
	saved = leaf->parent_color;
	leaf->parent_color ^= 1;
	assert_int_equal(mm_rb_check(&root, item_cmp), -MM_ECORRUPT);
	leaf->parent_color = saved;

	/* a wrong parent pointer */
	struct mm_rb_node *n = mm_rb_last(&root);
	saved = n->parent_color;
	n->parent_color = (uintptr_t)&it[0].rb | (saved & 1);
	if (mm_rb_parent(n) == &it[0].rb && &it[0].rb != (struct mm_rb_node *)(saved & ~(uintptr_t)1))
		assert_int_equal(mm_rb_check(&root, item_cmp), -MM_ECORRUPT);
	n->parent_color = saved;
	assert_int_equal(mm_rb_check(&root, item_cmp), 0);

	/* augmented summaries: node_ok is consulted */
	assert_int_equal(mm_rb_check_augmented(&root, item_cmp, max_ok), -MM_ECORRUPT);
}

/* Cached-leftmost tree used as a priority queue: the leftmost is always the
 * minimum, through random adds (duplicates included) and erases. */
static void test_cached_leftmost(void **state)
{
	(void)state;
	struct mm_rng r;
	mm_rng_seed(&r, mm_test_seed() ^ 0xcafe);
	enum { N = 512 };
	struct item *it = calloc(N, sizeof(*it));
	assert_non_null(it);
	struct mm_rb_root_cached root = MM_RB_ROOT_CACHED;
	assert_null(mm_rb_first_cached(&root));
	int live = 0;
	uint64_t ops = mm_test_iters(40000);
	for (uint64_t op = 0; op < ops; op++) {
		int i = (int)mm_rng_below(&r, N);
		if (!it[i].in_tree) {
			it[i].key = (int)mm_rng_below(&r, 300);
			bool lm = mm_rb_add_cached(&it[i].rb, &root, item_less);
			it[i].in_tree = true;
			live++;
			if (lm != (mm_rb_first_cached(&root) == &it[i].rb))
				mm_test_fail_seed("add_cached leftmost flag wrong");
		} else if (mm_rng_below(&r, 2)) {
			/* pop the minimum, as a priority queue does */
			struct mm_rb_node *first = mm_rb_first_cached(&root);
			struct mm_rb_node *next = mm_rb_erase_cached(first, &root);
			if (next != mm_rb_first_cached(&root))
				mm_test_fail_seed("erase_cached returned the wrong leftmost");
			item_of(first)->in_tree = false;
			live--;
		} else {
			mm_rb_erase_cached(&it[i].rb, &root);
			it[i].in_tree = false;
			live--;
		}
		if (mm_rb_first_cached(&root) != mm_rb_first(&root.rb_root) ||
		    mm_rb_check(&root.rb_root, item_cmp))
			mm_test_fail_seed("op %llu: cached leftmost wrong or tree broken",
					  (unsigned long long)op);
		int min = 1 << 30, n = 0;
		if (op % 64 == 0) {
			for (int k = 0; k < N; k++)
				if (it[k].in_tree) {
					n++;
					min = it[k].key < min ? it[k].key : min;
				}
			if (n != live || (n && item_of(mm_rb_first_cached(&root))->key != min))
				mm_test_fail_seed("op %llu: leftmost is not the minimum",
						  (unsigned long long)op);
		}
	}
	free(it);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sequential_and_height),
		cmocka_unit_test(test_replace_and_duplicates),
		cmocka_unit_test(test_check_detects_corruption),
		cmocka_unit_test(test_random_plain),
		cmocka_unit_test(test_random_augmented),
		cmocka_unit_test(test_cached_leftmost),
	};
	mm_test_seed();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
