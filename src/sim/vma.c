/* vma.c — virtual memory areas: the red-black tree, the ordered list, find,
 * split, merge and the search for an unmapped area.
 *
 * Each mm keeps its VMAs in an rbtree by address (find_vma in O(log n)) and
 * in a list by address (neighbours in O(1)), as Linux did before the maple
 * tree (Linux 2.6 .. 6.0). The tree is augmented as Linux's was: each VMA
 * stores `gap`, the free space between the previous VMA's end and its own
 * start (the stack guard gap taken off for VM_GROWSDOWN VMAs:
 * vm_start_gap()), and rb_subtree_gap, the largest gap in its subtree, so
 * get_unmapped_area() finds a hole of a given size without visiting VMAs
 * whose subtrees cannot hold it: O(log n) when the search limits do not cut
 * through the candidates.
 *
 * Merging follows is_mergeable_vma(): neighbours merge when they touch, have
 * the same flags and, for anonymous memory, consecutive vm_pgoff (an
 * anonymous VMA's pgoff is its start address in pages when created).
 * The reverse map stores (mm, address) pairs, so splitting and merging never
 * touch it.
 *
 * Reference: mm/mmap.c of Linux 4.x-5.x (vma_compute_subtree_gap,
 * unmapped_area_topdown, __split_vma, vma_merge).
 */
#include "sim_internal.h"

static uint64_t vm_start_gap_raw(uint64_t guard, const struct sim_vma *v)
{
	uint64_t s = v->vm_start;
	if (v->vm_flags & VM_GROWSDOWN)
		s = s > guard ? s - guard : 0;
	return s;
}

/* gap of each node is precomputed; the subtree summary is the max */
static uint64_t vma_compute_subtree_gap(const struct sim_vma *v)
{
	uint64_t g = v->gap;
	if (v->rb.left) {
		uint64_t l = mm_rb_entry((struct mm_rb_node *)v->rb.left, struct sim_vma, rb)->rb_subtree_gap;
		if (l > g)
			g = l;
	}
	if (v->rb.right) {
		uint64_t r = mm_rb_entry(v->rb.right, struct sim_vma, rb)->rb_subtree_gap;
		if (r > g)
			g = r;
	}
	return g;
}

MM_RB_DECLARE_CALLBACKS(vma_gap_cb, struct sim_vma, rb, uint64_t, rb_subtree_gap,
			vma_compute_subtree_gap);

static void update_gap(struct sim_mm *mm, struct sim_vma *v, uint64_t guard)
{
	struct sim_vma *prev = vma_prev(mm, v);
	uint64_t start = vm_start_gap_raw(guard, v);
	uint64_t pend = prev ? prev->vm_end : 0;
	uint64_t g = start > pend ? start - pend : 0;
	if (g == v->gap)
		return;
	v->gap = g;
	/* the node's own summary may go up or down: recompute to the root */
	struct mm_rb_node *rb = &v->rb;
	while (rb) {
		struct sim_vma *n = mm_rb_entry(rb, struct sim_vma, rb);
		n->rb_subtree_gap = vma_compute_subtree_gap(n);
		rb = mm_rb_parent(rb);
	}
}

struct sim_vma *sim_vma_alloc(struct mm_machine *m)
{
	struct sim_vma *v = mm_kmem_cache_alloc(m->vma_cache, MM_GFP_ZERO);
	if (v) {
		mm_list_init(&v->node);
		mm_rb_clear_node(&v->rb);
	}
	return v;
}

struct sim_vma *sim_vm_area_dup(struct mm_machine *m, const struct sim_vma *v)
{
	struct sim_vma *n = sim_vma_alloc(m);
	if (!n)
		return NULL;
	n->vm_start = v->vm_start;
	n->vm_end = v->vm_end;
	n->vm_flags = v->vm_flags;
	n->vm_pgoff = v->vm_pgoff;
	n->anon_vma = v->anon_vma;
	n->kind = v->kind;
	n->mapping = v->mapping;
	n->shm = v->shm;
	if (n->mapping)
		sim_mapping_get(n->mapping);
	if (n->shm)
		n->shm->nattch++;
	return n;
}

void sim_vma_free(struct mm_machine *m, struct sim_vma *v)
{
	struct sim_mapping *map = v->mapping;
	struct sim_shm *seg = v->shm;
	mm_kmem_cache_free(m->vma_cache, v);
	if (seg)
		sim_shm_vma_gone(m, seg);
	if (map)
		sim_mapping_put(m, map);
}

struct sim_vma *sim_find_vma(struct sim_mm *mm, uint64_t addr)
{
	struct mm_rb_node *n = mm->mm_rb.node;
	struct sim_vma *best = NULL;
	while (n) {
		struct sim_vma *v = mm_rb_entry(n, struct sim_vma, rb);
		if (v->vm_end > addr) {
			best = v;
			if (v->vm_start <= addr)
				break;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	return best;
}

struct sim_vma *sim_find_vma_intersection(struct sim_mm *mm, uint64_t start, uint64_t end)
{
	struct sim_vma *v = sim_find_vma(mm, start);
	return (v && v->vm_start < end) ? v : NULL;
}

void sim_vma_link(struct sim_mm *mm, struct sim_vma *v)
{
	struct mm_rb_node **link = &mm->mm_rb.node, *parent = NULL;
	struct sim_vma *prev = NULL;
	while (*link) {
		parent = *link;
		struct sim_vma *p = mm_rb_entry(parent, struct sim_vma, rb);
		if (v->vm_start < p->vm_start) {
			link = &parent->left;
		} else {
			prev = p;
			link = &parent->right;
		}
	}
	if (prev)
		mm_list_add(&v->node, &prev->node);
	else
		mm_list_add(&v->node, &mm->vmas);
	v->mm = mm;
	v->gap = 0;
	v->rb_subtree_gap = 0;
	mm_rb_link_node(&v->rb, parent, link);
	mm_rb_insert_augmented(&v->rb, &mm->mm_rb, &vma_gap_cb);
	mm->map_count++;
	sim_vma_bounds_changed(mm, v);
}

void sim_vma_unlink(struct sim_mm *mm, struct sim_vma *v)
{
	struct sim_vma *next = vma_next(mm, v);
	mm_rb_erase_augmented(&v->rb, &mm->mm_rb, &vma_gap_cb);
	mm_rb_clear_node(&v->rb);
	mm_list_del(&v->node);
	mm->map_count--;
	if (next)
		update_gap(mm, next, mm->stack_guard);
	struct sim_vma *last = mm_list_empty(&mm->vmas) ? NULL :
			       mm_list_entry(mm->vmas.prev, struct sim_vma, node);
	mm->highest_vm_end = last ? last->vm_end : 0;
}

void sim_vma_bounds_changed(struct sim_mm *mm, struct sim_vma *v)
{
	update_gap(mm, v, mm->stack_guard);
	struct sim_vma *next = vma_next(mm, v);
	if (next)
		update_gap(mm, next, mm->stack_guard);
	else
		mm->highest_vm_end = v->vm_end;
}

uint64_t sim_vm_start_gap(const struct mm_machine *m, const struct sim_vma *v)
{
	return vm_start_gap_raw(m->cfg.stack_guard_gap, v);
}

/* ---- split and merge ---------------------------------------------------------- */

struct sim_vma *sim_split_vma(struct mm_machine *m, struct sim_mm *mm, struct sim_vma *v,
			      uint64_t addr)
{
	MM_BUG_ON(addr <= v->vm_start || addr >= v->vm_end || (addr & ~MM_PAGE_MASK));
	struct sim_vma *n = sim_vm_area_dup(m, v);
	if (!n)
		return NULL;
	n->vm_start = addr;
	n->vm_pgoff = v->vm_pgoff + ((addr - v->vm_start) >> MM_PAGE_SHIFT);
	v->vm_end = addr;
	sim_vma_bounds_changed(mm, v);
	sim_vma_link(mm, n);
	return n;
}

static bool can_merge(const struct sim_vma *a, const struct sim_vma *b)
{
	return a->vm_end == b->vm_start && a->vm_flags == b->vm_flags && a->kind == b->kind &&
	       a->mapping == b->mapping && !a->shm && !b->shm &&
	       a->vm_pgoff + vma_pages(a) == b->vm_pgoff;
}

struct sim_vma *sim_vma_merge(struct mm_machine *m, struct sim_mm *mm, struct sim_vma *v)
{
	struct sim_vma *prev = vma_prev(mm, v);
	if (prev && can_merge(prev, v)) {
		uint64_t end = v->vm_end;
		prev->anon_vma |= v->anon_vma;
		sim_vma_unlink(mm, v);
		sim_vma_free(m, v);
		prev->vm_end = end;
		sim_vma_bounds_changed(mm, prev);
		v = prev;
	}
	struct sim_vma *next = vma_next(mm, v);
	if (next && can_merge(v, next)) {
		uint64_t end = next->vm_end;
		v->anon_vma |= next->anon_vma;
		sim_vma_unlink(mm, next);
		sim_vma_free(m, next);
		v->vm_end = end;
		sim_vma_bounds_changed(mm, v);
	}
	return v;
}

/* ---- unmapped area ---------------------------------------------------------------- */

struct gap_search {
	struct sim_mm *mm;
	uint64_t len, lo, hi, found;
};

/* Highest hole of s->len inside [lo, hi) in the subtree of n. */
static bool search_subtree(struct gap_search *s, struct mm_rb_node *rb)
{
	if (!rb)
		return false;
	struct sim_vma *v = mm_rb_entry(rb, struct sim_vma, rb);
	if (v->rb_subtree_gap < s->len)
		return false;
	/* VMAs to the right start at or after v->vm_end: their gaps begin at
	 * or above v->vm_end, useless if that is at or above hi */
	if (v->vm_end < s->hi && search_subtree(s, rb->right))
		return true;
	struct sim_vma *prev = vma_prev(s->mm, v);
	uint64_t gs = prev ? prev->vm_end : 0;
	uint64_t ge = gs + v->gap;   /* vm_start_gap(v) */
	if (v->gap >= s->len) {
		uint64_t lo = MM_MAX(gs, s->lo), hi = MM_MIN(ge, s->hi);
		if (hi > lo && hi - lo >= s->len) {
			s->found = hi - s->len;
			return true;
		}
	}
	/* VMAs to the left end at or before gs: useless if gs <= lo */
	if (gs > s->lo)
		return search_subtree(s, rb->left);
	return false;
}

int64_t sim_unmapped_area_topdown(struct mm_machine *m, struct sim_mm *mm, uint64_t len,
				  uint64_t lo, uint64_t hi)
{
	(void)m;
	if (len > hi || hi - len < lo)
		return -MM_ENOMEM;
	/* the space above the last VMA first */
	uint64_t top = mm->highest_vm_end;
	if (top < hi && hi - MM_MAX(top, lo) >= len)
		return (int64_t)(hi - len);
	struct gap_search s = { mm, len, lo, hi, 0 };
	if (search_subtree(&s, mm->mm_rb.node))
		return (int64_t)s.found;
	return -MM_ENOMEM;
}

/* ---- checking ------------------------------------------------------------------- */

static bool gap_node_ok(const struct mm_rb_node *rb)
{
	const struct sim_vma *v = mm_rb_entry((struct mm_rb_node *)(uintptr_t)rb, struct sim_vma, rb);
	return v->rb_subtree_gap == vma_compute_subtree_gap(v);
}

static int vma_cmp(const struct mm_rb_node *a, const struct mm_rb_node *b)
{
	const struct sim_vma *x = mm_rb_entry((struct mm_rb_node *)(uintptr_t)a, struct sim_vma, rb);
	const struct sim_vma *y = mm_rb_entry((struct mm_rb_node *)(uintptr_t)b, struct sim_vma, rb);
	return x->vm_start < y->vm_start ? -1 : x->vm_start > y->vm_start;
}

int sim_vma_check(struct mm_machine *m, struct sim_mm *mm)
{
	if (mm_rb_check_augmented(&mm->mm_rb, vma_cmp, gap_node_ok)) {
		fprintf(stderr, "vma: rbtree broken\n");
		return -MM_ECORRUPT;
	}
	int count = 0;
	struct mm_rb_node *rb = mm_rb_first(&mm->mm_rb);
	uint64_t prev_end = 0;
	struct mm_list *l = mm->vmas.next;
	for (; rb; rb = mm_rb_next(rb), l = l->next) {
		struct sim_vma *v = mm_rb_entry(rb, struct sim_vma, rb);
		if (l == &mm->vmas || mm_list_entry(l, struct sim_vma, node) != v) {
			fprintf(stderr, "vma: list and tree disagree at %#llx\n",
				(unsigned long long)v->vm_start);
			return -MM_ECORRUPT;
		}
		if (v->mm != mm || v->vm_start >= v->vm_end || (v->vm_start | v->vm_end) & ~MM_PAGE_MASK ||
		    v->vm_start < prev_end || v->vm_end > mm->task_size) {
			fprintf(stderr, "vma: bad range %#llx-%#llx (prev end %#llx)\n",
				(unsigned long long)v->vm_start, (unsigned long long)v->vm_end,
				(unsigned long long)prev_end);
			return -MM_ECORRUPT;
		}
		uint64_t s = vm_start_gap_raw(m->cfg.stack_guard_gap, v);
		uint64_t want = s > prev_end ? s - prev_end : 0;
		if (v->gap != want) {
			fprintf(stderr, "vma: gap of %#llx is %#llx, want %#llx\n",
				(unsigned long long)v->vm_start, (unsigned long long)v->gap,
				(unsigned long long)want);
			return -MM_ECORRUPT;
		}
		prev_end = v->vm_end;
		count++;
	}
	if (l != &mm->vmas || count != mm->map_count || prev_end != mm->highest_vm_end) {
		fprintf(stderr, "vma: count %d map_count %d highest %#llx/%#llx\n", count,
			mm->map_count, (unsigned long long)prev_end,
			(unsigned long long)mm->highest_vm_end);
		return -MM_ECORRUPT;
	}
	return 0;
}
