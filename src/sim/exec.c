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
 *  - (64-bit) the vDSO's VMAs, as arch_setup_additional_pages (map_vdso).
 * Going further than the kernel, mmsim also does the dynamic loader's work
 * short of relocation: the whole set of libraries ld.so loads, breadth-first
 * over DT_NEEDED of the executable and of every library, each once, found
 * as ld.so finds them (resolve_libraries, find_library) — all before the
 * point of no return, so a missing library fails the exec with nothing
 * changed — and each mapped as _dl_map_segments maps it (map_image with
 * ldso). No code runs: the point is the memory layout, the page cache
 * sharing of the libraries' pages (RssFile, SHR) and their faults.
 *
 * No randomisation: PIE executables load at 2/3 of the map window
 * (0x555555554000 on x86-64), as with ASLR off.
 *
 * Errors: -MM_ENOENT (no file, or a library not found: mm_exec_error()
 * names it), -MM_ENOEXEC (not an ELF file for this
 * machine: bad magic, class, type, e_machine or program headers — also for
 * the interpreter, where Linux says ELIBBAD), -MM_ENOMEM.
 * Reference: fs/binfmt_elf.c, elf(5), the System V ABI (DT_NEEDED).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <elf.h>
#include <limits.h>
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
			 bool main_image, bool ldso)
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
	int fd = mm_open(m, t, path, MM_O_RDONLY);
	if (fd < 0)
		return fd;
	int64_t err = 0;
	if (bias_auto && ldso) {
		/* _dl_map_segments(): the whole span from the file with the first
		 * segment's rights, the holes between the first and the last
		 * segment made PROT_NONE (they stay, as "---p" lines), then each
		 * segment over it */
		const struct phdr *first = NULL, *last = NULL;
		for (unsigned int i = 0; i < img->nph; i++)
			if (img->ph[i].type == PT_LOAD) {
				first = first ? first : &img->ph[i];
				last = &img->ph[i];
			}
		uint64_t off = first->offset - (first->vaddr - lo);
		int64_t a = mm_do_mmap(m, t, 0, MM_ALIGN_UP(hi, MM_PAGE_SIZE) - lo, prot_of(first->flags),
				       MM_MAP_PRIVATE, fd, off);
		if (a < 0) {
			mm_close(m, t, fd);
			return a;
		}
		bias = (uint64_t)a - lo;
		uint64_t mapend = MM_ALIGN_UP(bias + first->vaddr + first->filesz, MM_PAGE_SIZE);
		uint64_t laststart = MM_ALIGN_DOWN(bias + last->vaddr, MM_PAGE_SIZE);
		if (laststart > mapend)
			err = mm_do_mprotect(m, t, mapend, laststart - mapend, MM_PROT_NONE);
	} else if (bias_auto) {
		/* reserve the whole span, as elf_map(total_size) does */
		int64_t a = mm_do_mmap(m, t, 0, hi - lo, MM_PROT_NONE, MM_MAP_PRIVATE | MM_MAP_ANONYMOUS, -1, 0);
		if (a < 0) {
			mm_close(m, t, fd);
			return a;
		}
		bias = (uint64_t)a - lo;
	}
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
	if (bias_auto && !ldso) {
		/* drop what the reservation left between segments (the kernel
		 * unmaps them; ld.so keeps them PROT_NONE, above) */
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

/* ---- the dynamic loader's search (ld.so: _dl_map_object) ----------------------------- */

static int64_t vaddr_to_offset(const struct elf_image *img, uint64_t va)
{
	for (unsigned int i = 0; i < img->nph; i++) {
		const struct phdr *p = &img->ph[i];
		if (p->type == PT_LOAD && va >= p->vaddr && va < p->vaddr + p->filesz)
			return (int64_t)(p->offset + (va - p->vaddr));
	}
	return -1;
}

#define MAX_NEEDED 64
#define MAX_LIBS 128
#define NAME_MAX_LEN 256
#define PATHS_LEN 1024

/* What ld.so reads from an object's dynamic section. */
struct dyninfo {
	int nneeded;
	char needed[MAX_NEEDED][NAME_MAX_LEN];
	char rpath[PATHS_LEN], runpath[PATHS_LEN];   /* "" when absent */
	bool has_runpath;
};

/* One loaded object: the executable (index 0) or a library. */
struct loaded {
	char path[PATH_MAX];    /* resolved (realpath): the identity of the object */
	char origin[PATH_MAX];  /* its directory, for $ORIGIN */
	char name[NAME_MAX_LEN];/* the DT_NEEDED name it was loaded by ("" for the executable) */
	int loader;             /* index of the object whose DT_NEEDED loaded it, -1 for the executable */
	bool mapped_already;    /* the interpreter: mapped by the kernel */
	struct elf_image img;
	struct dyninfo dyn;
};

static void read_str_at(int fd, int64_t off, char *out, size_t n)
{
	out[0] = 0;
	if (off < 0)
		return;
	ssize_t r = pread(fd, out, n - 1, (off_t)off);
	out[r > 0 ? (size_t)r : 0] = 0;
}

static void read_dynamic(const char *path, const struct elf_image *img, struct dyninfo *d)
{
	memset(d, 0, sizeof(*d));
	const struct phdr *dyn = NULL;
	for (unsigned int i = 0; i < img->nph; i++)
		if (img->ph[i].type == PT_DYNAMIC)
			dyn = &img->ph[i];
	if (!dyn)
		return;
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return;
	size_t esz = img->is64 ? sizeof(Elf64_Dyn) : sizeof(Elf32_Dyn);
	size_t n = (size_t)MM_MIN(dyn->filesz / esz, 1024);
	uint64_t strtab = 0, needed[MAX_NEEDED], rpath = 0, runpath = 0;
	bool has_rpath = false;
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
		else if (tag == DT_NEEDED && nneeded < MAX_NEEDED)
			needed[nneeded++] = val;
		else if (tag == DT_RPATH) {
			rpath = val;
			has_rpath = true;
		} else if (tag == DT_RUNPATH) {
			runpath = val;
			d->has_runpath = true;
		}
	}
	int64_t stroff = vaddr_to_offset(img, strtab);
	if (stroff >= 0) {
		for (int i = 0; i < nneeded; i++) {
			read_str_at(fd, stroff + (int64_t)needed[i], d->needed[d->nneeded], NAME_MAX_LEN);
			if (d->needed[d->nneeded][0])
				d->nneeded++;
		}
		if (has_rpath)
			read_str_at(fd, stroff + (int64_t)rpath, d->rpath, PATHS_LEN);
		if (d->has_runpath)
			read_str_at(fd, stroff + (int64_t)runpath, d->runpath, PATHS_LEN);
	}
	close(fd);
}

/* A candidate file: an ELF of the right class (ld.so skips others and goes
 * on searching). Fills the resolved path. */
static bool try_file(const char *cand, bool is64, struct loaded *o)
{
	char real[PATH_MAX];
	if (access(cand, R_OK) != 0 || !realpath(cand, real))
		return false;
	if (read_image(real, is64, &o->img))
		return false;
	snprintf(o->path, sizeof(o->path), "%s", real);
	return true;
}

/* Search a colon-separated list (DT_RPATH / DT_RUNPATH), expanding $ORIGIN,
 * ${ORIGIN}, $LIB and $PLATFORM as ld.so does (_dl_dst_substitute). */
static bool search_paths(const char *list, const char *origin, const char *name, bool is64, struct loaded *o)
{
	const char *p = list;
	while (p && *p) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char dir[PATH_MAX];
		size_t k = 0;
		for (size_t i = 0; i < len && k + 1 < sizeof(dir);) {
			const char *sub = NULL;
			size_t skip = 0;
			if (!strncmp(p + i, "$ORIGIN", 7) && (i + 7 >= len || !(isalnum((unsigned char)p[i + 7]) || p[i + 7] == '_'))) {
				sub = origin;
				skip = 7;
			} else if (!strncmp(p + i, "${ORIGIN}", 9)) {
				sub = origin;
				skip = 9;
			} else if (!strncmp(p + i, "$LIB", 4) || !strncmp(p + i, "${LIB}", 6)) {
				sub = is64 ? "lib/x86_64-linux-gnu" : "lib/i386-linux-gnu";
				skip = p[i + 1] == '{' ? 6 : 4;
			} else if (!strncmp(p + i, "$PLATFORM", 9) || !strncmp(p + i, "${PLATFORM}", 11)) {
				sub = is64 ? "x86_64" : "i686";
				skip = p[i + 1] == '{' ? 11 : 9;
			}
			if (sub) {
				size_t sl = strlen(sub);
				if (k + sl + 1 >= sizeof(dir))
					break;
				memcpy(dir + k, sub, sl);
				k += sl;
				i += skip;
			} else {
				dir[k++] = p[i++];
			}
		}
		dir[k] = 0;
		char cand[PATH_MAX];
		if (!k)   /* an empty entry is the current directory */
			snprintf(dir, sizeof(dir), ".");
		if (snprintf(cand, sizeof(cand), "%s/%s", dir, name) < (int)sizeof(cand) && try_file(cand, is64, o))
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

/* Find the library `name` needed by objs[loader], in ld.so's order:
 * a name with a slash is a path; else DT_RPATH of the loader and of its
 * loaders up to the executable (only when the loader has no DT_RUNPATH;
 * an object with DT_RUNPATH contributes no DT_RPATH), DT_RUNPATH of the
 * loader, then the default directories. LD_LIBRARY_PATH and
 * /etc/ld.so.cache are not consulted (on Debian the cache lists the same
 * multiarch directories). */
static bool find_library(const struct loaded *objs, int loader, const char *name, bool is64, struct loaded *o)
{
	if (strchr(name, '/'))
		return try_file(name, is64, o);
	const struct loaded *l = &objs[loader];
	if (!l->dyn.has_runpath) {
		for (int i = loader; i >= 0; i = objs[i].loader)
			if (!objs[i].dyn.has_runpath && objs[i].dyn.rpath[0] &&
			    search_paths(objs[i].dyn.rpath, objs[i].origin, name, is64, o))
				return true;
	} else if (search_paths(l->dyn.runpath, l->origin, name, is64, o)) {
		return true;
	}
	static const char *const dirs64[] = { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
					      "/lib64", "/usr/lib64", "/lib", "/usr/lib" };
	static const char *const dirs32[] = { "/lib/i386-linux-gnu", "/usr/lib/i386-linux-gnu",
					      "/lib32", "/usr/lib32", "/lib", "/usr/lib" };
	const char *const *dirs = is64 ? dirs64 : dirs32;
	for (size_t i = 0; i < 6; i++) {
		char cand[PATH_MAX];
		if (snprintf(cand, sizeof(cand), "%s/%s", dirs[i], name) < (int)sizeof(cand) && try_file(cand, is64, o))
			return true;
	}
	return false;
}

static void set_origin(struct loaded *o)
{
	snprintf(o->origin, sizeof(o->origin), "%s", o->path);
	char *slash = strrchr(o->origin, '/');
	if (slash && slash != o->origin)
		*slash = 0;
	else if (slash)
		slash[1] = 0;
}

static _Thread_local char exec_error[PATH_MAX + NAME_MAX_LEN + 128];

const char *mm_exec_error(void)
{
	return exec_error;
}

/* The whole set of libraries, breadth-first over DT_NEEDED of the
 * executable (objs[0], filled by the caller) and of every library loaded,
 * each once (by resolved path or by the DT_NEEDED name already loaded), as
 * _dl_map_object_deps orders them. The interpreter, when given, is known in
 * advance (it satisfies libc's DT_NEEDED of ld-linux). Reads host files
 * only: nothing in the machine changes. Returns the number of objects or
 * -MM_ENOENT (a library not found: exec_error names it) / -MM_ENOMEM. */
static int resolve_libraries(struct loaded *objs, const char *interp, bool is64)
{
	int n = 1;
	read_dynamic(objs[0].path, &objs[0].img, &objs[0].dyn);
	if (interp && interp[0]) {
		struct loaded *o = &objs[n];
		memset(o, 0, sizeof(*o));
		if (try_file(interp, is64, o)) {
			o->loader = 0;
			o->mapped_already = true;
			snprintf(o->name, sizeof(o->name), "%s", interp);
			set_origin(o);
			read_dynamic(o->path, &o->img, &o->dyn);
			n++;
		}
	}
	const int first_lib = n;
	for (int q = 0; q < n; q++) {
		if (q > 0 && q < first_lib)
			continue;   /* the interpreter's own needs are ld.so's (none) */
		for (int k = 0; k < objs[q].dyn.nneeded; k++) {
			const char *name = objs[q].dyn.needed[k];
			bool known = false;
			for (int j = 1; j < n && !known; j++) {
				const char *base = strrchr(objs[j].path, '/');
				known = !strcmp(objs[j].name, name) || !strcmp(base ? base + 1 : objs[j].path, name);
			}
			if (known)
				continue;
			if (n == MAX_LIBS)
				return -MM_ENOMEM;
			struct loaded *o = &objs[n];
			memset(o, 0, sizeof(*o));
			if (!find_library(objs, q, name, is64, o)) {
				snprintf(exec_error, sizeof(exec_error),
					 "%s: error while loading shared libraries: %s: cannot open shared object file: No such file or directory",
					 objs[0].path, name);
				return -MM_ENOENT;
			}
			for (int j = 1; j < n && !known; j++)
				known = !strcmp(objs[j].path, o->path);
			if (known)
				continue;
			o->loader = q;
			snprintf(o->name, sizeof(o->name), "%s", name);
			set_origin(o);
			read_dynamic(o->path, &o->img, &o->dyn);
			n++;
		}
	}
	return n;
}

/* The vDSO and its data pages, as arch_setup_additional_pages() maps them
 * on a 6.x x86-64 kernel (checked on 6.18): [vvar] 4 pages r--p (the vDSO
 * data, the time-namespace page...), [vvar_vclock] 2 pages r--p (the pvclock
 * and Hyper-V clock pages), [vdso] 2 pages r-xp (the 8 KiB vDSO image),
 * contiguous in that order, placed by get_unmapped_area (top-down). Here
 * they are anonymous VMAs of those kinds: their pages read as zero (no vDSO
 * image is copied in; no code runs). Returns the [vdso] start. */
static int64_t map_vdso(struct mm_machine *m, struct mm_task *t)
{
	static const struct { uint64_t pages; int prot; uint8_t kind; } parts[] = {
		{ 4, MM_PROT_READ, VMA_VVAR },
		{ 2, MM_PROT_READ, VMA_VVAR_VCLOCK },
		{ 2, MM_PROT_READ | MM_PROT_EXEC, VMA_VDSO },
	};
	uint64_t total = 0;
	for (size_t i = 0; i < MM_ARRAY_SIZE(parts); i++)
		total += parts[i].pages << MM_PAGE_SHIFT;
	int64_t base = mm_do_mmap(m, t, 0, total, MM_PROT_NONE, MM_MAP_PRIVATE | MM_MAP_ANONYMOUS, -1, 0);
	if (base < 0)
		return base;
	uint64_t va = (uint64_t)base;
	for (size_t i = 0; i < MM_ARRAY_SIZE(parts); i++) {
		uint64_t len = parts[i].pages << MM_PAGE_SHIFT;
		int64_t a = mm_do_mmap(m, t, va, len, parts[i].prot,
				       MM_MAP_PRIVATE | MM_MAP_ANONYMOUS | MM_MAP_FIXED, -1, 0);
		if (a < 0)
			return a;
		struct sim_vma *v = sim_find_vma(t->mm, va);
		if (!v || v->vm_start != va || v->vm_end != va + len)
			return -MM_EINVAL;
		v->kind = parts[i].kind;
		va += len;
	}
	return (int64_t)(va - (2 << MM_PAGE_SHIFT));
}

/* ---- the initial stack (create_elf_tables) ---------------------------------------------- */

static int push_bytes(struct mm_machine *m, struct mm_task *t, uint64_t *sp, const void *p, size_t n)
{
	*sp -= n;
	return mm_write(m, t, *sp, p, n);
}

static int setup_stack(struct mm_machine *m, struct mm_task *t, uint64_t top, const char *path,
		       const char *const argv[], const char *const envp[], const struct elf_image *img,
		       uint64_t bias, uint64_t interp_base, uint64_t vdso)
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
		{ vdso ? AT_SYSINFO_EHDR : AT_IGNORE, vdso },
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
	uint64_t words[1 + 257 + 1 + 257 + 1 + 2 * 17];
	size_t k = 0;
	words[k++] = (uint64_t)argc;
	for (int i = 0; i < argc; i++)
		words[k++] = argp[i];
	words[k++] = 0;
	for (int i = 0; i < envc; i++)
		words[k++] = envpp[i];
	words[k++] = 0;
	for (size_t i = 0; i < MM_ARRAY_SIZE(aux); i++) {
		if (aux[i][0] == AT_IGNORE)
			continue;   /* no vDSO in 32-bit mode */
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
	if (task_dead(t))
		return -MM_ESRCH;
	bool want64 = m->pg.levels > 2;
	struct elf_image *img = malloc(sizeof(*img) * 2);
	struct loaded *objs = NULL;
	int nobjs = 0;
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
	/* ld.so's part, also before the point of no return: the libraries */
	exec_error[0] = 0;
	objs = malloc(sizeof(*objs) * MAX_LIBS);
	if (!objs) {
		err = -MM_ENOMEM;
		goto out;
	}
	memset(&objs[0], 0, sizeof(objs[0]));
	objs[0].loader = -1;
	objs[0].img = img[0];
	if (!realpath(path, objs[0].path))
		snprintf(objs[0].path, sizeof(objs[0].path), "%s", path);
	set_origin(&objs[0]);
	nobjs = resolve_libraries(objs, interp, want64);
	if (nobjs < 0) {
		err = nobjs;
		goto out;
	}

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
	int64_t r = map_image(m, t, path, img, bias, false, &end, true, false);
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
		r = map_image(m, t, interp, &img[1], 0, true, &iend, false, false);
		if (r < 0) {
			err = (int)r;
			goto out;
		}
		interp_base = (uint64_t)r;
	}
	/* the vDSO (64-bit processes), as arch_setup_additional_pages() */
	uint64_t vdso = 0;
	if (want64) {
		r = map_vdso(m, t);
		if (r < 0) {
			err = (int)r;
			goto out;
		}
		vdso = (uint64_t)r;
	}
	/* ld.so's part: every library, in load order, each at a base chosen
	 * top-down (mmap of the whole span, then the segments over it) */
	for (int i = 1; i < nobjs; i++) {
		uint64_t lend;
		if (objs[i].mapped_already)
			continue;
		r = map_image(m, t, objs[i].path, &objs[i].img, 0, true, &lend, false, true);
		if (r < 0) {
			err = (int)r;
			goto out;
		}
	}
	err = setup_stack(m, t, top, path, argv, envp, img, bias, interp_base, vdso);
out:
	free(objs);
	free(img);
	return err;
}
