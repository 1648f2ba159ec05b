# demo.mms — the whole story of the seeds on one small machine; `mmsim demo`
# runs it (it is built into the binary) and writes a report with plots.
#
# A process starts and its address space is laid out (seed 001 "进程内存布局",
# seed 002 "linux程序内存布局"); it grows its heap with brk and maps a large
# block with mmap (seed 000 "malloc的实现原理", seed 001 "brk()/mmap()");
# touching memory faults pages in on demand through the TLB and the page
# tables (seed 000 "缺页异常处理", seed 001 "MMU/TLB", seed 004 "多级页表");
# fork shares the pages copy-on-write (seed 000 "copy-on-write", seed 002
# "fork/cow"); processes share memory with shmget (seed 000 "shmget", seed
# 003 "共享内存") and map a file through the page cache (seed 004
# "内存映射"); when memory runs short kswapd and direct reclaim write
# anonymous pages to swap, chosen by the replacement policy, and read them
# back on the next touch (seed 004 "内存分配与回收", seed 000/002 "页面置换算法");
# and when memory and swap run out the OOM killer picks a victim. Each step
# prints the views that show it and checks it with expect.
#
# Run: mmsim demo [--out DIR]   or   mmsim run examples/scenarios/demo.mms

machine ram=32M swap=16M

section 1. A process starts: its address space
echo A new process gets the classic layout: text, data, bss, then the heap
echo (empty until brk moves), the mmap area below the stack, and the stack.
process shell text=64K data=16K bss=16K
show maps
expect status.VmRSS == 0

section 2. malloc's two sources: brk for small blocks, mmap for large ones
strace on
heap = brk
sbrk 64K
big = mmap 1M rw- private anon
strace off
show maps
echo Nothing is resident yet: VmRSS $(status.VmRSS) kB, minor faults $(minflt).
expect minflt == 0

section 3. Touching memory: demand paging and the TLB
write seq $heap 64K value=0x11
write seq $big 1M value=0x22
echo 16 heap pages and 256 mmap pages written: $(minflt) minor faults, one per page.
expect minflt == 16 + 256
expect meminfo.AnonPages == 64 + 1024
repeat 20 {
  read seq $big 64K
}
echo 20 more passes over 16 pages: still $(minflt) faults; $(tlb_hits) TLB hits, $(tlb_misses) misses
echo (each first touch missed twice: the walk that faulted and the one after the
echo fault; the passes hit, in the L1 dTLB or, after the 256 pages, in the STLB).
show tlb
echo A miss makes the MMU walk the page tables: four levels on x86-64 (five with
echo LA57; the notes' "three levels" is 32-bit PAE, or Linux before 2.6.11). Each
echo entry is a real 8-byte word in a frame of simulated RAM (PageTables in
echo meminfo): the next table's or the page's physical address and the flags P
echo present, RW writable, U user, A accessed, D dirty, and NX no-execute (bit 63).
show pagewalk $big
show free

section 4. fork: copy-on-write
fork worker
expect worker.minflt == 0
@worker expect read $big == 0x22
echo The child shares all $(meminfo.AnonPages) kB of anonymous memory: nothing was copied.
@worker write seq $big 256K value=0x33
echo The child wrote 64 pages: $(worker.cow_copies) copies, AnonPages now $(meminfo.AnonPages) kB.
expect worker.cow_copies == 64
expect read $big == 0x22
@worker expect read $big == 0x33
echo ps counts every mapped page in RSS, shared or not: both show 1088 kB. The
echo child is "shell" too: fork copies the command name ("worker" is only the
echo scenario's name for it). Its 64 minor faults are the copies.
show ps

section 5. Shared memory between processes
id = shmget 0x5eed 256K create
seg = shmat $id
@worker wseg = shmat $id
write $seg "written by the shell"
@worker expect read $wseg+11 == 't'
fill $seg+4K 252K 0x44
@worker expect read $wseg+128K == 0x44
echo One segment, two attachments, one copy in memory: Shmem $(meminfo.Shmem) kB.
expect meminfo.Shmem == 256
echo Unlike a file mapping, a System V segment is anonymous memory with no file on
echo disk: maps shows it as /SYSV plus its key, shared (rw-s), in both processes
echo (Linux always adds "(deleted)": the segment's internal file has no name).
show maps worker

section 6. Mapping a file: the page cache
tmpfile notes 128K fill='n'
f = mmap 128K r-- private file=notes
read seq $f 128K
echo The first reads came from the file: $(majflt) major faults.
expect majflt == 32
@worker g = mmap 128K r-- private file=notes
@worker read seq $g 128K
echo The worker found them cached: $(worker.majflt) major faults.
expect worker.majflt == 0
echo In meminfo, Cached holds the file's 128 kB and the 256 kB segment (shared
echo memory lives in the page cache, counted again in Shmem); Mapped counts the
echo cached pages some process maps; AnonPages the private anonymous memory.
show meminfo

section 7. Memory pressure: kswapd, swap and page replacement
echo A cruncher fills 30 MiB, a megabyte at a time, while the clock ticks.
echo Below the low watermark kswapd wakes and reclaims in the background; an
echo allocation that cannot wait reclaims directly. Anonymous pages go to swap,
echo picked by the LRU lists' replacement policy (Linux's active/inactive).
process cruncher
c = mmap 30M
let i = 0
repeat 30 {
  fill $c+$i*1M 1M 0xc1
  tick 10
  let i = $i + 1
}
echo kswapd woke $(reclaim.kswapd_wakeups) times; reclaim wrote $(swap.pswpout) pages to swap.
echo Pages scanned (pgscan) and reclaimed (pgsteal) by kswapd: $(reclaim.pgscan_kswapd) and
echo $(reclaim.pgsteal_kswapd); by direct reclaim in the faulting process: $(reclaim.pgscan_direct) and
echo $(reclaim.pgsteal_direct) ($(reclaim.allocstall) allocation stalls); anonymous $(reclaim.pgsteal_anon), file $(reclaim.pgsteal_file).
echo Most pages scanned had their accessed bit set (the MMU sets it on every touch),
echo so the policy gave them a second chance (the active list) instead of evicting
echo them; it evicts pages found idle on a later pass.
expect reclaim.kswapd_wakeups > 0
expect swap.pswpout > 0
show free
echo The pages that went to swap were the least recently used ones: the shell's
@shell echo and the worker's, untouched since section 4 (VmSwap: $(status.VmSwap) kB of the shell's,
@worker echo $(status.VmSwap) kB of the worker's; the pages they still share are counted in both).
@shell expect status.VmSwap > 0
let maj0 = shell.majflt
@shell read seq $big 1M
echo The shell reads its first megabyte again: $(shell.majflt - $maj0) major faults bring it back from swap.
expect shell.majflt > $maj0
@shell expect read $big+4K == 0x22
expect read $c+29M+4095 == 0xc1
exit cruncher
switch shell

section 8. Out of memory: the OOM killer
echo A hog asks for 48 MiB, more than RAM and swap together. When reclaim can
echo free nothing more, the OOM killer kills the process with the highest
echo badness (resident and swapped pages and page tables, adjusted by
echo oom_score_adj): the hog. The shell is protected (oom_score_adj -1000).
oom_score_adj -1000
process hog
h = mmap 16M
h2 = mmap 16M
h3 = mmap 16M
try write seq $h 16M value=0x55
try write seq $h2 16M value=0x55
echo With 32 MiB written the hog fills RAM and most of swap (VmRSS $(status.VmRSS) kB,
echo VmSwap $(status.VmSwap) kB). Each process's /proc/PID/oom_score (0..2000: badness
echo in thousandths of RAM + swap, plus 1000, times 2/3): hog $(hog.oom_score), worker $(worker.oom_score),
echo shell $(shell.oom_score) (its oom_score_adj of -1000 makes it 0).
try write seq $h3 16M value=0x55
expect $signal == SIGKILL
expect hog.killed == 1
expect worker.killed == 0
expect shell.killed == 0
show dmesg
echo The task table counts pages, the Killed line kB: the hog's rss of 4 kB pages
echo is its anon-rss, swapents its pages in swap. The shell (-1000) was never a
echo candidate; the worker's badness was far lower. The others' data is intact
echo (the checks below read it back).
@shell expect read $big == 0x22
@shell expect read $seg == 'w'
show ps
show free
exit worker
exit hog
check
