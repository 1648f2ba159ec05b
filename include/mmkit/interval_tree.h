/* mmkit/interval_tree.h — intervals in an augmented red-black tree (Linux's
 * lib/interval_tree.c, the structure behind i_mmap and anon_vma rmap).
 *
 * Each node holds a closed interval [start, last]. Nodes are ordered by
 * start; each also keeps subtree_last, the largest `last` in its subtree, so
 * a stabbing or overlap query skips every subtree that ends before the query
 * begins. Overlapping and identical intervals are allowed.
 *
 * Costs: insert and remove O(log n); the first overlap of a query
 * O(log n); each further overlap O(log n) worst case (amortised less when
 * overlaps are adjacent). The root caches its leftmost node, so a query that
 * starts after every interval's start is refused in O(1).
 *
 * Locking: none; the caller serialises writers (and readers against
 * writers).
 */
#ifndef MMKIT_INTERVAL_TREE_H
#define MMKIT_INTERVAL_TREE_H

#include <stdint.h>

#include "mmkit/rbtree.h"

struct mm_interval_node {
	struct mm_rb_node rb;  /* in the tree, ordered by start */
	uint64_t start;        /* first value covered */
	uint64_t last;         /* last value covered (>= start) */
	uint64_t subtree_last; /* max `last` over this node's subtree (kept by the tree) */
};

/* Insert a node whose start/last the caller has set. */
void mm_interval_tree_insert(struct mm_interval_node *node, struct mm_rb_root_cached *root);

/* Remove a node that is in the tree. */
void mm_interval_tree_remove(struct mm_interval_node *node, struct mm_rb_root_cached *root);

/* The overlapping node with the smallest start (among equal starts, the one
 * inserted first), i.e. the first n with n->start <= last && n->last >=
 * start; NULL if none. */
struct mm_interval_node *mm_interval_tree_iter_first(const struct mm_rb_root_cached *root,
						     uint64_t start, uint64_t last);

/* The next overlapping node after `node` in start order, or NULL. */
struct mm_interval_node *mm_interval_tree_iter_next(const struct mm_interval_node *node,
						    uint64_t start, uint64_t last);

/* Every node overlapping [start, last], in start order:
 *	for (n = mm_interval_tree_iter_first(root, s, l); n;
 *	     n = mm_interval_tree_iter_next(n, s, l)) ... */

/* mm_rb_check on the tree (order by start) plus, at every node, start <=
 * last and subtree_last == max(last, children's subtree_last), and the
 * cached leftmost is the first node. O(n). Returns 0 or -MM_ECORRUPT. */
int mm_interval_tree_check(const struct mm_rb_root_cached *root);

#endif /* MMKIT_INTERVAL_TREE_H */
