#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || defined(MMKIT_TSAN) || \
	defined(MMKIT_DEBUG)
#define SLOW_BUILD 1
#else
#define SLOW_BUILD 0
#endif

int mm_test_sanitized(void)
{
	return SLOW_BUILD;
}

uint64_t mm_test_seed(void)
{
	static uint64_t seed;
	static int have;
	if (!have) {
		const char *e = getenv("MMKIT_SEED");
		if (e && *e) {
			seed = strtoull(e, NULL, 0);
		} else {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			seed = ((uint64_t)ts.tv_sec * 1000000007ULL) ^ (uint64_t)ts.tv_nsec ^
			       ((uint64_t)getpid() << 32);
		}
		have = 1;
		fprintf(stderr, "test seed: MMKIT_SEED=%llu\n", (unsigned long long)seed);
	}
	return seed;
}

uint64_t mm_test_iters(uint64_t n)
{
	double scale = 1.0;
	const char *e = getenv("MMKIT_TEST_SCALE");
	if (e && *e)
		scale = strtod(e, NULL);
	if (SLOW_BUILD)
		scale /= 8.0;
	double r = (double)n * scale;
	return r < 1.0 ? 1 : (uint64_t)r;
}
