/* Debug checks of a cache (Linux's SLAB_CONSISTENCY_CHECKS, SLAB_RED_ZONE,
 * SLAB_POISON; turned on for every cache in MMKIT_DEBUG builds unless the
 * instance has MM_KMEM_NODEBUG, selectable per cache otherwise).
 *
 *  - consistency (on free): the pointer maps to a slab of this very cache
 *    and is the start of an object.
 *  - red zone: one 64-bit word before and one after each object hold
 *    SLAB_RED_ACTIVE while it is allocated, SLAB_RED_INACTIVE while it is
 *    free (Linux SLAB's scheme). Free checks both are ACTIVE: both INACTIVE
 *    is a double free, anything else an overrun; alloc checks both INACTIVE.
 *  - poison (objects without a constructor): a free object is filled with
 *    0x6b and ends with 0xa5; alloc checks the pattern, so a write after
 *    free is caught when the object is reused.
 * Every failure prints "mmkit slab: cache <name>: object <addr>: <what>" on
 * stderr and aborts. Cost: O(object size) per alloc/free with poison, O(1)
 * otherwise. Objects waiting in magazines are in the free state.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slab_internal.h"

void slab_die(const struct mm_kmem_cache *c, const void *obj, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "mmkit slab: cache %s: object %p: ", c ? c->name : "?", obj);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	abort();
}

static inline uint64_t *red1(const struct mm_kmem_cache *c, void *obj)
{
	(void)c;
	return (uint64_t *)(void *)((char *)obj - sizeof(uint64_t));
}

static inline uint64_t *red2(const struct mm_kmem_cache *c, void *obj)
{
	return (uint64_t *)(void *)((char *)obj + c->object_size);
}

static void poison_obj(const struct mm_kmem_cache *c, void *obj)
{
	memset(obj, SLAB_POISON_FREE, c->object_size - 1);
	((unsigned char *)obj)[c->object_size - 1] = SLAB_POISON_END;
}

static void check_poison(const struct mm_kmem_cache *c, void *obj)
{
	const unsigned char *p = obj;
	size_t n = c->object_size;
	for (size_t i = 0; i < n; i++) {
		unsigned char want = i == n - 1 ? SLAB_POISON_END : SLAB_POISON_FREE;
		if (mm_unlikely(p[i] != want))
			slab_die(c, obj, "written after free: byte %zu is 0x%02x, expected 0x%02x",
				 i, p[i], want);
	}
}

void slab_debug_init_obj(struct mm_kmem_cache *c, void *obj)
{
	if (c->flags & MM_SLAB_RED_ZONE) {
		*red1(c, obj) = SLAB_RED_INACTIVE;
		*red2(c, obj) = SLAB_RED_INACTIVE;
	}
	if (c->flags & SLAB_OBJECT_POISON)
		poison_obj(c, obj);
}

void slab_debug_alloc(struct mm_kmem_cache *c, void *obj)
{
	if (c->flags & MM_SLAB_RED_ZONE) {
		if (*red1(c, obj) != SLAB_RED_INACTIVE || *red2(c, obj) != SLAB_RED_INACTIVE)
			slab_die(c, obj, "red zone overwritten while free (0x%016llx 0x%016llx)",
				 (unsigned long long)*red1(c, obj),
				 (unsigned long long)*red2(c, obj));
		*red1(c, obj) = SLAB_RED_ACTIVE;
		*red2(c, obj) = SLAB_RED_ACTIVE;
	}
	if (c->flags & SLAB_OBJECT_POISON)
		check_poison(c, obj);
}

void slab_debug_free(struct mm_kmem_cache *c, void *obj)
{
	if (c->flags & MM_SLAB_CONSISTENCY_CHECKS) {
		struct mm_slab *s = obj_to_slab(c->kmem, obj);
		if (!s)
			slab_die(c, obj, "free of a pointer that is in no slab");
		if (s->cache != c)
			slab_die(c, obj, "free of an object of cache %s", s->cache->name);
		size_t off = (size_t)((char *)obj - s->s_mem);
		if ((char *)obj < s->s_mem + c->obj_offset || (off - c->obj_offset) % c->size != 0 ||
		    (off - c->obj_offset) / c->size >= c->num)
			slab_die(c, obj, "free of a pointer that is not an object start");
	}
	if (c->flags & MM_SLAB_RED_ZONE) {
		uint64_t r1 = *red1(c, obj), r2 = *red2(c, obj);
		if (r1 == SLAB_RED_INACTIVE && r2 == SLAB_RED_INACTIVE)
			slab_die(c, obj, "double free");
		if (r1 != SLAB_RED_ACTIVE)
			slab_die(c, obj, "red zone before the object overwritten (0x%016llx)",
				 (unsigned long long)r1);
		if (r2 != SLAB_RED_ACTIVE)
			slab_die(c, obj, "red zone after the object overwritten (0x%016llx)",
				 (unsigned long long)r2);
		*red1(c, obj) = SLAB_RED_INACTIVE;
		*red2(c, obj) = SLAB_RED_INACTIVE;
	}
	if (c->flags & SLAB_OBJECT_POISON)
		poison_obj(c, obj);
}
