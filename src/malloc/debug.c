/* debug.c — placeholder, replaced by the debug allocator. */
#include "malloc_internal.h"
#include "mmkit/mmalloc.h"
int mm_debug_mode = -1;
void mm_debug_init(void) { mm_debug_mode = 0; }
void mm_debug_fork_prepare(void) {}
void mm_debug_fork_parent(void) {}
void mm_debug_fork_child(void) {}
void *mmalloc_dbg_malloc(size_t n) { return mmalloc_malloc(n); }
void mmalloc_dbg_free(void *p) { mmalloc_free(p); }
void *mmalloc_dbg_calloc(size_t a, size_t b) { return mmalloc_calloc(a, b); }
void *mmalloc_dbg_realloc(void *p, size_t n) { return mmalloc_realloc(p, n); }
void *mmalloc_dbg_memalign(size_t a, size_t n) { return mmalloc_memalign(a, n); }
size_t mmalloc_dbg_usable_size(const void *p) { return mmalloc_usable_size(p); }
size_t mmalloc_dbg_verify(void) { return 0; }
size_t mmalloc_dbg_leak_report(void) { return 0; }
