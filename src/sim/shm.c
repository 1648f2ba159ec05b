/* shm.c — System V shared memory (ipc/shm.c): shmget, shmat, shmdt, shmctl.
 *
 * A segment is a shmem object (filemap.c) of the requested size, named by
 * an id and optionally a key. shmat() maps the whole segment MAP_SHARED at
 * an address the caller gives (SHM_RND rounds it down to SHMLBA, a page on
 * x86) or the kernel chooses; every attachment maps the same frames, so a
 * write by one process is read by all. Pages are created on first touch,
 * zeroed, and counted as Shmem (and Cached, as on Linux).
 *
 * Lifetime as Linux: IPC_RMID only marks the segment; it is destroyed, and
 * its pages freed, when the last attachment goes (shmdt, munmap, exit). As
 * Linux does, shm_nattch counts attached VMAs (a split VMA counts twice),
 * fork adds the child's attachments, and a removed segment's key becomes
 * IPC_PRIVATE.
 *
 * Cost: shmget O(segments) (key lookup); shmat as mmap; pages as shmem.
 */
#include <stdlib.h>

#include "sim_internal.h"

#define SHMMAX (1ULL << 40)

static struct sim_shm *shm_find_id(struct mm_machine *m, int id)
{
	struct sim_shm *s;
	mm_list_for_each_entry(s, &m->shms, node)
		if (s->id == id)
			return s;
	return NULL;
}

static void shm_destroy(struct mm_machine *m, struct sim_shm *s)
{
	mm_list_del(&s->node);
	sim_mapping_put(m, s->map);
	mm_kfree(m->kmem, s);
}

void sim_shm_vma_gone(struct mm_machine *m, struct sim_shm *seg)
{
	MM_BUG_ON(seg->nattch <= 0);
	if (--seg->nattch == 0 && seg->removed)
		shm_destroy(m, seg);
}

void sim_shm_destroy_all(struct mm_machine *m)
{
	while (!mm_list_empty(&m->shms))
		shm_destroy(m, mm_list_entry(m->shms.next, struct sim_shm, node));
}

int mm_shmget(struct mm_machine *m, struct mm_task *t, int32_t key, uint64_t size, int shmflg)
{
	if (task_dead(t))
		return -MM_ESRCH;
	if (key != MM_IPC_PRIVATE) {
		struct sim_shm *s;
		mm_list_for_each_entry(s, &m->shms, node) {
			if (s->key != key || s->removed)
				continue;
			if ((shmflg & MM_IPC_CREAT) && (shmflg & MM_IPC_EXCL))
				return -MM_EEXIST;
			if (size > s->size)
				return -MM_EINVAL;
			return s->id;
		}
		if (!(shmflg & MM_IPC_CREAT))
			return -MM_ENOENT;
	}
	if (size < 1 || size > SHMMAX)
		return -MM_EINVAL;
	struct sim_shm *s = mm_kzalloc(m->kmem, sizeof(*s), 0);
	if (!s)
		return -MM_ENOMEM;
	s->map = sim_mapping_new(m, SIM_MAP_SHMEM, MM_ALIGN_UP(size, MM_PAGE_SIZE));
	if (!s->map) {
		mm_kfree(m->kmem, s);
		return -MM_ENOMEM;
	}
	snprintf(s->map->name, sizeof(s->map->name), "/SYSV%08x", (unsigned int)key);
	s->id = m->next_shm_id++;
	s->key = key;
	s->size = size;
	s->cpid = t ? t->pid : 0;
	mm_list_add_tail(&s->node, &m->shms);
	return s->id;
}

int64_t mm_shmat(struct mm_machine *m, struct mm_task *t, int shmid, uint64_t addr, int shmflg)
{
	if (task_dead(t))
		return -MM_ESRCH;
	struct sim_shm *s = shm_find_id(m, shmid);
	if (!s)
		return -MM_EINVAL;
	if (addr & ~MM_PAGE_MASK) {
		if (!(shmflg & MM_SHM_RND))
			return -MM_EINVAL;
		addr &= MM_PAGE_MASK;
	}
	int prot = MM_PROT_READ | ((shmflg & MM_SHM_RDONLY) ? 0 : MM_PROT_WRITE);
	uint64_t len = MM_ALIGN_UP(s->size, MM_PAGE_SIZE);
	/* map a placeholder shared mapping, then make it this segment's */
	int64_t a = mm_do_mmap(m, t, addr, len, prot,
			       MM_MAP_SHARED | MM_MAP_ANONYMOUS | (addr ? MM_MAP_FIXED : 0), -1, 0);
	if (a < 0)
		return a;
	struct sim_vma *v = sim_find_vma(t->mm, (uint64_t)a);
	MM_BUG_ON(!v || v->vm_start != (uint64_t)a || v->mapping->nrpages);
	sim_mapping_put(m, v->mapping);
	sim_mapping_get(s->map);
	v->mapping = s->map;
	v->shm = s;
	if (shmflg & MM_SHM_RDONLY)
		v->vm_flags &= ~VM_MAYWRITE;
	s->nattch++;
	s->lpid = t->pid;
	return a;
}

int mm_shmdt(struct mm_machine *m, struct mm_task *t, uint64_t addr)
{
	if (task_dead(t))
		return -MM_ESRCH;
	if (addr & ~MM_PAGE_MASK)
		return -MM_EINVAL;
	struct sim_vma *v = sim_find_vma(t->mm, addr);
	if (!v || v->vm_start != addr || !v->shm)
		return -MM_EINVAL;
	struct sim_shm *s = v->shm;
	s->lpid = t->pid;
	/* every VMA of this segment from addr on, within the segment's size */
	uint64_t end = addr + MM_ALIGN_UP(s->size, MM_PAGE_SIZE);
	while (v && v->vm_start < end) {
		struct sim_vma *next = vma_next(t->mm, v);
		if (v->shm == s)
			sim_munmap_range(m, t->mm, v->vm_start, v->vm_end);
		v = next;
	}
	return 0;
}

int mm_shmctl(struct mm_machine *m, struct mm_task *t, int shmid, int cmd, struct mm_shmid_ds *buf)
{
	(void)t;
	struct sim_shm *s = shm_find_id(m, shmid);
	if (!s)
		return -MM_EINVAL;
	switch (cmd) {
	case MM_IPC_STAT:
		if (!buf)
			return -MM_EFAULT;
		buf->key = s->key;
		buf->shm_segsz = s->size;
		buf->shm_nattch = (uint64_t)s->nattch;
		buf->shm_cpid = s->cpid;
		buf->shm_lpid = s->lpid;
		buf->removed = s->removed;
		return 0;
	case MM_IPC_RMID:
		s->removed = true;
		s->key = MM_IPC_PRIVATE;
		if (s->nattch == 0)
			shm_destroy(m, s);
		return 0;
	default:
		return -MM_EINVAL;
	}
}
