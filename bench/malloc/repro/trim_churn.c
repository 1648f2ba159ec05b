/* Free a 6.5 MB batch of 4 KiB blocks, allocate it again: 1000 times. */
#include <stdio.h>
#include <stdlib.h>
int main(void)
{
	static void *p[1600];
	for (int r = 0; r < 1000; r++) {
		for (int i = 0; i < 1600; i++) { p[i] = malloc(4096); *(volatile char *)p[i] = 1; }
		for (int i = 0; i < 1600; i++) free(p[i]);
	}
	puts("done");
	return 0;
}
