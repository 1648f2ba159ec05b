/* touch.c — a tiny program to record with valgrind lackey (record-lackey.sh).
 *
 * It grows the heap with brk (through malloc), maps an anonymous region with
 * mmap, writes one byte per page of it, makes half of it read-only with
 * mprotect, reads it back, and unmaps it: every kind of access (I, L, S, M)
 * and every mapping call the trace readers know (brk, mmap, mprotect, munmap).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define PAGE  4096
#define PAGES 16

int main(void)
{
	volatile char *heap = malloc(100);
	char *map = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	long sum = 0;

	if (!heap || map == MAP_FAILED)
		return 1;
	heap[0] = 1;
	for (int i = 0; i < PAGES; i++)
		map[i * PAGE] = (char)i;          /* stores: demand-zero faults */
	for (int i = 0; i < PAGES; i++)
		map[i * PAGE + 1] += 1;           /* read-modify-write: M records */
	mprotect(map, PAGES / 2 * PAGE, PROT_READ);
	for (int i = 0; i < PAGES; i++)
		sum += map[i * PAGE];             /* loads */
	munmap(map, PAGES * PAGE);
	free((void *)heap);
	return sum == 0;
}
