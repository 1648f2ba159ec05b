/* filemap.c — the page cache, file-backed and shared-memory mappings.
 *
 * A `struct sim_mapping` is Linux's address_space: the cached pages of one
 * object, indexed by page offset. Two kinds:
 *  - a host file (one per device and inode on the host, shared by every
 *    process and every open of the file: the page cache is shared);
 *  - shmem: anonymous shared memory with no file (MAP_SHARED|MAP_ANONYMOUS,
 *    System V segments), pages born zeroed, counted as Shmem.
 * A cached page holds one reference for the cache plus one per PTE mapping
 * it; it carries page->mapping and page->index as in Linux.
 *
 * Faults on a VMA with a mapping (Linux's do_fault):
 *  - read, or write to a shared mapping: find the page in the cache, or
 *    allocate a frame and fill it: read from the host file with pread
 *    (a major fault: I/O was done), zeroed for shmem (minor); a page wholly
 *    beyond the end of the file is SIGBUS;
 *  - a read maps it read-only for files (write-notify: the first write then
 *    faults and marks the page dirty, as page_mkwrite does) and writable
 *    for shmem when the VMA is shared and writable;
 *  - a write to a private mapping copies the page into a new anonymous page
 *    (do_cow_fault); a later write to a read-only-mapped cache page of a
 *    private mapping copies too (do_wp_page): MAP_PRIVATE never writes the
 *    file.
 * Writeback: msync(), munmap() and exit write the dirty pages of shared file
 * mappings back to the host file (pwrite, up to the file size), after
 * moving the PTE dirty bits to the page and write-protecting the PTEs
 * (page_mkclean), so the next write is seen again.
 *
 * Files are opened per process (mm_open) into a small descriptor table;
 * fork shares the open files. Unmapped clean cache pages stay cached
 * (Cached in meminfo) until mm_machine_drop_caches().
 *
 * Cost: a cache lookup is O(1) (an array by page offset); a major fault is
 * one pread of 4 KiB; writeback one pwrite per dirty page.
 * Reference: mm/filemap.c (filemap_fault), mm/memory.c (do_fault,
 * do_cow_fault, do_shared_fault, wp_page_shared), mm/page-writeback.c,
 * mm/shmem.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim_internal.h"

/* ---- mapping objects -------------------------------------------------------------- */

struct sim_mapping *sim_mapping_new(struct mm_machine *m, int kind, uint64_t size)
{
	struct sim_mapping *map = mm_kzalloc(m->kmem, sizeof(*map), 0);
	if (!map)
		return NULL;
	map->kind = kind;
	map->size = size;
	map->host_fd = -1;
	map->refs = 1;
	mm_list_add_tail(&map->node, &m->mappings);
	return map;
}

void sim_mapping_get(struct sim_mapping *map)
{
	map->refs++;
}

/* Drop a cache page: its cache reference goes; freed if nobody maps it. */
static void remove_from_cache(struct mm_machine *m, struct sim_mapping *map, uint64_t idx)
{
	struct mm_page *p = map->pages[idx];
	map->pages[idx] = NULL;
	map->nrpages--;
	if (map->kind == SIM_MAP_SHMEM)
		m->shmem_pages--;
	m->cache_pages--;
	p->mapping = NULL;
	mm_page_clear_flag(p, SIM_PG_CACHE);
	sim_put_user_page(m, p);
}

void sim_page_cache_delete(struct mm_machine *m, struct mm_page *page)
{
	remove_from_cache(m, page->mapping, page->index);
}

void sim_mapping_put(struct mm_machine *m, struct sim_mapping *map)
{
	MM_BUG_ON(map->refs <= 0);
	if (--map->refs)
		return;
	if (map->kind == SIM_MAP_FILE)
		sim_writeback(m, map, 0, UINT64_MAX);
	/* a shmem object dies with its last user; a file's clean pages stay
	 * cached (the mapping object lives on for them) */
	if (map->kind == SIM_MAP_SHMEM || map->nrpages == 0)
		sim_mapping_destroy(m, map);
}

void sim_mapping_destroy(struct mm_machine *m, struct sim_mapping *map)
{
	MM_BUG_ON(map->refs != 0);
	for (uint64_t i = 0; i < map->cap && map->nrpages; i++)
		if (map->pages[i])
			remove_from_cache(m, map, i);
	if (map->host_fd >= 0)
		close(map->host_fd);
	sim_swap_shmem_release(m, map);
	mm_list_del(&map->node);
	mm_kfree(m->kmem, map->pages);
	mm_kfree(m->kmem, map);
}

/* Drop every clean, unmapped cache page (drop_caches); free mapping objects
 * left with no user and no page. Returns pages dropped. */
uint64_t sim_drop_page_cache(struct mm_machine *m)
{
	uint64_t n = 0;
	struct mm_list *pos, *tmp;
	mm_list_for_each_safe(pos, tmp, &m->mappings) {
		struct sim_mapping *map = mm_list_entry(pos, struct sim_mapping, node);
		if (map->kind != SIM_MAP_FILE)
			continue;
		for (uint64_t i = 0; i < map->cap; i++) {
			struct mm_page *p = map->pages[i];
			if (p && !p->mapcount && !mm_page_test_flag(p, MM_PG_DIRTY)) {
				remove_from_cache(m, map, i);
				n++;
			}
		}
		if (!map->refs && !map->nrpages)
			sim_mapping_destroy(m, map);
	}
	return n;
}

static int grow_index(struct mm_machine *m, struct sim_mapping *map, uint64_t idx)
{
	if (idx < map->cap)
		return 0;
	uint64_t cap = MM_MAX(map->cap * 2, 16);
	while (cap <= idx)
		cap *= 2;
	struct mm_page **np = mm_krealloc(m->kmem, map->pages, cap * sizeof(*np), 0);
	if (!np)
		return -MM_ENOMEM;
	memset(np + map->cap, 0, (cap - map->cap) * sizeof(*np));
	map->pages = np;
	map->cap = cap;
	return 0;
}

/* The cached page at idx, read in (or zeroed) if absent. *major is set when
 * the host file was read. Returns NULL with *err set on failure. */
static struct mm_page *find_get_page(struct mm_machine *m, struct sim_mapping *map, uint64_t idx,
				     bool *major, int *err)
{
	if (idx < map->cap && map->pages[idx])
		return map->pages[idx];
	if ((*err = grow_index(m, map, idx)))
		return NULL;
	struct mm_page *p = sim_alloc_user_page(m, true);
	if (!p) {
		*err = -MM_ENOMEM;
		return NULL;
	}
	uint64_t pfn = page_pfn(m, p);
	if (map->kind == SIM_MAP_FILE) {
		uint64_t off = idx << MM_PAGE_SHIFT;
		size_t want = (size_t)MM_MIN((uint64_t)MM_PAGE_SIZE, map->size - off);
		ssize_t r = pread(map->host_fd, pfn_host(m, pfn), want, (off_t)off);
		if (r < 0) {
			p->refcount = 1;
			mm_free_pages(m->buddy, p, 0);
			*err = -MM_EIO;
			return NULL;
		}
		*major = true;
		m->pgpgin += MM_PAGE_SIZE >> 10;
	} else if (map->nr_swapped && (*err = sim_swap_shmem_in(m, map, idx, p, major))) {
		p->refcount = 1;
		mm_free_pages(m->buddy, p, 0);
		return NULL;
	}
	if (map->kind == SIM_MAP_SHMEM) {
		mm_page_set_flag(p, MM_PG_SWAPBACKED);
		m->shmem_pages++;
	}
	mm_page_set_flag(p, SIM_PG_USER | SIM_PG_CACHE | MM_PG_UPTODATE);
	p->mapping = map;
	p->index = idx;
	p->mapcount = 0;   /* refcount 1: the cache's */
	map->pages[idx] = p;
	map->nrpages++;
	m->cache_pages++;
	if (m->hooks.page_added)
		m->hooks.page_added(m->hooks.ctx, p);
	return p;
}

/* ---- faults -------------------------------------------------------------------------- */

int sim_do_fault(struct mm_machine *m, struct mm_task *t, struct sim_vma *vma, uint64_t va, void *ep,
		 bool write, bool *major)
{
	struct sim_mm *mm = t->mm;
	struct sim_mapping *map = vma->mapping;
	uint64_t idx = vma->vm_pgoff + ((va - vma->vm_start) >> MM_PAGE_SHIFT);
	if (idx >= (map->size + MM_PAGE_SIZE - 1) >> MM_PAGE_SHIFT)
		return -MM_EIO;   /* beyond the end of the object: SIGBUS */
	int err = 0;
	struct mm_page *p = find_get_page(m, map, idx, major, &err);
	if (!p)
		return err;
	uint64_t pfn = page_pfn(m, p);
	if (write && !(vma->vm_flags & VM_SHARED))
		return sim_cow_page(m, t, vma, va, ep, pfn, false);   /* do_cow_fault */
	if (sim_rmap_add(m, pfn, mm, va))
		return -MM_ENOMEM;
	mm_page_get(p);
	p->mapcount++;
	mm->rss[sim_rss_kind(p)]++;
	uint64_t e = (pfn << MM_PAGE_SHIFT) | sim_vm_page_prot(m, vma->vm_flags);
	if (map->kind == SIM_MAP_FILE && !write)
		e &= ~PTE_RW;              /* write-notify: the first write faults */
	if (write) {
		e |= PTE_D;
		mm_page_set_flag(p, MM_PG_DIRTY);
	}
	ent_set(m, ep, e);
	return 0;
}

/* ---- writeback ------------------------------------------------------------------------- */

static bool mkclean_one(struct mm_machine *m, struct sim_rmap *r)
{
	void *ep = sim_pte_lookup(m, r->mm->pgd_pfn, r->va, NULL);
	uint64_t e = ent_get(m, ep);
	if (!(e & (PTE_D | PTE_RW)))
		return false;
	ent_set(m, ep, e & ~(PTE_D | PTE_RW));
	sim_flush_tlb_range(m, r->mm, r->va, r->va + MM_PAGE_SIZE);
	return (e & PTE_D) != 0;
}

/* Write back the dirty pages of a file mapping with index in [first, last]. */
int sim_writeback(struct mm_machine *m, struct sim_mapping *map, uint64_t first, uint64_t last)
{
	if (map->kind != SIM_MAP_FILE)
		return 0;
	int err = 0;
	for (uint64_t i = first; i < map->cap && i <= last; i++) {
		struct mm_page *p = map->pages[i];
		if (!p)
			continue;
		bool dirty = mm_page_test_flag(p, MM_PG_DIRTY);
		for (struct sim_rmap *r = m->rmap[page_pfn(m, p)]; r; r = r->next)
			dirty |= mkclean_one(m, r);
		if (!dirty)
			continue;
		uint64_t off = i << MM_PAGE_SHIFT;
		if (off < map->size) {
			size_t n = (size_t)MM_MIN((uint64_t)MM_PAGE_SIZE, map->size - off);
			if (pwrite(map->host_fd, pfn_host(m, page_pfn(m, p)), n, (off_t)off) != (ssize_t)n) {
				/* the page keeps its data and stays dirty */
				mm_page_set_flag(p, MM_PG_DIRTY);
				err = -MM_EIO;
				continue;
			}
			m->pgpgout += MM_PAGE_SIZE >> 10;
		}
		mm_page_clear_flag(p, MM_PG_DIRTY);
	}
	return err;
}

/* ---- open files ------------------------------------------------------------------------ */

int mm_open(struct mm_machine *m, struct mm_task *t, const char *path, int flags)
{
	if (task_dead(t))
		return -MM_ESRCH;
	int fd = -1;
	for (int i = 0; i < SIM_MAX_FILES; i++)
		if (!t->files[i].map) {
			fd = i;
			break;
		}
	if (fd < 0)
		return -MM_EMFILE;
	int acc = flags & MM_O_ACCMODE;
	if (acc != MM_O_RDONLY && acc != MM_O_RDWR)
		return -MM_EINVAL;
	int hfd = open(path, acc == MM_O_RDWR ? O_RDWR : O_RDONLY);
	if (hfd < 0)
		return -errno;
	struct stat st;
	if (fstat(hfd, &st) || !S_ISREG(st.st_mode)) {
		close(hfd);
		return -MM_EACCES;
	}
	struct sim_mapping *map = NULL, *it;
	mm_list_for_each_entry(it, &m->mappings, node)
		if (it->kind == SIM_MAP_FILE && it->dev == (uint64_t)st.st_dev &&
		    it->ino == (uint64_t)st.st_ino) {
			map = it;
			break;
		}
	if (map) {
		sim_mapping_get(map);
		/* keep a writable host descriptor if this open can write */
		if (acc == MM_O_RDWR && !map->host_writable) {
			close(map->host_fd);
			map->host_fd = hfd;
			map->host_writable = true;
		} else {
			close(hfd);
		}
	} else {
		map = sim_mapping_new(m, SIM_MAP_FILE, (uint64_t)st.st_size);
		if (!map) {
			close(hfd);
			return -MM_ENOMEM;
		}
		map->host_fd = hfd;
		map->host_writable = acc == MM_O_RDWR;
		map->dev = (uint64_t)st.st_dev;
		map->ino = (uint64_t)st.st_ino;
		/* maps shows the file's path (d_path), symlinks resolved */
		char *real = realpath(path, NULL);
		snprintf(map->name, sizeof(map->name), "%s", real ? real : path);
		free(real);
	}
	t->files[fd].map = map;
	t->files[fd].flags = acc;
	return fd;
}

int mm_close(struct mm_machine *m, struct mm_task *t, int fd)
{
	if (task_dead(t))
		return -MM_ESRCH;
	if (fd < 0 || fd >= SIM_MAX_FILES || !t->files[fd].map)
		return -MM_EBADF;
	struct sim_mapping *map = t->files[fd].map;
	t->files[fd].map = NULL;
	sim_mapping_put(m, map);
	return 0;
}

int mm_fsync(struct mm_machine *m, struct mm_task *t, int fd)
{
	if (task_dead(t))
		return -MM_ESRCH;
	if (fd < 0 || fd >= SIM_MAX_FILES || !t->files[fd].map)
		return -MM_EBADF;
	return sim_writeback(m, t->files[fd].map, 0, UINT64_MAX) ? -MM_EIO : 0;
}

void sim_vma_writeback(struct mm_machine *m, struct sim_vma *v, uint64_t start, uint64_t end)
{
	if (!v->mapping || v->mapping->kind != SIM_MAP_FILE || !(v->vm_flags & VM_SHARED) || start >= end)
		return;
	uint64_t first = v->vm_pgoff + ((start - v->vm_start) >> MM_PAGE_SHIFT);
	uint64_t last = v->vm_pgoff + ((end - v->vm_start) >> MM_PAGE_SHIFT) - 1;
	sim_writeback(m, v->mapping, first, last);
}
