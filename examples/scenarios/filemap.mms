# filemap.mms — mapping a file: the page cache, private copies, writeback.
#
# Seed 004 ("内存映射") and seed 000 ("mmap"): a file mapping is filled from
# the page cache; the first touch of a page not yet cached reads it from the
# file (a major fault), later touches by any process find it cached (a minor
# fault). MAP_SHARED writes reach the file on msync, munmap or exit;
# MAP_PRIVATE writes copy the page into anonymous memory and never reach
# the file.
#
# Run: mmsim run examples/scenarios/filemap.mms

machine ram=64M
# a 32 KiB host file of 'a' bytes, removed at the end of the run
tmpfile data 32K fill='a'
process app

section a shared mapping: the first touch reads the file
strace on
f = mmap 32K rw- shared file=data
strace off
expect read $f == 'a'
expect majflt == 1
read seq $f 32K
expect majflt == 8
expect meminfo.Cached >= 32
echo 8 pages read from the file: $(majflt) major faults, Cached $(meminfo.Cached) kB

section a second process finds the pages cached
process other
p = mmap 32K r-- private file=data
read seq $p 32K
expect majflt == 0
expect minflt == 8
echo the other process: $(majflt) major faults, $(minflt) minor faults

section writes: shared reaches the file, private does not
switch app
write $f "SHARED"
msync $f 4K sync
@other expect read $p == 'S'
@other expect read $p+1 == 'H'
q = mmap 32K rw- private file=data
write $q+4K "private"
expect cow_copies == 1
@other expect read $p+4K == 'a'
expect read $q == 'S'
show maps
check
