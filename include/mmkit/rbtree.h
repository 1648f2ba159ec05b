/* mmkit/rbtree.h — intrusive red-black tree (Linux's include/linux/rbtree.h).
 *
 * The tree stores no keys and calls no comparator: the caller embeds a
 * `struct mm_rb_node` in its object, walks down from the root itself to find
 * where a new node belongs, links it there with mm_rb_link_node() and then lets
 * mm_rb_insert_color() restore the red-black balance. This keeps the search
 * inlined in the caller (no function-pointer call per level) and lets one
 * tree order objects by anything. mm_rb_add() and mm_rb_find() wrap the usual
 * search for callers that are happy with a comparator.
 *
 * Red-black rules (checked by mm_rb_check): the root is black; a red node has
 * black children; every path from a node down to a NULL leaf crosses the same
 * number of black nodes. Hence the height is at most 2 log2(n + 1), and
 * insertion, erasure, first/last and a search cost O(log n); next/prev cost
 * O(1) amortized over a full walk. Rebalancing does at most 2 rotations on
 * insertion and at most 3 on erasure.
 *
 * Augmented trees keep a per-node summary of its subtree (Linux keeps each
 * VMA's rb_subtree_gap, the largest free gap below it, to find an unmapped
 * area in O(log n)). Three callbacks keep the summary right:
 *   propagate(n, stop)  recompute n and its ancestors, up to (excluding) stop;
 *   copy(old, new)      new takes old's place: copy old's summary to new;
 *   rotate(old, new)    a rotation put new where old was: new gets old's
 *                       summary, old is recomputed from its new children.
 * MM_RB_DECLARE_CALLBACKS builds the three from a "compute" function.
 *
 * Locking: none inside; the caller serialises writers (and readers against
 * writers).
 */
#ifndef MMKIT_RBTREE_H
#define MMKIT_RBTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmkit/compiler.h"

#define MM_RB_RED   0
#define MM_RB_BLACK 1

struct mm_rb_node {
	uintptr_t parent_color;          /* parent pointer | colour in bit 0 */
	struct mm_rb_node *left, *right; /* children, NULL for leaves */
} __attribute__((aligned(sizeof(void *))));

struct mm_rb_root {
	struct mm_rb_node *node; /* the root node, NULL when the tree is empty */
};

#define MM_RB_ROOT ((struct mm_rb_root){ NULL })

#define mm_rb_entry(ptr, type, member) mm_container_of(ptr, type, member)
/* From a const node (as comparators receive) to a const entry. */
#define mm_rb_entry_const(ptr, type, member) \
	((const type *)(const void *)((const char *)(ptr) - offsetof(type, member)))
/* NULL-safe variant: NULL stays NULL. */
#define mm_rb_entry_safe(ptr, type, member)                                     \
	({ struct mm_rb_node *mm__p = (ptr);                                    \
	   mm__p ? mm_rb_entry(mm__p, type, member) : NULL; })

static inline struct mm_rb_node *mm_rb_parent(const struct mm_rb_node *n)
{
	return (struct mm_rb_node *)(n->parent_color & ~(uintptr_t)1);
}

static inline bool mm_rb_is_black(const struct mm_rb_node *n)
{
	return n->parent_color & 1;
}

static inline bool mm_rb_empty(const struct mm_rb_root *root)
{
	return root->node == NULL;
}

/* A node that is not in any tree points to itself (Linux's RB_CLEAR_NODE), so
 * "is it linked?" can be asked with mm_rb_empty_node(). */
static inline void mm_rb_clear_node(struct mm_rb_node *n)
{
	n->parent_color = (uintptr_t)n;
}

static inline bool mm_rb_empty_node(const struct mm_rb_node *n)
{
	return n->parent_color == (uintptr_t)n;
}

/* Put `node` (red, no children) at *link, a NULL child pointer of `parent`
 * (or &root->node with parent NULL) found by the caller's search. The tree is
 * unbalanced until mm_rb_insert_color() runs. */
static inline void mm_rb_link_node(struct mm_rb_node *node, struct mm_rb_node *parent,
				   struct mm_rb_node **link)
{
	node->parent_color = (uintptr_t)parent; /* red */
	node->left = node->right = NULL;
	*link = node;
}

/* Rebalance after mm_rb_link_node(). O(log n) recolourings, <= 2 rotations. */
void mm_rb_insert_color(struct mm_rb_node *node, struct mm_rb_root *root);

/* Unlink `node` (which must be in the tree) and rebalance. The node's own
 * fields are left stale; call mm_rb_clear_node() to mark it unlinked. */
void mm_rb_erase(struct mm_rb_node *node, struct mm_rb_root *root);

/* Put `repl` in `victim`'s place (same position, colour, children) without
 * rebalancing: the caller guarantees repl sorts where victim did. O(1). */
void mm_rb_replace_node(struct mm_rb_node *victim, struct mm_rb_node *repl,
			struct mm_rb_root *root);

/* In-order walk: smallest, largest, successor, predecessor; NULL at the ends. */
struct mm_rb_node *mm_rb_first(const struct mm_rb_root *root);
struct mm_rb_node *mm_rb_last(const struct mm_rb_root *root);
struct mm_rb_node *mm_rb_next(const struct mm_rb_node *node);
struct mm_rb_node *mm_rb_prev(const struct mm_rb_node *node);

/* Post-order walk (children before parents): lets a caller free every node
 * without rebalancing, e.g. when destroying the whole tree. */
struct mm_rb_node *mm_rb_first_postorder(const struct mm_rb_root *root);
struct mm_rb_node *mm_rb_next_postorder(const struct mm_rb_node *node);

/* ---- trees that cache their leftmost node (Linux's rb_root_cached) ------
 * mm_rb_first_cached is O(1): for priority queues and schedulers that take
 * the smallest element again and again. The caller tells insert whether the
 * new node went left at every level of its search (then it is the new
 * leftmost). */
struct mm_rb_root_cached {
	struct mm_rb_root rb_root;
	struct mm_rb_node *rb_leftmost; /* smallest node, NULL when empty */
};

#define MM_RB_ROOT_CACHED ((struct mm_rb_root_cached){ { NULL }, NULL })

static inline struct mm_rb_node *mm_rb_first_cached(const struct mm_rb_root_cached *root)
{
	return root->rb_leftmost;
}

static inline void mm_rb_insert_color_cached(struct mm_rb_node *node,
					     struct mm_rb_root_cached *root, bool leftmost)
{
	if (leftmost)
		root->rb_leftmost = node;
	mm_rb_insert_color(node, &root->rb_root);
}

/* Erase; returns the new leftmost if `node` was the leftmost, else NULL. */
static inline struct mm_rb_node *mm_rb_erase_cached(struct mm_rb_node *node,
						    struct mm_rb_root_cached *root)
{
	struct mm_rb_node *leftmost = NULL;
	if (root->rb_leftmost == node)
		leftmost = root->rb_leftmost = mm_rb_next(node);
	mm_rb_erase(node, &root->rb_root);
	return leftmost;
}

/* ---- comparator helpers (Linux's rb_add / rb_find) ---------------------- */

/* Insert `node` in order of less(); equal keys go after the existing ones. */
static inline void mm_rb_add(struct mm_rb_node *node, struct mm_rb_root *root,
			     bool (*less)(const struct mm_rb_node *, const struct mm_rb_node *))
{
	struct mm_rb_node **link = &root->node, *parent = NULL;
	while (*link) {
		parent = *link;
		link = less(node, parent) ? &parent->left : &parent->right;
	}
	mm_rb_link_node(node, parent, link);
	mm_rb_insert_color(node, root);
}

/* mm_rb_add for a cached tree; returns true if node became the leftmost. */
static inline bool mm_rb_add_cached(struct mm_rb_node *node, struct mm_rb_root_cached *root,
				    bool (*less)(const struct mm_rb_node *, const struct mm_rb_node *))
{
	struct mm_rb_node **link = &root->rb_root.node, *parent = NULL;
	bool leftmost = true;
	while (*link) {
		parent = *link;
		if (less(node, parent)) {
			link = &parent->left;
		} else {
			link = &parent->right;
			leftmost = false;
		}
	}
	mm_rb_link_node(node, parent, link);
	mm_rb_insert_color_cached(node, root, leftmost);
	return leftmost;
}

/* A node whose key compares equal to `key` (cmp < 0: key is smaller), or NULL. */
static inline struct mm_rb_node *
mm_rb_find(const void *key, const struct mm_rb_root *root,
	   int (*cmp)(const void *key, const struct mm_rb_node *))
{
	struct mm_rb_node *n = root->node;
	while (n) {
		int c = cmp(key, n);
		if (c < 0)
			n = n->left;
		else if (c > 0)
			n = n->right;
		else
			return n;
	}
	return NULL;
}

/* ---- augmented trees ---------------------------------------------------- */

struct mm_rb_augment_callbacks {
	void (*propagate)(struct mm_rb_node *node, struct mm_rb_node *stop);
	void (*copy)(struct mm_rb_node *old, struct mm_rb_node *repl);
	void (*rotate)(struct mm_rb_node *old, struct mm_rb_node *repl);
};

/* Insert a node linked with mm_rb_link_node() into an augmented tree. The
 * node's summary and those of its ancestors are recomputed here (propagate
 * from the node upwards, which stops early where a summary does not change),
 * so, unlike Linux, the caller need not update them on the way down. */
void mm_rb_insert_augmented(struct mm_rb_node *node, struct mm_rb_root *root,
			    const struct mm_rb_augment_callbacks *augment);

/* Erase from an augmented tree, keeping every summary right. */
void mm_rb_erase_augmented(struct mm_rb_node *node, struct mm_rb_root *root,
			   const struct mm_rb_augment_callbacks *augment);

/* Build `static const struct mm_rb_augment_callbacks NAME` for a summary field
 * AUGFIELD (of type AUGTYPE) of STRUCT, whose rb node is RBFIELD, given
 * `AUGTYPE COMPUTE(const STRUCT *)` that derives a node's summary from its own
 * data and its children's summaries (e.g. the max over the subtree). */
#define MM_RB_DECLARE_CALLBACKS(NAME, STRUCT, RBFIELD, AUGTYPE, AUGFIELD, COMPUTE)      \
	static void NAME##_propagate(struct mm_rb_node *rb, struct mm_rb_node *stop)    \
	{                                                                               \
		while (rb != stop) {                                                    \
			STRUCT *n = mm_rb_entry(rb, STRUCT, RBFIELD);                   \
			AUGTYPE v = COMPUTE(n);                                         \
			if (n->AUGFIELD == v)                                           \
				break;                                                  \
			n->AUGFIELD = v;                                                \
			rb = mm_rb_parent(rb);                                          \
		}                                                                       \
	}                                                                               \
	static void NAME##_copy(struct mm_rb_node *o, struct mm_rb_node *r)             \
	{                                                                               \
		mm_rb_entry(r, STRUCT, RBFIELD)->AUGFIELD =                             \
			mm_rb_entry(o, STRUCT, RBFIELD)->AUGFIELD;                      \
	}                                                                               \
	static void NAME##_rotate(struct mm_rb_node *o, struct mm_rb_node *r)           \
	{                                                                               \
		STRUCT *old = mm_rb_entry(o, STRUCT, RBFIELD);                          \
		mm_rb_entry(r, STRUCT, RBFIELD)->AUGFIELD = old->AUGFIELD;              \
		old->AUGFIELD = COMPUTE(old);                                           \
	}                                                                               \
	static const struct mm_rb_augment_callbacks NAME = {                            \
		NAME##_propagate, NAME##_copy, NAME##_rotate                            \
	}

/* ---- checking ----------------------------------------------------------- */

/* Verify the whole tree: parent pointers agree with child pointers, the root
 * is black and has no parent, no red node has a red child, every root-to-leaf
 * path has the same number of black nodes, and, if cmp is not NULL, an
 * in-order walk never goes down (cmp(prev, next) <= 0). If node_ok is not
 * NULL it is called on every node (e.g. to verify an augmented summary) and a
 * false result fails the check. O(n). Returns 0 or -MM_ECORRUPT. */
int mm_rb_check(const struct mm_rb_root *root,
		int (*cmp)(const struct mm_rb_node *, const struct mm_rb_node *));
int mm_rb_check_augmented(const struct mm_rb_root *root,
			  int (*cmp)(const struct mm_rb_node *, const struct mm_rb_node *),
			  bool (*node_ok)(const struct mm_rb_node *));

#endif /* MMKIT_RBTREE_H */
