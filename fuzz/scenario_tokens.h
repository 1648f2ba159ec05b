/* Tokens the corpus replay (fuzz/replay.c, built with
 * REPLAY_TOKENS="scenario_tokens.h") mixes into generated scenarios. */
static const char *const tokens[] = {
	"machine ", "ram=", "paging=", "2", "4", "5", "dtlb=", "stlb=off", "pcid=off", "nr_hugepages=",
	"process ", "spawn ", "switch ", "fork ", "exec ", "exit", "mmap ", "munmap ", "mprotect ",
	"brk", "sbrk ", "madvise ", "dontneed", "msync ", "shmget ", "private ", "create", "shmat ",
	"shmdt ", "shmrm ", "drop_caches", "tmpfile ", "read ", "write ", "fetch ", "fill ",
	"seq ", "random ", "zipf ", "count=", "step=", "size=", "seed=", "alpha=0.9", "value=",
	"repeat ", " {", "}", "tick", "show ", "maps", "smaps", "meminfo", "free", "pagewalk ",
	"tlb", "counters", "ps", "status", "expect ", " == ", " != ", " <= ", " > ", "check",
	"let ", "param ", " = ", "echo ", "$(", ")", "section ", "strace on", "include ", "try ",
	"@", "a", "b", "c", "$a", "$b", "$errno", "$signal", "minflt", "meminfo.AnonPages",
	"status.VmRSS", "machine.accesses", "tlb.invlpg", "read ", "read64 ", "rw-", "r--", "---",
	"rwx", "shared", "anon", "fixed", "populate", "hugetlb", "addr=", "offset=", "file=",
	"0x1000", "4K", "64K", "1M", "1G", "'A'", "\"str\\x41\"", "-", "+", "*", "/", "%", "(",
	"0", "1", "7", "4096", "0xffffffffffffffff", "9223372036854775807", "\n", "\n", "\n",
	" ", " ", "\t", "#", "\r\n", "\x01", "\xff", "\0",
};
