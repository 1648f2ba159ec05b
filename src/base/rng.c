/* Seeded PRNG: xoshiro256** (Blackman & Vigna 2018) seeded through splitmix64.
 *
 * Costs: mm_rng_next is a handful of shifts and xors; mm_rng_below uses
 * Lemire's multiply-shift with rejection (expected < 2 draws, unbiased);
 * mm_rng_zipf is rejection-inversion (Hörmann & Derflinger, "Rejection-
 * inversion to generate variates from monotone discrete distributions", ACM
 * TOMACS 1996): O(1) expected draws and a few exp/log calls, no table, so it
 * serves n up to 2^64.
 */
#include <math.h>

#include "mmkit/error.h"
#include "mmkit/rng.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void mm_rng_seed(struct mm_rng *r, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

int mm_rng_check(const struct mm_rng *r)
{
	return (r->s[0] | r->s[1] | r->s[2] | r->s[3]) ? 0 : -MM_ECORRUPT;
}

uint64_t mm_rng_below(struct mm_rng *r, uint64_t n)
{
	if (n == 0)
		return 0;
	__uint128_t m = (__uint128_t)mm_rng_next(r) * n;
	uint64_t l = (uint64_t)m;
	if (l < n) {
		uint64_t t = -n % n;
		while (l < t) {
			m = (__uint128_t)mm_rng_next(r) * n;
			l = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

uint64_t mm_rng_range(struct mm_rng *r, uint64_t lo, uint64_t hi)
{
	uint64_t span = hi - lo;
	if (span == UINT64_MAX)
		return mm_rng_next(r);
	return lo + mm_rng_below(r, span + 1);
}

double mm_rng_double(struct mm_rng *r)
{
	/* the top 53 bits fill a double's mantissa exactly */
	return (double)(mm_rng_next(r) >> 11) * 0x1.0p-53;
}

/* ---- Zipf by rejection-inversion ----------------------------------------
 *
 * Target: P(k) proportional to h(k) = k^-s for k = 1..n. H is an antiderivative
 * of h, H(x) = (x^(1-s) - 1) / (1 - s) (log x when s = 1), written through
 * expm1/log1p so it stays accurate near s = 1. Draw u uniformly between
 * H(n + 1/2) and H(3/2) - h(1), invert x = H^-1(u), round to k; accept when
 * u lands under the part of the hat that belongs to k. The hat is so tight
 * that the acceptance rate is above 90% for every s and n.
 */

/* log1p(x) / x, continuous at 0 */
static double log1p_over_x(double x)
{
	if (fabs(x) > 1e-8)
		return log1p(x) / x;
	return 1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x));
}

/* expm1(x) / x, continuous at 0 */
static double expm1_over_x(double x)
{
	if (fabs(x) > 1e-8)
		return expm1(x) / x;
	return 1.0 + x * 0.5 * (1.0 + x * (1.0 / 3.0) * (1.0 + 0.25 * x));
}

static double zipf_h(double x, double s)
{
	return exp(-s * log(x));
}

static double zipf_H(double x, double s)
{
	double lx = log(x);
	return expm1_over_x((1.0 - s) * lx) * lx;
}

static double zipf_H_inv(double u, double s)
{
	double t = u * (1.0 - s);
	if (t < -1.0)
		t = -1.0; /* rounding guard: H^-1 is defined for t >= -1 */
	return exp(log1p_over_x(t) * u);
}

void mm_zipf_init(struct mm_zipf *z, uint64_t n, double s)
{
	z->n = n;
	z->s = s;
	z->hx1 = zipf_H(1.5, s) - 1.0;
	z->hn = zipf_H((double)n + 0.5, s);
	z->squeeze = 2.0 - zipf_H_inv(zipf_H(2.5, s) - zipf_h(2.0, s), s);
}

uint64_t mm_zipf_draw(const struct mm_zipf *z, struct mm_rng *r)
{
	if (z->n <= 1)
		return 0;
	double s = z->s;
	for (;;) {
		double u = z->hn + mm_rng_double(r) * (z->hx1 - z->hn);
		double x = zipf_H_inv(u, s);
		double kd = floor(x + 0.5);
		uint64_t k;
		if (kd < 1.0)
			k = 1;
		else if (kd >= (double)z->n)
			k = z->n;
		else
			k = (uint64_t)kd;
		if ((double)k - x <= z->squeeze ||
		    u >= zipf_H((double)k + 0.5, s) - zipf_h((double)k, s))
			return k - 1;
	}
}

uint64_t mm_rng_zipf(struct mm_rng *r, uint64_t n, double s)
{
	struct mm_zipf z;
	if (n <= 1)
		return 0;
	mm_zipf_init(&z, n, s);
	return mm_zipf_draw(&z, r);
}
