/* mmkit/bitmap.h — bitmaps as arrays of 64-bit words (Linux's bitmap.h).
 *
 * Bit i lives in word i / 64 at position i % 64. The range operations and
 * searches work a word at a time (ctz/popcount), so a scan over n bits costs
 * O(n / 64). Callers own the storage: MM_BITMAP_WORDS(n) words for n bits.
 * Bits past `nbits` in the last word are ignored by searches and counts.
 */
#ifndef MMKIT_BITMAP_H
#define MMKIT_BITMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MM_BITS_PER_WORD 64
#define MM_BITMAP_WORDS(nbits) (((nbits) + MM_BITS_PER_WORD - 1) / MM_BITS_PER_WORD)

static inline void mm_bit_set(uint64_t *map, size_t i)
{
	map[i / 64] |= 1ULL << (i % 64);
}

static inline void mm_bit_clear(uint64_t *map, size_t i)
{
	map[i / 64] &= ~(1ULL << (i % 64));
}

static inline bool mm_bit_test(const uint64_t *map, size_t i)
{
	return (map[i / 64] >> (i % 64)) & 1;
}

/* Set bit i and return its old value. */
static inline bool mm_bit_test_and_set(uint64_t *map, size_t i)
{
	bool old = mm_bit_test(map, i);
	mm_bit_set(map, i);
	return old;
}

/* Clear bit i and return its old value. */
static inline bool mm_bit_test_and_clear(uint64_t *map, size_t i)
{
	bool old = mm_bit_test(map, i);
	mm_bit_clear(map, i);
	return old;
}

/* Set / clear bits [start, start + len). */
void mm_bitmap_set_range(uint64_t *map, size_t start, size_t len);
void mm_bitmap_clear_range(uint64_t *map, size_t start, size_t len);

/* Clear all of the first nbits bits / set them all. */
void mm_bitmap_zero(uint64_t *map, size_t nbits);
void mm_bitmap_fill(uint64_t *map, size_t nbits);

/* Number of set bits among the first nbits. */
size_t mm_bitmap_weight(const uint64_t *map, size_t nbits);

/* Index of the first set / clear bit at or after `start`, or nbits if none. */
size_t mm_bitmap_find_next_bit(const uint64_t *map, size_t nbits, size_t start);
size_t mm_bitmap_find_next_zero_bit(const uint64_t *map, size_t nbits, size_t start);

/* True if every bit in [start, start + len) is clear / set. */
bool mm_bitmap_range_is_clear(const uint64_t *map, size_t start, size_t len);
bool mm_bitmap_range_is_set(const uint64_t *map, size_t start, size_t len);

/* First index i >= start with bits [i, i + len) all clear and i a multiple of
 * align (a power of two; 0 counts as 1), searching within nbits (i + len <=
 * nbits); nbits if there is none. len 0 gives the first multiple of align at
 * or after start, if below nbits. (Linux's bitmap_find_next_zero_area.)
 * Cost: O(nbits / 64) word operations plus one restart per set bit that
 * interrupts a candidate window. */
size_t mm_bitmap_find_next_zero_area(const uint64_t *map, size_t nbits, size_t start,
				     size_t len, size_t align);

#endif /* MMKIT_BITMAP_H */
