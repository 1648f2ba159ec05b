# oom.mms — when memory runs out: the OOM killer.
#
# Seed 004 ("内存分配与回收") and seed 001 ("如果物理页不够了怎么办？"): when a
# page fault finds no free frame and nothing can be reclaimed, the kernel's
# last resort is the OOM killer. It picks the process with the highest
# badness — its resident pages, swap entries and page tables, adjusted by
# /proc/PID/oom_score_adj (-1000 exempts a process, +1000 volunteers it) —
# kills it, frees its memory and retries the fault. The kernel log says who
# died and how much it held. This machine has no swap, so anonymous memory
# cannot be reclaimed at all.
#
# Run: mmsim run examples/scenarios/oom.mms

machine ram=32M
process sshd
oom_score_adj -1000
s = mmap 2M
fill $s 2M 1

process hog
h = mmap 28M
process victim
v = mmap 8M
fill $v 8M 2
oom_score_adj 500
expect oom_score_adj == 500
expect hog.oom_score < oom_score
expect sshd.oom_score == 0

section the hog fills memory: the OOM killer takes the victim
@hog try write seq $h 28M value=3
# the victim (oom_score_adj 500) had the highest badness: killed, its 8 MiB
# freed, and the hog's fault retried: the hog got all it asked for
@hog expect $errno == 0
expect killed == 1
expect $v != 0
@hog expect killed == 0
@sshd expect killed == 0
show dmesg
show ps

section the hog asks for more: now it is the one
switch hog
more = mmap 8M
try write seq $more 8M value=4
# nothing else may die (sshd is exempt with -1000): the hog itself is killed
expect $errno == ESRCH
expect $signal == SIGKILL
expect killed == 1
@sshd expect killed == 0
@sshd expect read $s+1M == 1
expect machine.minflt > 0
show ps
# a killed process is a zombie until it is reaped
exit hog
exit victim
check
