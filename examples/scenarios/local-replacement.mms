# local-replacement.mms — local page replacement: each process within its
# own frames.
#
# Seed 000 ("页面置换算法") asks whether replacement should be global (any
# frame of any process may be taken, Linux's way) or local (a process that
# needs a frame gives up one of its own). Here every process may hold 256
# frames (1 MiB); a process past its limit swaps out its own pages, even
# with plenty of free memory, and leaves the others alone.
#
# Run: mmsim run examples/scenarios/local-replacement.mms

machine ram=64M swap=16M local=on frame_limit=256
process quiet
q = mmap 512K
fill $q 512K 0x51
expect frames == 128

process greedy
g = mmap 2M
fill $g 2M 0x47

section the greedy process stays within 256 frames
echo greedy touched 512 pages and holds $(frames) frames; $(reclaim.local_reclaims) of its own were replaced
expect frames == 256
expect reclaim.local_reclaims == 256
expect swap.pswpout == 256
expect meminfo.MemFree > 32*1024
expect quiet.frames == 128

section its data is intact: the replaced pages come back from swap
let maj0 = majflt
expect read $g == 0x47
expect majflt == $maj0 + 1
expect read $g+2M-1 == 0x47
expect frames <= 256

section the quiet process kept all of its pages
@quiet read seq $q 512K
expect quiet.majflt == 0
@quiet expect read $q+100 == 0x51
check
