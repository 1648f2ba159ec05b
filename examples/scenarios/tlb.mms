# tlb.mms — the TLB: hits, misses, page walks, and what a small one costs.
#
# Seed 001 ("TLB", "寄存器cr3") and seed 004 ("多级页表", "大页"): every
# access translates a virtual page through the TLB; a miss walks the page
# tables, one memory reference per level (4 on x86-64). A working set that
# fits in the TLB hits almost always; one larger than the TLB's reach
# misses on every page, and the effective access time grows with the walks.
# This machine has a deliberately small data TLB (16 entries, 4-way) and no
# second level, so the effect shows with a few pages.
#
# Run: mmsim run examples/scenarios/tlb.mms

machine ram=64M dtlb=16:4 stlb=off
process app
param PAGES = 64

buf = mmap $PAGES*4K rw- private anon
write seq $buf $PAGES*4K

section a working set of 8 pages fits in 16 entries
let miss0 = tlb_misses
let acc0 = accesses
repeat 10 {
  read seq $buf 8*4K
}
# 80 accesses; the 8 pages were loaded by the writes above or miss once
expect tlb_misses - $miss0 <= 8
expect accesses - $acc0 == 80
echo 80 reads of 8 pages: $(tlb_misses - $miss0) TLB misses

section 64 pages do not fit: every access misses
let miss1 = tlb_misses
repeat 10 {
  read seq $buf $PAGES*4K
}
# (the first pass still finds pages 0-7 of the previous working set)
expect tlb_misses - $miss1 == 10*$PAGES - 8
# each miss walks 4 levels: 4 memory references
expect walk_refs >= 4*(tlb_misses - $miss1)
echo 640 reads of 64 pages: $(tlb_misses - $miss1) TLB misses
show tlb

section random accesses over the 64 pages: about 1 in 4 hits
let miss2 = tlb_misses
read random $buf $PAGES*4K count=1000 seed=42
expect tlb_misses - $miss2 > 600
expect tlb_misses - $miss2 < 850
echo 1000 random reads: $(tlb_misses - $miss2) misses

section Zipf: a few hot pages, mostly hits
let miss3 = tlb_misses
read zipf $buf $PAGES*4K count=1000 alpha=1.2 seed=42
expect tlb_misses - $miss3 < 400
echo 1000 Zipf(1.2) reads: $(tlb_misses - $miss3) misses
