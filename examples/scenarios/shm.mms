# shm.mms — System V shared memory and shared anonymous mappings.
#
# Seed 000 ("shmget") and seed 003 ("7、共享内存"): shmget creates a segment
# of shared memory, shmat maps it into a process; every process attached
# to it reads what the others write, through the same frames (Shmem in
# meminfo). A segment outlives its attachments until it is removed
# (IPC_RMID), and removal waits for the last detach. MAP_SHARED|MAP_ANONYMOUS
# memory is shared the same way between a parent and the children it forks.
#
# Run: mmsim run examples/scenarios/shm.mms

machine ram=64M
process writer
process reader
switch writer
strace on

section one segment, two processes
id = shmget 0x1234 64K create
w = shmat $id
@reader id2 = shmget 0x1234 64K
expect $id2 == $id
@reader r = shmat $id rdonly
write $w "hello from the writer"
@reader expect read $r == 'h'
@reader expect read $r+6 == 'f'
fill $w+4K 60K 7
expect meminfo.Shmem == 64
@reader expect read $r+32K == 7
@reader show maps

section the reader attached read-only: writes fault
@reader try write $r 1
@reader expect $signal == SIGSEGV
@reader expect $si_code == SEGV_ACCERR

section IPC_RMID waits for the last detach
shmrm $id
shmdt $w
@reader expect read $r == 'h'
expect meminfo.Shmem == 64
@reader shmdt $r
expect meminfo.Shmem == 0

section MAP_SHARED|MAP_ANONYMOUS across fork
sh = mmap 16K rw- shared anon
fork child
@child write $sh+100 0x77
expect read $sh+100 == 0x77
@child expect cow_copies == 0
exit child
check
