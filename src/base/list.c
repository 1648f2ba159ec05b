/* Intrusive list: the out-of-line invariant checker. */
#include "mmkit/error.h"
#include "mmkit/list.h"

int mm_list_check(const struct mm_list *head, size_t limit)
{
	const struct mm_list *p = head;
	size_t steps = 0;
	do {
		if (!p->next || !p->prev || p->next->prev != p || p->prev->next != p)
			return -MM_ECORRUPT;
		p = p->next;
		if (++steps > limit + 1)
			return -MM_ECORRUPT;
	} while (p != head);
	return 0;
}
