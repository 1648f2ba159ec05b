/* cfrac: small-object churn from bignum arithmetic, after the idea of the
 * cfrac benchmark (a factoring program whose every arithmetic step allocates
 * a fresh small bignum and frees the operands it no longer needs).
 *
 * Here the numbers are immutable: every add, subtract, multiply and division
 * by a word returns a newly malloc'd number of 1..~60 32-bit limbs, and the
 * caller frees the inputs it is done with. The work:
 *   - pi to D digits with Machin's formula (arctan series, divisions by words),
 *   - e to D digits from the series of 1/k!,
 *   - Fibonacci numbers by fast doubling (full multiplications),
 * with D cycling through 50..450 so object sizes vary. The output is fully
 * deterministic (it prints the leading digits of pi and e), so the program
 * doubles as a correctness check under LD_PRELOAD.
 *
 * usage: mb-cfrac [rounds=6000]
 */
#include "mb.h"

typedef struct big {
	int n;            /* limbs in use, >= 1; d[n-1] != 0 unless the value is 0 */
	uint32_t d[];     /* little-endian base-2^32 digits */
} big;

/* ---- Construction ---- */

static big *big_alloc(int n)
{
	big *b = mb_xmalloc(sizeof(big) + (size_t)n * sizeof(uint32_t));
	b->n = n;
	return b;
}

static big *big_trim(big *b)
{
	while (b->n > 1 && b->d[b->n - 1] == 0)
		b->n--;
	return b;
}

static big *big_from(uint64_t v)
{
	big *b = big_alloc(2);
	b->d[0] = (uint32_t)v;
	b->d[1] = (uint32_t)(v >> 32);
	return big_trim(b);
}

static big *big_copy(const big *a)
{
	big *r = big_alloc(a->n);
	memcpy(r->d, a->d, (size_t)a->n * sizeof(uint32_t));
	return r;
}

static int big_is_zero(const big *a)
{
	return a->n == 1 && a->d[0] == 0;
}

/* ---- Arithmetic: each returns a new number ---- */

static big *big_add(const big *a, const big *b)
{
	if (a->n < b->n) {
		const big *t = a;
		a = b;
		b = t;
	}
	big *r = big_alloc(a->n + 1);
	uint64_t c = 0;
	for (int i = 0; i < a->n; i++) {
		c += (uint64_t)a->d[i] + (i < b->n ? b->d[i] : 0);
		r->d[i] = (uint32_t)c;
		c >>= 32;
	}
	r->d[a->n] = (uint32_t)c;
	return big_trim(r);
}

/* a - b, requires a >= b */
static big *big_sub(const big *a, const big *b)
{
	big *r = big_alloc(a->n);
	int64_t borrow = 0;
	for (int i = 0; i < a->n; i++) {
		int64_t v = (int64_t)a->d[i] - (i < b->n ? b->d[i] : 0) - borrow;
		borrow = v < 0;
		r->d[i] = (uint32_t)(v + (borrow ? ((int64_t)1 << 32) : 0));
	}
	return big_trim(r);
}

static big *big_mul(const big *a, const big *b)
{
	big *r = big_alloc(a->n + b->n);
	memset(r->d, 0, (size_t)r->n * sizeof(uint32_t));
	for (int i = 0; i < a->n; i++) {
		uint64_t c = 0;
		for (int j = 0; j < b->n; j++) {
			c += (uint64_t)a->d[i] * b->d[j] + r->d[i + j];
			r->d[i + j] = (uint32_t)c;
			c >>= 32;
		}
		r->d[i + b->n] = (uint32_t)c;
	}
	return big_trim(r);
}

static big *big_mul_word(const big *a, uint32_t w)
{
	big *r = big_alloc(a->n + 1);
	uint64_t c = 0;
	for (int i = 0; i < a->n; i++) {
		c += (uint64_t)a->d[i] * w;
		r->d[i] = (uint32_t)c;
		c >>= 32;
	}
	r->d[a->n] = (uint32_t)c;
	return big_trim(r);
}

static big *big_div_word(const big *a, uint32_t w, uint32_t *rem)
{
	big *r = big_alloc(a->n);
	uint64_t c = 0;
	for (int i = a->n - 1; i >= 0; i--) {
		c = (c << 32) | a->d[i];
		r->d[i] = (uint32_t)(c / w);
		c %= w;
	}
	if (rem != NULL)
		*rem = (uint32_t)c;
	return big_trim(r);
}

static big *big_pow10(int digits)
{
	big *r = big_from(1);
	for (int i = 0; i < digits; i++) {
		big *t = big_mul_word(r, 10);
		free(r);
		r = t;
	}
	return r;
}

/* The decimal digits of a (most significant first) into buf; returns length. */
static size_t big_to_dec(const big *a, char *buf, size_t cap)
{
	size_t n = 0;
	big *x = big_copy(a);
	do {
		uint32_t rem;
		big *q = big_div_word(x, 10, &rem);
		free(x);
		x = q;
		if (n < cap)
			buf[n++] = (char)('0' + rem);
	} while (!big_is_zero(x));
	free(x);
	for (size_t i = 0; i < n / 2; i++) {
		char t = buf[i];
		buf[i] = buf[n - 1 - i];
		buf[n - 1 - i] = t;
	}
	return n;
}

/* ---- The work ---- */

/* arctan(1/x) * 10^digits */
static big *arctan_inv(uint32_t x, int digits)
{
	big *term = big_pow10(digits);
	big *t = big_div_word(term, x, NULL);
	free(term);
	term = t;
	big *sum = big_copy(term);
	for (uint32_t k = 1; !big_is_zero(term); k++) {
		t = big_div_word(term, x * x, NULL);
		free(term);
		term = t;
		big *q = big_div_word(term, 2 * k + 1, NULL);
		big *s = (k & 1) ? big_sub(sum, q) : big_add(sum, q);
		free(q);
		free(sum);
		sum = s;
	}
	free(term);
	return sum;
}

static big *pi_digits(int digits)
{
	big *a = arctan_inv(5, digits + 5);
	big *b = arctan_inv(239, digits + 5);
	big *a16 = big_mul_word(a, 16), *b4 = big_mul_word(b, 4);
	big *pi = big_sub(a16, b4);
	free(a);
	free(b);
	free(a16);
	free(b4);
	for (int i = 0; i < 5; i++) {
		big *t = big_div_word(pi, 10, NULL);
		free(pi);
		pi = t;
	}
	return pi;
}

static big *e_digits(int digits)
{
	big *term = big_pow10(digits + 5);
	big *sum = big_copy(term);
	for (uint32_t k = 1; !big_is_zero(term); k++) {
		big *t = big_div_word(term, k, NULL);
		free(term);
		term = t;
		big *s = big_add(sum, term);
		free(sum);
		sum = s;
	}
	free(term);
	for (int i = 0; i < 5; i++) {
		big *t = big_div_word(sum, 10, NULL);
		free(sum);
		sum = t;
	}
	return sum;
}

/* F(n) by fast doubling: F(2k) = F(k)(2F(k+1) - F(k)), F(2k+1) = F(k)^2 + F(k+1)^2 */
static big *fib(unsigned n)
{
	big *a = big_from(0), *b = big_from(1);
	for (int bit = 31; bit >= 0; bit--) {
		big *b2 = big_add(b, b);
		big *d = big_sub(b2, a);
		big *c = big_mul(a, d);
		big *aa = big_mul(a, a), *bb = big_mul(b, b);
		big *e = big_add(aa, bb);
		free(b2);
		free(d);
		free(aa);
		free(bb);
		free(a);
		free(b);
		if ((n >> bit) & 1) {
			a = e;
			b = big_add(c, e);
			free(c);
		} else {
			a = c;
			b = e;
		}
	}
	free(b);
	return a;
}

int main(int argc, char **argv)
{
	int rounds = (int)mb_arg(argc, argv, 1, 6000);
	char pi_head[64] = "", e_head[64] = "", buf[4096];
	uint64_t sum = 0;

	double t0 = mb_now();
	for (int r = 0; r < rounds; r++) {
		int digits = 50 + (r * 37) % 400;
		big *pi = pi_digits(digits), *e = e_digits(digits);
		size_t n = big_to_dec(pi, buf, sizeof(buf));
		for (size_t i = 0; i < n; i++)
			sum = sum * 31 + (unsigned char)buf[i];
		if (r == 0)
			snprintf(pi_head, sizeof(pi_head), "%.40s", buf);
		n = big_to_dec(e, buf, sizeof(buf));
		for (size_t i = 0; i < n; i++)
			sum = sum * 31 + (unsigned char)buf[i];
		if (r == 0)
			snprintf(e_head, sizeof(e_head), "%.40s", buf);
		free(pi);
		free(e);
		for (unsigned k = 100; k < 1500; k += 97) {
			big *f = fib(k + (unsigned)r);
			sum = sum * 31 + f->d[0] + (uint64_t)f->n;
			free(f);
		}
	}
	double t1 = mb_now();
	printf("pi = %s...\ne  = %s...\n", pi_head, e_head);
	mb_done("cfrac", t1 - t0, sum);
	return 0;
}
