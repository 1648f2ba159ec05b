# paging32.mms — classic 32-bit paging: two levels, 10/10/12.
#
# Seed 000 ("linux是几级页表？") and seed 003 ("5、内存地址——分页机制（32 位）"):
# a 32-bit x86 without PAE splits a virtual address into a 10-bit page
# directory index, a 10-bit page table index and a 12-bit offset; entries
# are 4 bytes, 1024 to a table, and the user space is the low 3 GiB (the
# kernel owns the top 1 GiB). x86-64 uses 4 levels of 9 bits (5 with LA57).
#
# Run: mmsim run examples/scenarios/paging32.mms

machine ram=64M paging=2
process app
buf = mmap 8M rw- private anon
echo the mapping starts at $buf, below the 3 GiB user limit
expect $buf + 8M <= 0xc0000000

section one write, one page table, two levels walked
# the page directory (the root, CR3) exists since the process started
let pt0 = meminfo.PageTables
write $buf 1
expect meminfo.PageTables == $pt0 + 4
show pagewalk $buf
# the first walk stops at the empty directory entry (1 reference); after
# the fault the walk reads both levels (2)
expect walk_refs == 3
show maps

section 4 MiB later: another page-directory entry, another table
write $buf + 4M 2
expect meminfo.PageTables == $pt0 + 8
expect minflt == 2
echo each page table covers 1024 pages x 4 KiB = 4 MiB

section the kernel half is out of reach
try read 0xc0000000
expect $signal == SIGSEGV
check
