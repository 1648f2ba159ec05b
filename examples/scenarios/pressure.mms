# pressure.mms — memory pressure: kswapd, direct reclaim, swap.
#
# Seed 004 ("内存分配与回收") and seed 002 ("页面置换算法"), seed 000 ("页面置换
# 算法"): when free memory falls below the low watermark, kswapd wakes in the
# background and reclaims until the high watermark; an allocation that finds
# memory below the min watermark reclaims by itself (direct reclaim). Clean
# file pages go first, then anonymous pages are written to swap, chosen by
# the replacement policy of the LRU lists (Linux's active/inactive lists
# here). Touching a swapped-out page is a major fault that reads it back.
# Nothing written is ever lost.
#
# Run: mmsim run examples/scenarios/pressure.mms
# golden: optimized builds only (the amounts reclaimed depend on the free
# memory, which debug builds' slab checks change)

machine ram=32M swap=32M
process cruncher
a = mmap 16M
b = mmap 16M

section filling memory a megabyte at a time, the clock ticking
let i = 0
repeat 16 {
  fill $a+$i*1M 1M 0xa1
  tick 10
  let i = $i + 1
}
expect swap.pswpout == 0
let i = 0
repeat 16 {
  fill $b+$i*1M 1M 0xb2
  tick 10
  let i = $i + 1
}
echo kswapd woke $(reclaim.kswapd_wakeups) times and freed $(reclaim.pgsteal_kswapd) pages;
echo direct reclaim (allocstall $(reclaim.allocstall)) freed $(reclaim.pgsteal_direct).
echo $(swap.pswpout) pages went to swap; $(swap.used) swap slots are in use.
expect reclaim.kswapd_wakeups > 0
expect reclaim.pgsteal_kswapd > 0
expect swap.pswpout > 0
expect reclaim.pgsteal_anon == swap.pswpout
expect meminfo.SwapFree < meminfo.SwapTotal
show free

section reading the first pages back: major faults from swap
let maj0 = majflt
read seq $a 4M
expect read $a == 0xa1
expect read $a+4M-1 == 0xa1
expect majflt > $maj0
expect swap.pswpin > 0
echo $(majflt - $maj0) major faults read $(swap.pswpin) pages back from swap

section every byte is intact
expect read $a+8M == 0xa1
expect read $b+15M == 0xb2
read seq $a 16M
read seq $b 16M
expect read $a+12M+5 == 0xa1
expect read $b+3M+7 == 0xb2
check
