# demand-paging.mms — memory is given on first touch, one page at a time.
#
# Seed 000 ("缺页异常处理", page-fault handling) and seed 003 ("5、缺页异常"):
# mmap only reserves a range of virtual addresses (a VMA); no frame is taken
# until the process touches a page. The MMU finds no present entry, raises a
# page fault, and the kernel checks the address against the VMAs and maps a
# frame: a minor fault. A read of a page never written maps the shared zero
# page (no frame spent); the first write gets a zeroed frame of its own.
#
# Run: mmsim run examples/scenarios/demand-paging.mms

machine ram=64M
process app
param PAGES = 16

section mmap reserves addresses, not memory
strace on
buf = mmap $PAGES*4K rw- private anon
strace off
let free0 = meminfo.MemFree
expect minflt == 0
expect meminfo.AnonPages == 0
echo after mmap: $(minflt) faults, AnonPages $(meminfo.AnonPages) kB

section reading: the zero page
read seq $buf $PAGES*4K
expect minflt == $PAGES
expect zero_maps == $PAGES
expect meminfo.AnonPages == 0
expect read $buf+100 == 0
echo read $PAGES pages: $(minflt) minor faults, $(zero_maps) zero-page mappings, AnonPages $(meminfo.AnonPages) kB

section writing: a frame per page
write seq $buf $PAGES*4K value=0x5a
# every write replaced a zero-page mapping: one more minor fault per page
expect minflt == 2*$PAGES
expect meminfo.AnonPages == $PAGES*4
expect read $buf+4096*3 == 0x5a
# page-table pages were allocated on the way to the first PTE
expect meminfo.PageTables > 0
expect $free0 - meminfo.MemFree >= $PAGES*4
expect status.VmRSS == $PAGES*4
echo wrote $PAGES pages: $(minflt) minor faults, AnonPages $(meminfo.AnonPages) kB
show ps
show pagewalk $buf

section touching again costs no fault
read seq $buf $PAGES*4K
expect minflt == 2*$PAGES
echo still $(minflt) faults after $(accesses) accesses

section a hole: SIGSEGV
try read $buf + $PAGES*4K
expect $signal == SIGSEGV
expect $si_code == SEGV_MAPERR
expect $si_addr == $buf + $PAGES*4K
echo the byte after the mapping: signal $signal, si_code $si_code (SEGV_MAPERR), address $si_addr

section madvise(MADV_DONTNEED) gives the frames back
madvise $buf $PAGES*4K dontneed
expect meminfo.AnonPages == 0
expect read $buf == 0
echo after MADV_DONTNEED: AnonPages $(meminfo.AnonPages) kB, the data reads as zero again
check
