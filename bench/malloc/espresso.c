/* espresso: small-object churn from set operations on cube lists, after the
 * idea of the espresso benchmark (a logic minimizer that builds and discards
 * huge numbers of small "cubes" and cover lists).
 *
 * A cube over V binary variables is a heap-allocated bit vector with two bits
 * per variable (01 = the variable is 0, 10 = it is 1, 11 = don't care); a
 * cover is a singly linked list of cubes, one malloc'd node per element.
 * Each round builds two random covers, intersects them pairwise (a new cube
 * for every non-empty intersection), removes cubes contained in others
 * (single-cube containment), takes cofactors with respect to a few literals,
 * and merges the results, freeing every intermediate list. The number of
 * variables changes from round to round so cube sizes vary (8..48 bytes).
 * The output (cube counts and a checksum) is deterministic.
 *
 * usage: mb-espresso [rounds=6000]
 */
#include "mb.h"

typedef struct cube_node {
	struct cube_node *next;
	uint32_t *bits;           /* words() words, two bits per variable */
} cube_node;

static int nvars;             /* variables in this round */

static int words(void)
{
	return (2 * nvars + 31) / 32;
}

static uint32_t *cube_new(void)
{
	return mb_xmalloc((size_t)words() * sizeof(uint32_t));
}

static cube_node *push(cube_node *list, uint32_t *bits)
{
	cube_node *n = mb_xmalloc(sizeof(*n));
	n->next = list;
	n->bits = bits;
	return n;
}

static void cover_free(cube_node *l)
{
	while (l != NULL) {
		cube_node *next = l->next;
		free(l->bits);
		free(l);
		l = next;
	}
}

static size_t cover_len(const cube_node *l)
{
	size_t n = 0;
	for (; l != NULL; l = l->next)
		n++;
	return n;
}

/* A random cube: each variable is 0, 1 or don't care. */
static uint32_t *cube_random(uint64_t *s)
{
	uint32_t *c = cube_new();
	memset(c, 0, (size_t)words() * sizeof(uint32_t));
	for (int v = 0; v < nvars; v++) {
		unsigned r = (unsigned)mb_range(s, 0, 5);
		uint32_t code = r < 2 ? 1 : r < 4 ? 2 : 3;   /* one third don't care */
		c[(2 * v) / 32] |= code << ((2 * v) % 32);
	}
	return c;
}

/* An empty intersection has some variable with code 00. */
static int cube_empty(const uint32_t *c)
{
	for (int v = 0; v < nvars; v++)
		if (((c[(2 * v) / 32] >> ((2 * v) % 32)) & 3) == 0)
			return 1;
	return 0;
}

static int cube_contains(const uint32_t *big, const uint32_t *small)
{
	for (int w = 0; w < words(); w++)
		if ((big[w] & small[w]) != small[w])
			return 0;
	return 1;
}

static cube_node *cover_random(uint64_t *s, int n)
{
	cube_node *l = NULL;
	for (int i = 0; i < n; i++)
		l = push(l, cube_random(s));
	return l;
}

static cube_node *cover_intersect(const cube_node *a, const cube_node *b)
{
	cube_node *r = NULL;
	uint32_t *tmp = cube_new();
	for (; a != NULL; a = a->next)
		for (const cube_node *y = b; y != NULL; y = y->next) {
			for (int w = 0; w < words(); w++)
				tmp[w] = a->bits[w] & y->bits[w];
			if (!cube_empty(tmp)) {
				r = push(r, tmp);
				tmp = cube_new();
			}
		}
	free(tmp);
	return r;
}

/* Single-cube containment: drop every cube contained in another one
 * (of two equal cubes, the later one goes). Returns a new list; frees l. */
static cube_node *cover_scc(cube_node *l)
{
	cube_node *keep = NULL;
	size_t i = 0;
	for (cube_node *x = l; x != NULL; x = x->next, i++) {
		int dominated = 0;
		size_t j = 0;
		for (cube_node *y = l; y != NULL && !dominated; y = y->next, j++)
			if (j != i && cube_contains(y->bits, x->bits) &&
			    (!cube_contains(x->bits, y->bits) || j < i))
				dominated = 1;
		if (!dominated) {
			uint32_t *c = cube_new();
			memcpy(c, x->bits, (size_t)words() * sizeof(uint32_t));
			keep = push(keep, c);
		}
	}
	cover_free(l);
	return keep;
}

/* Cofactor with respect to variable v taking value val (0 or 1). */
static cube_node *cover_cofactor(const cube_node *l, int v, int val)
{
	cube_node *r = NULL;
	uint32_t want = val ? 2 : 1;
	for (; l != NULL; l = l->next) {
		uint32_t code = (l->bits[(2 * v) / 32] >> ((2 * v) % 32)) & 3;
		if ((code & want) == 0)
			continue;
		uint32_t *c = cube_new();
		memcpy(c, l->bits, (size_t)words() * sizeof(uint32_t));
		c[(2 * v) / 32] |= 3u << ((2 * v) % 32);
		r = push(r, c);
	}
	return r;
}

static uint64_t cover_hash(const cube_node *l)
{
	uint64_t h = 0;
	for (; l != NULL; l = l->next)
		for (int w = 0; w < words(); w++)
			h += (uint64_t)l->bits[w] * 0x9e3779b97f4a7c15ull;   /* order-free */
	return h;
}

int main(int argc, char **argv)
{
	int rounds = (int)mb_arg(argc, argv, 1, 6000);
	uint64_t s = 2024, sum = 0;
	size_t total_cubes = 0;

	double t0 = mb_now();
	for (int r = 0; r < rounds; r++) {
		nvars = 12 + (r % 5) * 40;   /* 12 .. 172 variables: 4..44 bytes */
		cube_node *f = cover_random(&s, 60), *g = cover_random(&s, 60);
		cube_node *h = cover_scc(cover_intersect(f, g));
		cube_node *merged = NULL;
		for (int v = 0; v < 4; v++) {
			cube_node *c0 = cover_cofactor(h, v, 0), *c1 = cover_cofactor(h, v, 1);
			sum += cover_hash(c0) ^ (cover_hash(c1) << 1);
			/* merge: move c0's and c1's nodes onto merged */
			for (cube_node *l = c0; l != NULL;) {
				cube_node *next = l->next;
				l->next = merged;
				merged = l;
				l = next;
			}
			for (cube_node *l = c1; l != NULL;) {
				cube_node *next = l->next;
				l->next = merged;
				merged = l;
				l = next;
			}
		}
		merged = cover_scc(merged);
		total_cubes += cover_len(h) + cover_len(merged);
		sum += cover_hash(merged);
		cover_free(f);
		cover_free(g);
		cover_free(h);
		cover_free(merged);
	}
	double t1 = mb_now();
	printf("cubes kept: %zu\n", total_cubes);
	mb_done("espresso", t1 - t0, sum);
	return 0;
}
