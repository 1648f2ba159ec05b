# brk-mmap.mms — where the heap and the mappings live.
#
# Seed 001 ("brk()", "mmap()") and seed 000 ("malloc的实现原理"): malloc
# takes small blocks from the heap, grown by moving the program break
# (brk), and asks mmap for blocks of 128 KiB and more (glibc's
# M_MMAP_THRESHOLD). The heap starts right after the bss and grows up;
# mmap areas are placed top-down below the stack. Nothing is resident until
# it is touched.
#
# Run: mmsim run examples/scenarios/brk-mmap.mms

machine ram=64M
process app text=32K data=8K bss=8K
strace on

section the heap: brk moves the program break
heap = brk
expect $heap > 0x400000
old = sbrk 64K
expect $old == $heap
top = brk
expect $top == $heap + 64K
write $heap 1
write $top - 1 2
expect meminfo.AnonPages == 8
show maps

section shrinking the heap frees its pages
brk $heap + 4K
expect meminfo.AnonPages == 4
try read $heap + 8K
expect $signal == SIGSEGV

section a large block: its own mapping below the stack
big = mmap 256K rw- private anon
expect $big > $top
write $big+255K 'x'
expect minflt == 3
small = mmap 4K
expect $small == $big - 4K
show maps
munmap $big 256K
try read $big
expect $signal == SIGSEGV
check
