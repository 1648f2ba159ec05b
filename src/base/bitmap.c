/* Bitmaps: range updates, counts and searches a 64-bit word at a time.
 *
 * Every operation touches each word of the range once: a partial first word
 * and a partial last word through masks, full words in between with a plain
 * store, a popcount or a count-trailing-zeros. A scan of n bits therefore
 * costs O(n / 64) word operations, never a loop over single bits.
 *
 * mm_bitmap_find_next_zero_area is Linux's bitmap_find_next_zero_area
 * (lib/bitmap.c): find the next clear bit, round it up to the alignment, look
 * for a set bit inside the candidate window, and if there is one restart just
 * past it. Each restart moves past a set bit, so a search costs
 * O(n / 64 + number of set bits skipped).
 */
#include "mmkit/bitmap.h"

/* ---- word helpers ------------------------------------------------------- */

/* Mask of the bits at or above position `bit` (0..63) within a word. */
static inline uint64_t mask_from(size_t bit)
{
	return ~0ULL << (bit % MM_BITS_PER_WORD);
}

/* Mask of the bits below the end of a range ending at absolute index `end`
 * (exclusive), within the word that holds bit end - 1. */
static inline uint64_t mask_to(size_t end)
{
	size_t r = end % MM_BITS_PER_WORD;
	return r ? ~0ULL >> (MM_BITS_PER_WORD - r) : ~0ULL;
}

static inline size_t word_of(size_t bit)
{
	return bit / MM_BITS_PER_WORD;
}

/* ---- range updates ------------------------------------------------------ */

void mm_bitmap_set_range(uint64_t *map, size_t start, size_t len)
{
	if (len == 0)
		return;
	size_t end = start + len;
	size_t w = word_of(start), last = word_of(end - 1);
	uint64_t m = mask_from(start);
	if (w == last) {
		map[w] |= m & mask_to(end);
		return;
	}
	map[w++] |= m;
	while (w < last)
		map[w++] = ~0ULL;
	map[last] |= mask_to(end);
}

void mm_bitmap_clear_range(uint64_t *map, size_t start, size_t len)
{
	if (len == 0)
		return;
	size_t end = start + len;
	size_t w = word_of(start), last = word_of(end - 1);
	uint64_t m = mask_from(start);
	if (w == last) {
		map[w] &= ~(m & mask_to(end));
		return;
	}
	map[w++] &= ~m;
	while (w < last)
		map[w++] = 0;
	map[last] &= ~mask_to(end);
}

void mm_bitmap_zero(uint64_t *map, size_t nbits)
{
	mm_bitmap_clear_range(map, 0, nbits);
}

void mm_bitmap_fill(uint64_t *map, size_t nbits)
{
	mm_bitmap_set_range(map, 0, nbits);
}

/* ---- counting ----------------------------------------------------------- */

size_t mm_bitmap_weight(const uint64_t *map, size_t nbits)
{
	size_t full = nbits / MM_BITS_PER_WORD, n = 0;
	for (size_t w = 0; w < full; w++)
		n += (size_t)__builtin_popcountll(map[w]);
	if (nbits % MM_BITS_PER_WORD)
		n += (size_t)__builtin_popcountll(map[full] & mask_to(nbits));
	return n;
}

/* ---- searches ----------------------------------------------------------- */

/* First index in [start, nbits) whose bit differs from `invert`'s pattern:
 * invert = 0 finds a set bit, invert = ~0 finds a clear bit. nbits if none. */
static inline size_t find_next(const uint64_t *map, size_t nbits, size_t start, uint64_t invert)
{
	if (start >= nbits)
		return nbits;
	size_t w = word_of(start), last = word_of(nbits - 1);
	uint64_t word = (map[w] ^ invert) & mask_from(start);
	while (!word) {
		if (++w > last)
			return nbits;
		word = map[w] ^ invert;
	}
	size_t i = w * MM_BITS_PER_WORD + (size_t)__builtin_ctzll(word);
	return i < nbits ? i : nbits;
}

size_t mm_bitmap_find_next_bit(const uint64_t *map, size_t nbits, size_t start)
{
	return find_next(map, nbits, start, 0);
}

size_t mm_bitmap_find_next_zero_bit(const uint64_t *map, size_t nbits, size_t start)
{
	return find_next(map, nbits, start, ~0ULL);
}

/* True if every bit of [start, start + len) equals the pattern (0 = clear,
 * ~0 = set). */
static bool range_is(const uint64_t *map, size_t start, size_t len, uint64_t pattern)
{
	if (len == 0)
		return true;
	size_t end = start + len;
	size_t w = word_of(start), last = word_of(end - 1);
	uint64_t m = mask_from(start);
	if (w == last)
		return ((map[w] ^ pattern) & m & mask_to(end)) == 0;
	if ((map[w++] ^ pattern) & m)
		return false;
	for (; w < last; w++)
		if (map[w] != pattern)
			return false;
	return ((map[last] ^ pattern) & mask_to(end)) == 0;
}

bool mm_bitmap_range_is_clear(const uint64_t *map, size_t start, size_t len)
{
	return range_is(map, start, len, 0);
}

bool mm_bitmap_range_is_set(const uint64_t *map, size_t start, size_t len)
{
	return range_is(map, start, len, ~0ULL);
}

size_t mm_bitmap_find_next_zero_area(const uint64_t *map, size_t nbits, size_t start,
				     size_t len, size_t align)
{
	size_t mask = align ? align - 1 : 0;
	if (len > nbits)
		return nbits;
	for (;;) {
		size_t i = len ? mm_bitmap_find_next_zero_bit(map, nbits, start) : start;
		if (i >= nbits || i > SIZE_MAX - mask)
			return nbits;
		i = (i + mask) & ~mask;
		if (i >= nbits || nbits - i < len)
			return nbits;
		size_t end = i + len;
		size_t busy = mm_bitmap_find_next_bit(map, end, i);
		if (busy >= end)
			return i;
		start = busy + 1;
	}
}
