# fork-cow.mms — fork copies page tables, not data: copy-on-write.
#
# Seed 000 ("copy-on-write写时复制") and seed 002 ("fork", "cow"): fork gives
# the child a copy of the parent's VMAs and page tables; every private
# writable page becomes read-only in both, shared by the two. The first
# write by either side faults, and the kernel copies the page for the
# writer (a COW copy). When only one process still maps a page, the write
# fault just makes it writable again (a reuse, no copy).
#
# Run: mmsim run examples/scenarios/fork-cow.mms

machine ram=64M
process parent
param PAGES = 8

buf = mmap $PAGES*4K rw- private anon
fill $buf $PAGES*4K 'P'
expect meminfo.AnonPages == $PAGES*4
let anon0 = meminfo.AnonPages

section fork: the child shares every page
strace on
fork child
strace off
expect meminfo.AnonPages == $anon0
@child expect read $buf == 'P'
@child expect minflt == 0
show ps

section the child writes one page: one copy
@child write $buf 'C'
@child expect cow_copies == 1
expect meminfo.AnonPages == $anon0 + 4
@child expect read $buf == 'C'
expect read $buf == 'P'
echo child wrote page 0: $(meminfo.AnonPages) kB anonymous (one page more)

section the parent writes the same page: it is its own now, reused
write $buf 'p'
expect cow_reuses == 1
expect cow_copies == 0
expect meminfo.AnonPages == $anon0 + 4
expect read $buf == 'p'
@child expect read $buf == 'C'

section the parent writes the other pages: copies while the child maps them
write seq $buf+4K ($PAGES-1)*4K value='q'
expect cow_copies == $PAGES - 1
expect meminfo.AnonPages == $anon0 + $PAGES*4
@child expect read $buf+4K == 'P'
show ps

section the child exits: its pages go
exit child
expect meminfo.AnonPages == $anon0
expect read $buf+4K == 'q'
check
