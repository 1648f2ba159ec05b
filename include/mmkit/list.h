/* mmkit/list.h — intrusive circular doubly linked list (as Linux's list_head).
 *
 * A list is a sentinel `struct mm_list` whose next/prev point to itself when
 * empty. Elements embed a `struct mm_list` and are recovered with
 * mm_list_entry(). Every operation is O(1) except the iteration helpers.
 * A node must not be on two lists at once; mm_list_del() leaves the node
 * self-linked so a second delete is harmless and mm_list_empty(node) is true.
 */
#ifndef MMKIT_LIST_H
#define MMKIT_LIST_H

#include <stdbool.h>
#include <stddef.h>

#include "mmkit/compiler.h"

struct mm_list {
	struct mm_list *next, *prev;
};

#define MM_LIST_INIT(name) { &(name), &(name) }

static inline void mm_list_init(struct mm_list *l)
{
	l->next = l;
	l->prev = l;
}

static inline void mm_list__insert(struct mm_list *n, struct mm_list *prev,
				   struct mm_list *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}

/* Insert n right after head (stack order). */
static inline void mm_list_add(struct mm_list *n, struct mm_list *head)
{
	mm_list__insert(n, head, head->next);
}

/* Insert n right before head (queue order). */
static inline void mm_list_add_tail(struct mm_list *n, struct mm_list *head)
{
	mm_list__insert(n, head->prev, head);
}

static inline void mm_list_del(struct mm_list *n)
{
	n->next->prev = n->prev;
	n->prev->next = n->next;
	n->next = n;
	n->prev = n;
}

static inline void mm_list_move(struct mm_list *n, struct mm_list *head)
{
	mm_list_del(n);
	mm_list_add(n, head);
}

static inline void mm_list_move_tail(struct mm_list *n, struct mm_list *head)
{
	mm_list_del(n);
	mm_list_add_tail(n, head);
}

static inline bool mm_list_empty(const struct mm_list *head)
{
	return head->next == head;
}

static inline bool mm_list_is_singular(const struct mm_list *head)
{
	return !mm_list_empty(head) && head->next == head->prev;
}

/* Move every element of src to the end of dst; src becomes empty. */
static inline void mm_list_splice_tail(struct mm_list *src, struct mm_list *dst)
{
	if (mm_list_empty(src))
		return;
	struct mm_list *first = src->next, *last = src->prev;
	first->prev = dst->prev;
	dst->prev->next = first;
	last->next = dst;
	dst->prev = last;
	mm_list_init(src);
}

/* Number of elements: O(n). */
static inline size_t mm_list_count(const struct mm_list *head)
{
	size_t n = 0;
	for (const struct mm_list *p = head->next; p != head; p = p->next)
		n++;
	return n;
}

#define mm_list_entry(ptr, type, member) mm_container_of(ptr, type, member)
#define mm_list_first_entry(head, type, member) mm_list_entry((head)->next, type, member)
#define mm_list_last_entry(head, type, member) mm_list_entry((head)->prev, type, member)

#define mm_list_for_each(pos, head) \
	for (pos = (head)->next; pos != (head); pos = pos->next)

/* Safe against removal of pos. */
#define mm_list_for_each_safe(pos, tmp, head) \
	for (pos = (head)->next, tmp = pos->next; pos != (head); pos = tmp, tmp = pos->next)

#define mm_list_for_each_entry(pos, head, member)                              \
	for (pos = mm_list_entry((head)->next, __typeof__(*pos), member);      \
	     &pos->member != (head);                                           \
	     pos = mm_list_entry(pos->member.next, __typeof__(*pos), member))

#define mm_list_for_each_entry_safe(pos, tmp, head, member)                    \
	for (pos = mm_list_entry((head)->next, __typeof__(*pos), member),      \
	     tmp = mm_list_entry(pos->member.next, __typeof__(*pos), member);  \
	     &pos->member != (head);                                           \
	     pos = tmp, tmp = mm_list_entry(tmp->member.next, __typeof__(*tmp), member))

/* Checks that every next/prev pair agrees and the list returns to head within
 * `limit` steps. Returns 0 if consistent, -MM_ECORRUPT otherwise. */
int mm_list_check(const struct mm_list *head, size_t limit);

#endif /* MMKIT_LIST_H */
