/* Interval tree: an augmented red-black tree of closed intervals.
 *
 * Algorithm: nodes are kept in start order; every node also stores the
 * largest `last` of its subtree (Cormen et al., "Introduction to
 * Algorithms", 14.3; Linux lib/interval_tree.c and interval_tree_generic.h).
 * A query [start, last] descends left while the left subtree still reaches
 * `start` (its subtree_last >= start), so the first node met that overlaps
 * is the overlapping node with the smallest start; nodes whose start exceeds
 * `last` end the search, since everything to their right starts later.
 * The next overlap is found by the same descent in the right subtree, or by
 * climbing to the first ancestor reached from its left side.
 *
 * Costs: O(log n) per insert, remove and per overlap reported (each step of
 * a search moves down or up one level of a tree of height <= 2 log2(n+1)).
 * No memory is allocated: nodes are embedded in the caller's objects.
 */
#include "mmkit/compiler.h"
#include "mmkit/error.h"
#include "mmkit/interval_tree.h"

static inline struct mm_interval_node *inode(const struct mm_rb_node *rb)
{
	return mm_rb_entry((struct mm_rb_node *)(uintptr_t)rb, struct mm_interval_node, rb);
}

static uint64_t compute_subtree_last(const struct mm_interval_node *n)
{
	uint64_t m = n->last;
	if (n->rb.left && inode(n->rb.left)->subtree_last > m)
		m = inode(n->rb.left)->subtree_last;
	if (n->rb.right && inode(n->rb.right)->subtree_last > m)
		m = inode(n->rb.right)->subtree_last;
	return m;
}

MM_RB_DECLARE_CALLBACKS(itree_cb, struct mm_interval_node, rb, uint64_t, subtree_last,
			compute_subtree_last);

/* ---- updates ------------------------------------------------------------ */

void mm_interval_tree_insert(struct mm_interval_node *node, struct mm_rb_root_cached *root)
{
	struct mm_rb_node **link = &root->rb_root.node, *parent = NULL;
	bool leftmost = true;
	while (*link) {
		parent = *link;
		if (node->start < inode(parent)->start) {
			link = &parent->left;
		} else {
			link = &parent->right;
			leftmost = false;
		}
	}
	node->subtree_last = node->last;
	mm_rb_link_node(&node->rb, parent, link);
	if (leftmost)
		root->rb_leftmost = &node->rb;
	mm_rb_insert_augmented(&node->rb, &root->rb_root, &itree_cb);
}

void mm_interval_tree_remove(struct mm_interval_node *node, struct mm_rb_root_cached *root)
{
	if (root->rb_leftmost == &node->rb)
		root->rb_leftmost = mm_rb_next(&node->rb);
	mm_rb_erase_augmented(&node->rb, &root->rb_root, &itree_cb);
}

/* ---- queries ------------------------------------------------------------ */

/* The overlapping node with the smallest start in the subtree of n, given
 * that n->subtree_last >= start; NULL if none. */
static struct mm_interval_node *subtree_first(struct mm_interval_node *n, uint64_t start,
					      uint64_t last)
{
	for (;;) {
		if (n->rb.left && inode(n->rb.left)->subtree_last >= start) {
			n = inode(n->rb.left); /* an overlap may start further left */
			continue;
		}
		if (n->start > last)
			return NULL; /* n and all on its right start too late */
		if (n->last >= start)
			return n;
		if (!n->rb.right)
			return NULL;
		n = inode(n->rb.right);
		if (n->subtree_last < start)
			return NULL;
	}
}

struct mm_interval_node *mm_interval_tree_iter_first(const struct mm_rb_root_cached *root,
						     uint64_t start, uint64_t last)
{
	if (!root->rb_root.node)
		return NULL;
	struct mm_interval_node *top = inode(root->rb_root.node);
	if (top->subtree_last < start || inode(root->rb_leftmost)->start > last)
		return NULL; /* everything ends too early / starts too late */
	return subtree_first(top, start, last);
}

struct mm_interval_node *mm_interval_tree_iter_next(const struct mm_interval_node *node,
						    uint64_t start, uint64_t last)
{
	const struct mm_rb_node *cur = &node->rb;
	struct mm_rb_node *right = cur->right;
	for (;;) {
		/* nodes after `cur` in order: its right subtree first ... */
		if (right && inode(right)->subtree_last >= start)
			return subtree_first(inode(right), start, last);
		/* ... then the first ancestor reached from its left side */
		const struct mm_rb_node *prev;
		do {
			prev = cur;
			cur = mm_rb_parent(cur);
			if (!cur)
				return NULL;
		} while (cur->right == prev);
		struct mm_interval_node *n = inode(cur);
		if (n->start > last)
			return NULL;
		if (n->last >= start)
			return n;
		right = cur->right;
	}
}

/* ---- checker ------------------------------------------------------------ */

static int start_cmp(const struct mm_rb_node *a, const struct mm_rb_node *b)
{
	uint64_t x = inode(a)->start, y = inode(b)->start;
	return (x > y) - (x < y);
}

static bool node_ok(const struct mm_rb_node *rb)
{
	const struct mm_interval_node *n = inode(rb);
	return n->start <= n->last && n->subtree_last == compute_subtree_last(n);
}

int mm_interval_tree_check(const struct mm_rb_root_cached *root)
{
	if (root->rb_leftmost != mm_rb_first(&root->rb_root))
		return -MM_ECORRUPT;
	return mm_rb_check_augmented(&root->rb_root, start_cmp, node_ok);
}
