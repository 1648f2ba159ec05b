/* Red-black tree: rebalancing, erasure, walks and the checker.
 *
 * Algorithm: the classic bottom-up red-black tree (Guibas & Sedgewick 1978;
 * Cormen et al., "Introduction to Algorithms", ch. 13), in the intrusive,
 * caller-driven form of Linux's lib/rbtree.c: the parent pointer and the
 * colour share one word (nodes are pointer-aligned, so bit 0 is free).
 *
 * Costs: insertion recolours O(log n) nodes and rotates at most twice;
 * erasure rotates at most three times; both walk one root path. No memory is
 * allocated: the tree has no fragmentation of its own.
 *
 * Augmented trees get their callbacks on every structural change: rotate()
 * after each rotation, copy() when the successor takes an erased node's
 * place, propagate() along the path whose subtrees changed. The plain entry
 * points pass no-op callbacks through always-inlined cores, so they pay
 * nothing for the augmented support.
 */
#include "mmkit/error.h"
#include "mmkit/rbtree.h"

/* ---- colour and parent helpers ------------------------------------------ */

static inline bool is_red(const struct mm_rb_node *n)
{
	return n && !mm_rb_is_black(n);
}

static inline void set_parent(struct mm_rb_node *n, struct mm_rb_node *p)
{
	n->parent_color = (uintptr_t)p | (n->parent_color & 1);
}

static inline void set_color(struct mm_rb_node *n, int color)
{
	n->parent_color = (n->parent_color & ~(uintptr_t)1) | (uintptr_t)color;
}

static inline void set_parent_color(struct mm_rb_node *n, struct mm_rb_node *p, int color)
{
	n->parent_color = (uintptr_t)p | (uintptr_t)color;
}

/* Make whatever pointed at `old` (its parent's child slot, or the root)
 * point at `repl`. */
static inline void change_child(struct mm_rb_node *old, struct mm_rb_node *repl,
				struct mm_rb_node *parent, struct mm_rb_root *root)
{
	if (!parent)
		root->node = repl;
	else if (parent->left == old)
		parent->left = repl;
	else
		parent->right = repl;
}

/* ---- rotations -----------------------------------------------------------
 *
 *      x                y           rotate_left(x): y = x->right moves up,
 *     / \              / \          x becomes its left child and takes y's
 *    a   y    ==>     x   c         old left subtree b. Colours untouched.
 *       / \          / \
 *      b   c        a   b
 */

static void aug_none_propagate(struct mm_rb_node *n, struct mm_rb_node *stop)
{
	(void)n;
	(void)stop;
}

static void aug_none_pair(struct mm_rb_node *old, struct mm_rb_node *repl)
{
	(void)old;
	(void)repl;
}

static const struct mm_rb_augment_callbacks aug_none = {
	aug_none_propagate, aug_none_pair, aug_none_pair
};

MM_INLINE void rotate_left(struct mm_rb_node *x, struct mm_rb_root *root,
			   const struct mm_rb_augment_callbacks *aug)
{
	struct mm_rb_node *y = x->right, *p = mm_rb_parent(x);
	x->right = y->left;
	if (y->left)
		set_parent(y->left, x);
	set_parent(y, p);
	change_child(x, y, p, root);
	y->left = x;
	set_parent(x, y);
	aug->rotate(x, y);
}

MM_INLINE void rotate_right(struct mm_rb_node *x, struct mm_rb_root *root,
			    const struct mm_rb_augment_callbacks *aug)
{
	struct mm_rb_node *y = x->left, *p = mm_rb_parent(x);
	x->left = y->right;
	if (y->right)
		set_parent(y->right, x);
	set_parent(y, p);
	change_child(x, y, p, root);
	y->right = x;
	set_parent(x, y);
	aug->rotate(x, y);
}

/* ---- insertion ---------------------------------------------------------- */

/* `n` is red and may have a red parent; push the violation up by recolouring
 * while the uncle is red, then fix it with one or two rotations. */
MM_INLINE void insert_fixup(struct mm_rb_node *n, struct mm_rb_root *root,
			    const struct mm_rb_augment_callbacks *aug)
{
	struct mm_rb_node *p;
	while ((p = mm_rb_parent(n)) && is_red(p)) {
		struct mm_rb_node *g = mm_rb_parent(p); /* a red node is never the root */
		if (p == g->left) {
			struct mm_rb_node *u = g->right;
			if (is_red(u)) {
				set_color(p, MM_RB_BLACK);
				set_color(u, MM_RB_BLACK);
				set_color(g, MM_RB_RED);
				n = g;
				continue;
			}
			if (n == p->right) { /* bend: straighten it first */
				rotate_left(p, root, aug);
				p = n;
			}
			set_color(p, MM_RB_BLACK);
			set_color(g, MM_RB_RED);
			rotate_right(g, root, aug);
		} else {
			struct mm_rb_node *u = g->left;
			if (is_red(u)) {
				set_color(p, MM_RB_BLACK);
				set_color(u, MM_RB_BLACK);
				set_color(g, MM_RB_RED);
				n = g;
				continue;
			}
			if (n == p->left) {
				rotate_right(p, root, aug);
				p = n;
			}
			set_color(p, MM_RB_BLACK);
			set_color(g, MM_RB_RED);
			rotate_left(g, root, aug);
		}
		break;
	}
	set_color(root->node, MM_RB_BLACK);
}

void mm_rb_insert_color(struct mm_rb_node *node, struct mm_rb_root *root)
{
	insert_fixup(node, root, &aug_none);
}

void mm_rb_insert_augmented(struct mm_rb_node *node, struct mm_rb_root *root,
			    const struct mm_rb_augment_callbacks *augment)
{
	/* The node's own summary is stale (whatever the caller left there), so
	 * it is recomputed unconditionally (stop = its parent); the ancestors'
	 * summaries were right for the old tree, so their propagation may stop
	 * as soon as one does not change. */
	struct mm_rb_node *parent = mm_rb_parent(node);
	augment->propagate(node, parent);
	if (parent)
		augment->propagate(parent, NULL);
	insert_fixup(node, root, augment);
}

/* ---- erasure ------------------------------------------------------------ */

/* A black node was removed from below `p`: the subtree now rooted at `n`
 * (possibly NULL) is one black short. Borrow from the sibling side. */
MM_INLINE void erase_fixup(struct mm_rb_node *n, struct mm_rb_node *p,
			   struct mm_rb_root *root, const struct mm_rb_augment_callbacks *aug)
{
	while (n != root->node && !is_red(n)) {
		if (n == p->left) {
			struct mm_rb_node *s = p->right; /* exists: p's right side is taller */
			if (is_red(s)) {
				set_color(s, MM_RB_BLACK);
				set_color(p, MM_RB_RED);
				rotate_left(p, root, aug);
				s = p->right;
			}
			if (!is_red(s->left) && !is_red(s->right)) {
				set_color(s, MM_RB_RED);
				n = p;
				p = mm_rb_parent(n);
				continue;
			}
			if (!is_red(s->right)) {
				set_color(s->left, MM_RB_BLACK);
				set_color(s, MM_RB_RED);
				rotate_right(s, root, aug);
				s = p->right;
			}
			set_color(s, mm_rb_is_black(p) ? MM_RB_BLACK : MM_RB_RED);
			set_color(p, MM_RB_BLACK);
			set_color(s->right, MM_RB_BLACK);
			rotate_left(p, root, aug);
		} else {
			struct mm_rb_node *s = p->left;
			if (is_red(s)) {
				set_color(s, MM_RB_BLACK);
				set_color(p, MM_RB_RED);
				rotate_right(p, root, aug);
				s = p->left;
			}
			if (!is_red(s->left) && !is_red(s->right)) {
				set_color(s, MM_RB_RED);
				n = p;
				p = mm_rb_parent(n);
				continue;
			}
			if (!is_red(s->left)) {
				set_color(s->right, MM_RB_BLACK);
				set_color(s, MM_RB_RED);
				rotate_left(s, root, aug);
				s = p->left;
			}
			set_color(s, mm_rb_is_black(p) ? MM_RB_BLACK : MM_RB_RED);
			set_color(p, MM_RB_BLACK);
			set_color(s->left, MM_RB_BLACK);
			rotate_right(p, root, aug);
		}
		n = root->node;
		break;
	}
	if (n)
		set_color(n, MM_RB_BLACK);
}

MM_INLINE void erase(struct mm_rb_node *node, struct mm_rb_root *root,
		     const struct mm_rb_augment_callbacks *aug)
{
	struct mm_rb_node *parent = mm_rb_parent(node);
	struct mm_rb_node *child, *fix_parent;
	bool removed_black;

	if (!node->left || !node->right) {
		/* at most one child: it takes node's place */
		child = node->left ? node->left : node->right;
		removed_black = mm_rb_is_black(node);
		change_child(node, child, parent, root);
		if (child)
			set_parent(child, parent);
		fix_parent = parent;
		aug->propagate(parent, NULL);
	} else {
		/* two children: the successor (leftmost of the right subtree,
		 * which has no left child) leaves its spot and takes node's */
		struct mm_rb_node *succ = node->right;
		while (succ->left)
			succ = succ->left;
		removed_black = mm_rb_is_black(succ);
		child = succ->right;
		if (succ == node->right) {
			fix_parent = succ;
			aug->copy(node, succ);
		} else {
			fix_parent = mm_rb_parent(succ);
			fix_parent->left = child;
			if (child)
				set_parent(child, fix_parent);
			succ->right = node->right;
			set_parent(node->right, succ);
			aug->copy(node, succ);
			aug->propagate(fix_parent, succ);
		}
		succ->left = node->left;
		set_parent(node->left, succ);
		succ->parent_color = node->parent_color; /* parent and colour */
		change_child(node, succ, parent, root);
		aug->propagate(succ, NULL);
	}
	if (!removed_black)
		return; /* removing a red node breaks nothing */
	if (is_red(child)) {
		set_color(child, MM_RB_BLACK); /* the red child absorbs the lost black */
		return;
	}
	erase_fixup(child, fix_parent, root, aug);
}

void mm_rb_erase(struct mm_rb_node *node, struct mm_rb_root *root)
{
	erase(node, root, &aug_none);
}

void mm_rb_erase_augmented(struct mm_rb_node *node, struct mm_rb_root *root,
			   const struct mm_rb_augment_callbacks *augment)
{
	erase(node, root, augment);
}

void mm_rb_replace_node(struct mm_rb_node *victim, struct mm_rb_node *repl,
			struct mm_rb_root *root)
{
	struct mm_rb_node *parent = mm_rb_parent(victim);
	*repl = *victim;
	if (victim->left)
		set_parent(victim->left, repl);
	if (victim->right)
		set_parent(victim->right, repl);
	change_child(victim, repl, parent, root);
}

/* ---- walks -------------------------------------------------------------- */

struct mm_rb_node *mm_rb_first(const struct mm_rb_root *root)
{
	struct mm_rb_node *n = root->node;
	if (!n)
		return NULL;
	while (n->left)
		n = n->left;
	return n;
}

struct mm_rb_node *mm_rb_last(const struct mm_rb_root *root)
{
	struct mm_rb_node *n = root->node;
	if (!n)
		return NULL;
	while (n->right)
		n = n->right;
	return n;
}

struct mm_rb_node *mm_rb_next(const struct mm_rb_node *node)
{
	struct mm_rb_node *n, *p;
	if (node->right) { /* leftmost of the right subtree */
		n = node->right;
		while (n->left)
			n = n->left;
		return n;
	}
	/* else the first ancestor we reach from its left side */
	n = (struct mm_rb_node *)(uintptr_t)node;
	while ((p = mm_rb_parent(n)) && n == p->right)
		n = p;
	return p;
}

struct mm_rb_node *mm_rb_prev(const struct mm_rb_node *node)
{
	struct mm_rb_node *n, *p;
	if (node->left) {
		n = node->left;
		while (n->right)
			n = n->right;
		return n;
	}
	n = (struct mm_rb_node *)(uintptr_t)node;
	while ((p = mm_rb_parent(n)) && n == p->left)
		n = p;
	return p;
}

/* The deepest node reached by going left when possible, else right. */
static struct mm_rb_node *left_deepest(struct mm_rb_node *n)
{
	for (;;) {
		if (n->left)
			n = n->left;
		else if (n->right)
			n = n->right;
		else
			return n;
	}
}

struct mm_rb_node *mm_rb_first_postorder(const struct mm_rb_root *root)
{
	return root->node ? left_deepest(root->node) : NULL;
}

struct mm_rb_node *mm_rb_next_postorder(const struct mm_rb_node *node)
{
	struct mm_rb_node *p = mm_rb_parent(node);
	if (p && node == p->left && p->right)
		return left_deepest(p->right);
	return p;
}

/* ---- checker ------------------------------------------------------------ */

struct check_state {
	int (*cmp)(const struct mm_rb_node *, const struct mm_rb_node *);
	bool (*node_ok)(const struct mm_rb_node *);
	const struct mm_rb_node *prev; /* last node seen in order */
	int black_height;              /* of the first leaf path; -1 until seen */
};

#define RB_CHECK_MAX_DEPTH 128 /* 2 log2(2^64): deeper means a cycle */

/* Recursively verify the subtree at n, whose parent must be `parent`;
 * `blacks` counts black nodes above n. */
static int check_subtree(const struct mm_rb_node *n, const struct mm_rb_node *parent,
			 int blacks, int depth, struct check_state *st)
{
	if (!n) {
		if (st->black_height < 0)
			st->black_height = blacks;
		return blacks == st->black_height ? 0 : -MM_ECORRUPT;
	}
	if (depth > RB_CHECK_MAX_DEPTH || mm_rb_parent(n) != parent)
		return -MM_ECORRUPT;
	if (is_red(n) && (is_red(n->left) || is_red(n->right)))
		return -MM_ECORRUPT;
	blacks += mm_rb_is_black(n);
	if (check_subtree(n->left, n, blacks, depth + 1, st))
		return -MM_ECORRUPT;
	if (st->cmp && st->prev && st->cmp(st->prev, n) > 0)
		return -MM_ECORRUPT;
	st->prev = n;
	if (st->node_ok && !st->node_ok(n))
		return -MM_ECORRUPT;
	return check_subtree(n->right, n, blacks, depth + 1, st);
}

int mm_rb_check_augmented(const struct mm_rb_root *root,
			  int (*cmp)(const struct mm_rb_node *, const struct mm_rb_node *),
			  bool (*node_ok)(const struct mm_rb_node *))
{
	struct check_state st = { cmp, node_ok, NULL, -1 };
	if (!root->node)
		return 0;
	if (is_red(root->node))
		return -MM_ECORRUPT;
	return check_subtree(root->node, NULL, 0, 0, &st);
}

int mm_rb_check(const struct mm_rb_root *root,
		int (*cmp)(const struct mm_rb_node *, const struct mm_rb_node *))
{
	return mm_rb_check_augmented(root, cmp, NULL);
}
