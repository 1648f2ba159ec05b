/* exec.c — execve() of a real ELF file (fs/binfmt_elf.c, load_elf_binary).
 *
 * The process gets a new, empty address space (the old one is torn down as
 * exit would; open files stay). Then, as binfmt_elf does:
 *  - each PT_LOAD segment of the executable is a private file mapping of its
 *    pages (MAP_PRIVATE|MAP_FIXED, rights from p_flags), at p_vaddr for
 *    ET_EXEC and at ELF_ET_DYN_BASE + p_vaddr for ET_DYN (PIE); the part of
 *    the last file page past p_filesz is zeroed (padzero: a write, so that
 *    page is copied on write) and the rest of p_memsz is anonymous (bss);
 *  - the heap starts at the page after the highest segment end;
 *  - the interpreter named by PT_INTERP is loaded the same way at an
 *    address get_unmapped_area chooses (top-down from mmap_base);
 *  - the stack VMA (132 KiB, growing down) is made at the top and filled as
 *    create_elf_tables() fills it: the file name, the environment and
 *    argument strings, the platform string and 16 AT_RANDOM bytes at the
 *    top; below them, 16-byte aligned, argc, the argv pointers, NULL, the
 *    envp pointers, NULL and the auxiliary vector (AT_PHDR, AT_PHENT,
 *    AT_PHNUM, AT_PAGESZ, AT_BASE, AT_FLAGS, AT_ENTRY, AT_UID..AT_EGID,
 *    AT_SECURE, AT_RANDOM, AT_EXECFN, AT_PLATFORM, AT_NULL); start_stack
 *    points at argc. These are user writes through the MMU, so the stack
 *    pages are faulted in as on Linux.
 * Going further than the kernel, mmsim also does the dynamic loader's first
 * job: every DT_NEEDED library of the executable is looked up in the
 * standard host directories and its PT_LOAD segments mapped (private file
 * mappings, as ld.so maps them). Libraries are not relocated or searched
 * recursively, and no code runs: the point is the memory layout, the page
 * cache sharing of the libraries' pages (RssFile, SHR) and their faults.
 *
 * No randomisation: PIE executables load at 2/3 of the map window
 * (0x555555554000 on x86-64), as with ASLR off.
 *
 * Errors: -MM_ENOENT (no file), -MM_ENOEXEC (not an ELF file for this
 * machine: bad magic, class, type, e_machine or program headers — also for
 * the interpreter, where Linux says ELIBBAD), -MM_ENOMEM.
 * Reference: fs/binfmt_elf.c, elf(5), the System V ABI (DT_NEEDED).
 */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim_internal.h"

/* A program header in a width-neutral form. */
struct phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, filesz, memsz;
};

struct elf_image {
	bool is64, dyn;
	uint64_t entry;
	unsigned int phentsize;
	unsigned int nph;
	struct phdr ph[64];
};

static int read_image(const char *path, bool want64, struct elf_image *img)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -MM_ENOENT;
	unsigned char hdr[64];
	int err = -MM_ENOEXEC;
	if (pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) || memcmp(hdr, ELFMAG, SELFMAG))
		goto out;
	img->is64 = hdr[EI_CLASS] == ELFCLASS64;
	if (img->is64 != want64 || hdr[EI_DATA] != ELFDATA2LSB)
		goto out;
	uint64_t phoff;
	unsigned int phnum, phentsize, type, machine;
	if (img->is64) {
		const Elf64_Ehdr *e = (const Elf64_Ehdr *)hdr;
		type = e->e_type;
		machine = e->e_machine;
		img->entry = e->e_entry;
		phoff = e->e_phoff;
		phnum = e->e_phnum;
		phentsize = e->e_phentsize;
	} else {
		const Elf32_Ehdr *e = (const Elf32_Ehdr *)hdr;
		type = e->e_type;
		machine = e->e_machine;
		img->entry = e->e_entry;
		phoff = e->e_phoff;
		phnum = e->e_phnum;
		phentsize = e->e_phentsize;
	}
	if ((type != ET_EXEC && type != ET_DYN) || machine != (img->is64 ? EM_X86_64 : EM_386) ||
	    phnum == 0 || phnum > MM_ARRAY_SIZE(img->ph) ||
	    phentsize != (img->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)))
		goto out;
	img->dyn = type == ET_DYN;
	img->nph = phnum;
	img->phentsize = phentsize;
	for (unsigned int i = 0; i < phnum; i++) {
		unsigned char raw[sizeof(Elf64_Phdr)];
		if (pread(fd, raw, phentsize, (off_t)(phoff + (uint64_t)i * phentsize)) != (ssize_t)phentsize)
			goto out;
		struct phdr *p = &img->ph[i];
		if (img->is64) {
			const Elf64_Phdr *q = (const Elf64_Phdr *)raw;
			*p = (struct phdr){ q->p_type, q->p_flags, q->p_offset, q->p_vaddr, q->p_filesz, q->p_memsz };
		} else {
			const Elf32_Phdr *q = (const Elf32_Phdr *)raw;
			*p = (struct phdr){ q->p_type, q->p_flags, q->p_offset, q->p_vaddr, q->p_filesz, q->p_memsz };
		}
	}
	err = 0;
out:
	close(fd);
	return err;
}

static int prot_of(uint32_t pflags)
{
	return (pflags & PF_R ? MM_PROT_READ : 0) | (pflags & PF_W ? MM_PROT_WRITE : 0) |
	       (pflags & PF_X ? MM_PROT_EXEC : 0);
}

/* Map the PT_LOAD segments at bias (or, with bias_auto, where a top-down
 * search finds room for the whole image). Returns the bias, or < 0. */
static int64_t map_image(struct mm_machine *m, struct mm_task *t, const char *path,
			 const struct elf_image *img, uint64_t bias, bool bias_auto, uint64_t *end_out,
			 bool main_image)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	for (unsigned int i = 0; i < img->nph; i++) {
		const struct phdr *p = &img->ph[i];
		if (p->type != PT_LOAD)
			continue;
		lo = MM_MIN(lo, MM_ALIGN_DOWN(p->vaddr, MM_PAGE_SIZE));
		hi = MM_MAX(hi, p->vaddr + p->memsz);
	}
	if (hi <= lo)
		return -MM_EINVAL;
	if (bias_auto) {
		/* reserve the whole span, as elf_map(total_size) does */
		int64_t a = mm_do_mmap(m, t, 0, hi - lo, MM_PROT_NONE, MM_MAP_PRIVATE | MM_MAP_ANONYMOUS, -1, 0);
		if (a < 0)
			return a;
		bias = (uint64_t)a - lo;
	}
	int fd = mm_open(m, t, path, MM_O_RDONLY);
	if (fd < 0)
		return fd;
	int64_t err = 0;
	uint64_t end = 0;
	for (unsigned int i = 0; i < img->nph && !err; i++) {
		const struct phdr *p = &img->ph[i];
		if (p->type != PT_LOAD)
			continue;
		uint64_t pstart = MM_ALIGN_DOWN(bias + p->vaddr, MM_PAGE_SIZE);
		uint64_t off = p->vaddr & (MM_PAGE_SIZE - 1);
		uint64_t file_end = bias + p->vaddr + p->filesz, mem_end = bias + p->vaddr + p->memsz;
		int prot = prot_of(p->flags);
		if (p->filesz) {
			int64_t a = mm_do_mmap(m, t, pstart, p->filesz + off, prot,
					       MM_MAP_PRIVATE | MM_MAP_FIXED, fd, p->offset - off);
			if (a < 0) {
				err = a;
				break;
			}
		}
		if (p->memsz > p->filesz) {
			/* padzero(): the rest of the last file page reads zero */
			uint64_t pad = MM_ALIGN_UP(file_end, MM_PAGE_SIZE) - file_end;
			if (p->filesz && pad && (prot & MM_PROT_WRITE)) {
				static const uint8_t zeros[MM_PAGE_SIZE];
				int r = mm_write(m, t, file_end, zeros, (size_t)pad);
				if (r) {
					err = r;
					break;
				}
			}
			uint64_t bss = MM_ALIGN_UP(file_end, MM_PAGE_SIZE), bss_end = MM_ALIGN_UP(mem_end, MM_PAGE_SIZE);
			if (bss_end > bss) {
				int64_t a = mm_do_mmap(m, t, bss, bss_end - bss, prot,
						       MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_FIXED, -1, 0);
				if (a < 0) {
					err = a;
					break;
				}
			}
		}
		if (main_image) {
			struct sim_mm *mm = t->mm;
			if ((p->flags & PF_X) && !mm->start_code) {
				mm->start_code = pstart;
				mm->end_code = file_end;
			}
			if (p->flags & PF_W) {
				if (!mm->start_data)
					mm->start_data = bias + p->vaddr;
				mm->end_data = file_end;
			}
		}
		end = MM_MAX(end, mem_end);
	}
	mm_close(m, t, fd);
	if (bias_auto) {
		/* drop what the reservation left between segments */
		struct sim_vma *v;
		for (uint64_t va = bias + lo; va < bias + hi;) {
			v = sim_find_vma(t->mm, va);
			if (!v || v->vm_start >= bias + hi)
				break;
			uint64_t next = v->vm_end;
			if (!(v->vm_flags & VM_ACCESS_FLAGS) && !v->mapping)
				mm_do_munmap(m, t, v->vm_start, v->vm_end - v->vm_start);
			va = next;
		}
	}
	if (err)
		return err;
	*end_out = end;
	return (int64_t)bias;
}

/* ---- DT_NEEDED --------------------------------------------------------------------- */

static int64_t vaddr_to_offset(const struct elf_image *img, uint64_t va)
{
	for (unsigned int i = 0; i < img->nph; i++) {
		const struct phdr *p = &img->ph[i];
		if (p->type == PT_LOAD && va >= p->vaddr && va < p->vaddr + p->filesz)
			return (int64_t)(p->offset + (va - p->vaddr));
	}
	return -1;
}

/* Names of the DT_NEEDED libraries, written NUL-separated into out. */
static int needed_libs(const char *path, const struct elf_image *img, char *out, size_t outsz)
{
	const struct phdr *dyn = NULL;
	for (unsigned int i = 0; i < img->nph; i++)
		if (img->ph[i].type == PT_DYNAMIC)
			dyn = &img->ph[i];
	if (!dyn)
		return 0;
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	size_t esz = img->is64 ? sizeof(Elf64_Dyn) : sizeof(Elf32_Dyn);
	size_t n = (size_t)MM_MIN(dyn->filesz / esz, 512);
	uint64_t strtab = 0, needed[16];
	int nneeded = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char raw[sizeof(Elf64_Dyn)];
		if (pread(fd, raw, esz, (off_t)(dyn->offset + i * esz)) != (ssize_t)esz)
			break;
		int64_t tag;
		uint64_t val;
		if (img->is64) {
			tag = ((const Elf64_Dyn *)raw)->d_tag;
			val = ((const Elf64_Dyn *)raw)->d_un.d_val;
		} else {
			tag = ((const Elf32_Dyn *)raw)->d_tag;
			val = ((const Elf32_Dyn *)raw)->d_un.d_val;
		}
		if (tag == DT_NULL)
			break;
		if (tag == DT_STRTAB)
			strtab = val;
		else if (tag == DT_NEEDED && nneeded < 16)
			needed[nneeded++] = val;
	}
	int64_t stroff = vaddr_to_offset(img, strtab);
	size_t used = 0;
	int count = 0;
	for (int i = 0; i < nneeded && stroff >= 0; i++) {
		char name[256] = { 0 };
		if (pread(fd, name, sizeof(name) - 1, (off_t)((uint64_t)stroff + needed[i])) <= 0)
			continue;
		size_t len = strlen(name);
		if (!len || used + len + 1 > outsz)
			continue;
		memcpy(out + used, name, len + 1);
		used += len + 1;
		count++;
	}
	close(fd);
	return count;
}

static bool find_library(const char *name, bool is64, char *out, size_t outsz)
{
	static const char *const dirs64[] = { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
					      "/lib64", "/usr/lib64", "/lib", "/usr/lib" };
	static const char *const dirs32[] = { "/lib/i386-linux-gnu", "/usr/lib/i386-linux-gnu",
					      "/lib32", "/usr/lib32", "/lib", "/usr/lib" };
	const char *const *dirs = is64 ? dirs64 : dirs32;
	if (strlen(name) > 200)
		return false;
	for (size_t i = 0; i < 6; i++) {
		int n = snprintf(out, outsz, "%s/%.200s", dirs[i], name);
		if (n > 0 && (size_t)n < outsz && access(out, R_OK) == 0)
			return true;
	}
	return false;
}

/* ---- the initial stack (create_elf_tables) ---------------------------------------------- */

static int push_bytes(struct mm_machine *m, struct mm_task *t, uint64_t *sp, const void *p, size_t n)
{
	*sp -= n;
	return mm_write(m, t, *sp, p, n);
}

static int setup_stack(struct mm_machine *m, struct mm_task *t, uint64_t top, const char *path,
		       const char *const argv[], const char *const envp[], const struct elf_image *img,
		       uint64_t bias, uint64_t interp_base)
{
	const bool w64 = img->is64;
	const size_t word = w64 ? 8 : 4;
	uint64_t sp = top - word;            /* a null word at the very top */
	int argc = 0, envc = 0, err = 0;
	while (argv && argv[argc])
		argc++;
	while (envp && envp[envc])
		envc++;
	if (argc > 256 || envc > 256)
		return -MM_E2BIG;
	uint64_t argp[257], envpp[257];
	err = push_bytes(m, t, &sp, path, strlen(path) + 1);
	uint64_t execfn = sp;
	for (int i = envc - 1; i >= 0 && !err; i--) {
		err = push_bytes(m, t, &sp, envp[i], strlen(envp[i]) + 1);
		envpp[i] = sp;
	}
	for (int i = argc - 1; i >= 0 && !err; i--) {
		err = push_bytes(m, t, &sp, argv[i], strlen(argv[i]) + 1);
		argp[i] = sp;
	}
	const char *plat = w64 ? "x86_64" : "i686";
	if (!err)
		err = push_bytes(m, t, &sp, plat, strlen(plat) + 1);
	uint64_t platform = sp;
	uint8_t rnd[16];
	for (int i = 0; i < 16; i++)   /* deterministic "random" bytes: no ASLR here */
		rnd[i] = (uint8_t)(0x5a ^ (i * 37) ^ t->pid);
	if (!err)
		err = push_bytes(m, t, &sp, rnd, sizeof(rnd));
	uint64_t random = sp;
	if (err)
		return err;
	uint64_t phdr = 0;
	for (unsigned int i = 0; i < img->nph; i++)
		if (img->ph[i].type == PT_PHDR)
			phdr = bias + img->ph[i].vaddr;
	const uint64_t aux[][2] = {
		{ AT_PHDR, phdr },            { AT_PHENT, img->phentsize }, { AT_PHNUM, img->nph },
		{ AT_PAGESZ, MM_PAGE_SIZE },  { AT_BASE, interp_base },     { AT_FLAGS, 0 },
		{ AT_ENTRY, bias + img->entry }, { AT_UID, 0 },             { AT_EUID, 0 },
		{ AT_GID, 0 },                { AT_EGID, 0 },               { AT_SECURE, 0 },
		{ AT_RANDOM, random },        { AT_EXECFN, execfn },        { AT_PLATFORM, platform },
		{ AT_NULL, 0 },
	};
	size_t items = 1 + (size_t)argc + 1 + (size_t)envc + 1 + 2 * MM_ARRAY_SIZE(aux);
	sp = MM_ALIGN_DOWN(sp - items * word, 16);
	uint64_t p = sp;
	uint64_t words[1 + 257 + 1 + 257 + 1 + 2 * 16];
	size_t k = 0;
	words[k++] = (uint64_t)argc;
	for (int i = 0; i < argc; i++)
		words[k++] = argp[i];
	words[k++] = 0;
	for (int i = 0; i < envc; i++)
		words[k++] = envpp[i];
	words[k++] = 0;
	for (size_t i = 0; i < MM_ARRAY_SIZE(aux); i++) {
		words[k++] = aux[i][0];
		words[k++] = aux[i][1];
	}
	for (size_t i = 0; i < k && !err; i++, p += word) {
		uint32_t w32 = (uint32_t)words[i];
		err = mm_write(m, t, p, w64 ? (const void *)&words[i] : (const void *)&w32, word);
	}
	if (!err)
		t->mm->start_stack = sp;
	return err;
}

/* ---- execve --------------------------------------------------------------------------- */

int mm_exec(struct mm_machine *m, struct mm_task *t, const char *path)
{
	const char *argv[] = { path, NULL };
	return mm_execve(m, t, path, argv, NULL);
}

int mm_execve(struct mm_machine *m, struct mm_task *t, const char *path, const char *const argv[],
	      const char *const envp[])
{
	bool want64 = m->pg.levels > 2;
	struct elf_image *img = malloc(sizeof(*img) * 2);
	if (!img)
		return -MM_ENOMEM;
	int err = read_image(path, want64, img);
	if (err)
		goto out;
	/* the interpreter, checked before the point of no return */
	char interp[256] = { 0 };
	for (unsigned int i = 0; i < img->nph; i++)
		if (img->ph[i].type == PT_INTERP) {
			int fd = open(path, O_RDONLY);
			size_t n = (size_t)MM_MIN(img->ph[i].filesz, sizeof(interp) - 1);
			if (fd < 0 || pread(fd, interp, n, (off_t)img->ph[i].offset) != (ssize_t)n)
				err = -MM_ENOEXEC;
			if (fd >= 0)
				close(fd);
		}
	if (!err && interp[0])
		err = read_image(interp, want64, &img[1]);
	if (err)
		goto out;

	/* point of no return: a fresh mm */
	struct sim_mm *nmm = sim_mm_alloc(m);
	if (!nmm) {
		err = -MM_ENOMEM;
		goto out;
	}
	struct sim_mm *old = t->mm;
	nmm->owner = t;
	t->mm = nmm;
	if (m->cpu.current == t) {
		m->cpu.current = NULL;
		mm_context_switch(m, t);
	}
	sim_mm_free(m, old);
	const char *base = strrchr(path, '/');
	snprintf(t->comm, sizeof(t->comm), "%s", base ? base + 1 : path);

	uint64_t bias = img->dyn ? MM_ALIGN_DOWN(m->lay.map_window / 3 * 2, MM_PAGE_SIZE) : 0;
	uint64_t end = 0;
	int64_t r = map_image(m, t, path, img, bias, false, &end, true);
	if (r < 0) {
		err = (int)r;
		goto out;
	}
	nmm->start_brk = nmm->brk = MM_ALIGN_UP(end, MM_PAGE_SIZE);
	/* the stack */
	uint64_t top = m->lay.map_window, ssz = 132ULL << 10;
	r = mm_do_mmap(m, t, top - ssz, ssz, MM_PROT_READ | MM_PROT_WRITE,
		       MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_FIXED | MM_MAP_GROWSDOWN, -1, 0);
	if (r < 0) {
		err = (int)r;
		goto out;
	}
	nmm->start_stack = top - 16;
	uint64_t interp_base = 0;
	if (interp[0]) {
		uint64_t iend;
		r = map_image(m, t, interp, &img[1], 0, true, &iend, false);
		if (r < 0) {
			err = (int)r;
			goto out;
		}
		interp_base = (uint64_t)r;
	}
	/* ld.so's part: the direct DT_NEEDED libraries */
	char names[2048];
	int n = needed_libs(path, img, names, sizeof(names));
	const char *name = names;
	for (int i = 0; i < n; i++, name += strlen(name) + 1) {
		char lib[512];
		struct elf_image li;
		uint64_t lend;
		if (!find_library(name, want64, lib, sizeof(lib)) || read_image(lib, want64, &li))
			continue;
		r = map_image(m, t, lib, &li, 0, true, &lend, false);
		if (r < 0) {
			err = (int)r;
			goto out;
		}
	}
	err = setup_stack(m, t, top, path, argv, envp, img, bias, interp_base);
out:
	free(img);
	return err;
}
