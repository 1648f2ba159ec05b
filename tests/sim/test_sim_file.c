/* File mappings through the page cache over real host files, shared
 * anonymous memory, and System V shared memory. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmkit/compiler.h"
#include "mmkit/error.h"
#include "mmkit/sim.h"
#include "testutil.h"

#define FILE_BYTES (3 * 4096 + 2048)

static struct mm_machine *boot(void)
{
	struct mm_machine_config cfg;
	mm_machine_config_init(&cfg);
	cfg.ram_bytes = 32ULL << 20;
	struct mm_machine *m;
	assert_int_equal(mm_machine_create(&cfg, &m), 0);
	return m;
}

static void make_file(char *path, uint8_t *content)
{
	strcpy(path, "/tmp/mmsim-file-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	for (int i = 0; i < FILE_BYTES; i++)
		content[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(write(fd, content, FILE_BYTES), FILE_BYTES);
	close(fd);
}

static void read_host(const char *path, uint8_t *buf)
{
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, FILE_BYTES + 100), FILE_BYTES);
	close(fd);
}

static uint64_t free_after_drop(struct mm_machine *m)
{
	mm_machine_drop_caches(m);
	struct mm_meminfo mi;
	mm_machine_meminfo(m, &mi);
	return mi.free_pages;
}

static void test_shared_and_private_file(void **state)
{
	(void)state;
	char path[64];
	static uint8_t content[FILE_BYTES], host[FILE_BYTES + 100];
	make_file(path, content);
	struct mm_machine *m = boot();
	uint64_t free0 = free_after_drop(m);
	struct mm_task *a, *b;
	assert_int_equal(mm_task_create(m, "a", &a), 0);
	assert_int_equal(mm_task_create(m, "b", &b), 0);
	int fa = mm_open(m, a, path, MM_O_RDWR);
	int fb = mm_open(m, b, path, MM_O_RDONLY);
	assert_true(fa >= 0 && fb >= 0);
	assert_int_equal(mm_open(m, a, "/nonexistent/file", MM_O_RDONLY), -MM_ENOENT);
	/* a shared writable mapping needs a writable descriptor */
	assert_int_equal(mm_do_mmap(m, b, 0, FILE_BYTES, MM_PROT_READ | MM_PROT_WRITE, MM_MAP_SHARED, fb, 0),
			 -MM_EACCES);
	int64_t pa = mm_do_mmap(m, a, 0, 5 * 4096, MM_PROT_READ | MM_PROT_WRITE, MM_MAP_SHARED, fa, 0);
	int64_t pb = mm_do_mmap(m, b, 0, FILE_BYTES, MM_PROT_READ | MM_PROT_WRITE, MM_MAP_PRIVATE, fb, 0);
	assert_true(pa > 0 && pb > 0);
	uint8_t buf[4096];
	/* a reads page 1: read from the file, a major fault */
	assert_int_equal(mm_read(m, a, (uint64_t)pa + 4096, buf, 4096), 0);
	assert_memory_equal(buf, content + 4096, 4096);
	struct mm_counters c;
	mm_task_counters(a, &c);
	assert_int_equal(c.maj_flt, 1);
	assert_int_equal(c.min_flt, 0);
	/* b reads the same page: already cached, a minor fault, same frame */
	assert_int_equal(mm_read(m, b, (uint64_t)pb + 4096, buf, 4096), 0);
	mm_task_counters(b, &c);
	assert_int_equal(c.maj_flt, 0);
	assert_int_equal(c.min_flt, 1);
	assert_true(mm_virt_to_phys(m, a, (uint64_t)pa + 4096) == mm_virt_to_phys(m, b, (uint64_t)pb + 4096));
	struct mm_meminfo mi;
	mm_machine_meminfo(m, &mi);
	assert_int_equal(mi.cached_pages, 1);
	assert_int_equal(mi.mapped_pages, 1);
	/* the partial last page: bytes past the end of the file read as zero */
	assert_int_equal(mm_read(m, a, (uint64_t)pa + 3 * 4096, buf, 4096), 0);
	assert_memory_equal(buf, content + 3 * 4096, 2048);
	for (int i = 2048; i < 4096; i++)
		assert_int_equal(buf[i], 0);
	/* a page wholly beyond the end of the file: SIGBUS */
	assert_int_equal(mm_read(m, a, (uint64_t)pa + 4 * 4096, buf, 8), -MM_EIO);
	assert_int_equal(mm_task_siginfo(a)->signo, MM_SIGBUS);
	assert_int_equal(mm_machine_check(m), 0);

	/* b writes its private page 0: a COW copy; the file never changes */
	memset(buf, 0xbb, 100);
	assert_int_equal(mm_write(m, b, (uint64_t)pb, buf, 100), 0);
	mm_task_counters(b, &c);
	assert_int_equal(c.cow_copies, 1);
	/* a writes pages 0 and 1 through the shared mapping */
	memset(buf, 0xaa, 4096);
	assert_int_equal(mm_write(m, a, (uint64_t)pa + 10, buf, 50), 0);
	assert_int_equal(mm_write(m, a, (uint64_t)pa + 4096 + 20, buf, 30), 0);
	assert_int_equal(mm_machine_check(m), 0);
	/* b still sees its own page 0, and a's write in the shared page 1 */
	uint8_t x[100];
	assert_int_equal(mm_read(m, b, (uint64_t)pb, x, 100), 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(x[i], 0xbb);
	assert_int_equal(mm_read(m, b, (uint64_t)pb + 4096 + 20, x, 30), 0);
	for (int i = 0; i < 30; i++)
		assert_int_equal(x[i], 0xaa);
	/* nothing reached the host file yet: two dirty pages in the cache */
	read_host(path, host);
	assert_memory_equal(host, content, FILE_BYTES);
	mm_machine_meminfo(m, &mi);
	assert_int_equal(mi.dirty_pages, 2);
	/* msync writes the dirty pages back */
	assert_int_equal(mm_do_msync(m, a, (uint64_t)pa, 5 * 4096, MM_MS_SYNC), 0);
	mm_machine_meminfo(m, &mi);
	assert_int_equal(mi.dirty_pages, 0);
	memset(content + 10, 0xaa, 50);
	memset(content + 4096 + 20, 0xaa, 30);
	read_host(path, host);
	assert_memory_equal(host, content, FILE_BYTES);
	/* after msync the PTEs are clean and read-only; a new write faults and
	 * dirties the page again; munmap writes it back */
	struct mm_counters c0;
	mm_task_counters(a, &c0);
	assert_int_equal(mm_write(m, a, (uint64_t)pa + 2 * 4096 + 5, buf, 7), 0);
	assert_int_equal(mm_write(m, a, (uint64_t)pa + 4096, buf, 1), 0);
	mm_task_counters(a, &c);
	assert_int_equal(c.maj_flt - c0.maj_flt, 1);   /* page 2 was read from the file */
	assert_int_equal(c.min_flt - c0.min_flt, 1);   /* page 1: write-notify again */
	assert_int_equal(mm_machine_check(m), 0);
	assert_int_equal(mm_do_munmap(m, a, (uint64_t)pa, 5 * 4096), 0);
	memset(content + 2 * 4096 + 5, 0xaa, 7);
	content[4096] = 0xaa;
	read_host(path, host);
	assert_memory_equal(host, content, FILE_BYTES);
	/* exit writes back too; b's private changes never reach the file */
	int64_t pa2 = mm_do_mmap(m, a, 0, FILE_BYTES, MM_PROT_READ | MM_PROT_WRITE, MM_MAP_SHARED, fa, 0);
	assert_true(pa2 > 0);
	assert_int_equal(mm_write(m, a, (uint64_t)pa2 + 3 * 4096 + 2000, buf, 48), 0);
	mm_exit(m, a);
	memset(content + 3 * 4096 + 2000, 0xaa, 48);
	read_host(path, host);
	assert_memory_equal(host, content, FILE_BYTES);
	assert_int_equal(mm_machine_check(m), 0);
	mm_exit(m, b);
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_meminfo(m, &mi);
	assert_true(mi.cached_pages > 0);   /* the page cache outlives the processes */
	assert_int_equal(free_after_drop(m), free0);
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
	unlink(path);
}

static void test_shared_anon_fork(void **state)
{
	(void)state;
	struct mm_machine *m = boot();
	uint64_t free0 = free_after_drop(m);
	struct mm_task *p, *c;
	assert_int_equal(mm_task_create(m, "p", &p), 0);
	int64_t s = mm_do_mmap(m, p, 0, 4 * 4096, MM_PROT_READ | MM_PROT_WRITE,
			       MM_MAP_SHARED | MM_MAP_ANONYMOUS, -1, 0);
	int64_t q = mm_do_mmap(m, p, 0, 4 * 4096, MM_PROT_READ | MM_PROT_WRITE,
			       MM_MAP_PRIVATE | MM_MAP_ANONYMOUS, -1, 0);
	uint64_t v = 11;
	assert_int_equal(mm_write(m, p, (uint64_t)s, &v, 8), 0);
	assert_int_equal(mm_write(m, p, (uint64_t)q, &v, 8), 0);
	assert_int_equal(mm_fork(m, p, &c), 0);
	v = 22;
	assert_int_equal(mm_write(m, p, (uint64_t)s, &v, 8), 0);
	assert_int_equal(mm_write(m, p, (uint64_t)q, &v, 8), 0);
	uint64_t r;
	assert_int_equal(mm_read(m, c, (uint64_t)s, &r, 8), 0);
	assert_true(r == 22);     /* shared: the child sees the parent's write */
	assert_int_equal(mm_read(m, c, (uint64_t)q, &r, 8), 0);
	assert_true(r == 11);     /* private: copy-on-write kept the old value */
	v = 33;
	assert_int_equal(mm_write(m, c, (uint64_t)s + 4096, &v, 8), 0);
	assert_int_equal(mm_read(m, p, (uint64_t)s + 4096, &r, 8), 0);
	assert_true(r == 33);
	struct mm_meminfo mi;
	mm_machine_meminfo(m, &mi);
	assert_int_equal(mi.shmem_pages, 2);
	char maps[2048];
	mm_show_maps(m, c, maps, sizeof(maps));
	assert_non_null(strstr(maps, "rw-s 00000000 00:00 0                          /dev/zero (deleted)\n"));
	assert_int_equal(mm_machine_check(m), 0);
	mm_exit(m, p);
	assert_int_equal(mm_read(m, c, (uint64_t)s, &r, 8), 0);
	assert_true(r == 22);
	mm_exit(m, c);
	mm_machine_meminfo(m, &mi);
	assert_int_equal(mi.shmem_pages, 0);
	assert_int_equal(free_after_drop(m), free0);
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
}

static void test_sysv_shm(void **state)
{
	(void)state;
	struct mm_machine *m = boot();
	uint64_t free0 = free_after_drop(m);
	struct mm_task *a, *b, *c;
	assert_int_equal(mm_task_create(m, "a", &a), 0);
	assert_int_equal(mm_task_create(m, "c", &c), 0);
	assert_int_equal(mm_shmget(m, a, 1234, 8192, 0), -MM_ENOENT);
	int id = mm_shmget(m, a, 1234, 3 * 4096, MM_IPC_CREAT | 0600);
	assert_true(id >= 0);
	assert_int_equal(mm_shmget(m, c, 1234, 4096, 0), id);
	assert_int_equal(mm_shmget(m, c, 1234, 4096, MM_IPC_CREAT | MM_IPC_EXCL), -MM_EEXIST);
	assert_int_equal(mm_shmget(m, c, 1234, 4 * 4096, 0), -MM_EINVAL);
	int priv = mm_shmget(m, a, MM_IPC_PRIVATE, 4096, 0);
	assert_true(priv >= 0 && priv != id);
	int64_t sa = mm_shmat(m, a, id, 0, 0);
	assert_true(sa > 0);
	assert_int_equal(mm_shmat(m, a, id, 0x1000123, 0), -MM_EINVAL);
	uint64_t v = 0x5151;
	assert_int_equal(mm_write(m, a, (uint64_t)sa + 8192, &v, 8), 0);
	assert_int_equal(mm_fork(m, a, &b), 0);
	int64_t sc = mm_shmat(m, c, id, 0x40000000, MM_SHM_RDONLY);
	assert_int_equal(sc, 0x40000000);
	uint64_t r = 0;
	assert_int_equal(mm_read(m, c, (uint64_t)sc + 8192, &r, 8), 0);
	assert_true(r == 0x5151);
	assert_int_equal(mm_write(m, c, (uint64_t)sc, &v, 8), -MM_EFAULT);   /* SHM_RDONLY */
	v = 0x6262;
	assert_int_equal(mm_write(m, b, (uint64_t)sa, &v, 8), 0);
	assert_int_equal(mm_read(m, c, (uint64_t)sc, &r, 8), 0);
	assert_true(r == 0x6262);
	struct mm_shmid_ds ds;
	assert_int_equal(mm_shmctl(m, a, id, MM_IPC_STAT, &ds), 0);
	assert_int_equal(ds.shm_nattch, 3);
	assert_int_equal(ds.shm_segsz, 3 * 4096);
	struct mm_meminfo mi;
	mm_machine_meminfo(m, &mi);
	assert_int_equal(mi.shmem_pages, 2);
	assert_int_equal(mm_machine_check(m), 0);
	/* removal waits for the last detach */
	assert_int_equal(mm_shmctl(m, a, id, MM_IPC_RMID, NULL), 0);
	assert_int_equal(mm_shmget(m, c, 1234, 4096, 0), -MM_ENOENT);
	assert_int_equal(mm_shmdt(m, a, (uint64_t)sa), 0);
	assert_int_equal(mm_shmdt(m, a, (uint64_t)sa), -MM_EINVAL);
	mm_exit(m, b);
	assert_int_equal(mm_read(m, c, (uint64_t)sc, &r, 8), 0);
	assert_true(r == 0x6262);
	assert_int_equal(mm_shmctl(m, c, id, MM_IPC_STAT, &ds), 0);
	assert_int_equal(ds.shm_nattch, 1);
	assert_true(ds.removed);
	assert_int_equal(mm_shmdt(m, c, (uint64_t)sc), 0);
	assert_int_equal(mm_shmctl(m, c, id, MM_IPC_STAT, &ds), -MM_EINVAL);   /* gone */
	mm_machine_meminfo(m, &mi);
	assert_int_equal(mi.shmem_pages, 0);
	assert_int_equal(mm_machine_check(m), 0);
	/* a segment without attachments outlives its creator until removed */
	int64_t sp = mm_shmat(m, a, priv, 0, 0);
	assert_int_equal(mm_write(m, a, (uint64_t)sp, &v, 8), 0);
	mm_exit(m, a);
	mm_machine_meminfo(m, &mi);
	assert_int_equal(mi.shmem_pages, 1);
	sp = mm_shmat(m, c, priv, 0, 0);
	assert_int_equal(mm_read(m, c, (uint64_t)sp, &r, 8), 0);
	assert_true(r == 0x6262);
	assert_int_equal(mm_shmctl(m, c, priv, MM_IPC_RMID, NULL), 0);
	mm_exit(m, c);
	assert_int_equal(free_after_drop(m), free0);
	assert_int_equal(mm_machine_check(m), 0);
	mm_machine_destroy(m);
}

/* /proc/PID/maps names a mapped file by its path with symlinks resolved
 * (d_path of the dentry), whatever name it was opened by; and one page
 * cache serves both names (same inode). */
static void test_maps_resolves_symlinks(void **state)
{
	(void)state;
	static uint8_t content[FILE_BYTES];
	char path[64], link[80], text[4096];
	make_file(path, content);
	snprintf(link, sizeof(link), "%s-link", path);
	assert_int_equal(symlink(path, link), 0);
	char *real = realpath(path, NULL);
	assert_non_null(real);
	struct mm_machine *m = boot();
	struct mm_task *t;
	assert_int_equal(mm_task_create(m, "ln", &t), 0);
	int fd = mm_open(m, t, link, MM_O_RDONLY);
	assert_true(fd >= 0);
	int64_t a = mm_do_mmap(m, t, 0, 4096, MM_PROT_READ, MM_MAP_PRIVATE, fd, 0);
	assert_true(a > 0);
	int fd2 = mm_open(m, t, path, MM_O_RDONLY);
	assert_true(fd2 >= 0);
	int64_t b = mm_do_mmap(m, t, 0, 4096, MM_PROT_READ, MM_MAP_PRIVATE, fd2, 0);
	assert_true(b > 0);
	uint8_t x = 0, y = 0;
	assert_int_equal(mm_read(m, t, (uint64_t)a, &x, 1), 0);
	assert_int_equal(mm_read(m, t, (uint64_t)b, &y, 1), 0);
	assert_int_equal(x, content[0]);
	assert_int_equal(y, content[0]);
	struct mm_counters c;
	mm_task_counters(t, &c);
	assert_int_equal(c.maj_flt, 1);   /* read from the host once, then cached */
	mm_show_maps(m, t, text, sizeof(text));
	assert_null(strstr(text, "-link"));
	const char *p = text;
	int n = 0;
	while ((p = strstr(p, real)) != NULL) {
		n++;
		p++;
	}
	assert_int_equal(n, 2);
	free(real);
	mm_exit(m, t);
	mm_machine_destroy(m);
	unlink(link);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_and_private_file),
		cmocka_unit_test(test_shared_anon_fork),
		cmocka_unit_test(test_sysv_shm),
		cmocka_unit_test(test_maps_resolves_symlinks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
