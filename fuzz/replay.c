/* Corpus replay for the fuzz targets, without libFuzzer.
 *
 *     fuzz_replay_<fmt> CORPUS_DIR [N]
 *
 * Calls the target's LLVMFuzzerTestOneInput on every file of CORPUS_DIR, then
 * on N (default 5000, scaled by MMKIT_TEST_SCALE, 1/8 under sanitizers)
 * inputs made from a fixed seed: random bytes, soups of format tokens,
 * mutations and splices of the corpus files, and gzip/zstd compressions of
 * those, intact, truncated or with a flipped byte. This is a regression run
 * that `make test` can afford, not fuzzing: `make fuzz` runs libFuzzer.
 * The token soup is the trace formats' unless REPLAY_TOKENS names a header
 * with another `tokens` array (fuzz/scenario_tokens.h).
 * The target traps on a failed check; sanitizers report the rest.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>
#include <zstd.h>

#include "mmkit/rng.h"
#include "testutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_SEED 0x6d6d6b6974ULL /* fixed: the run is the same every time */
#define REPLAY_MAX_INPUT   8192

struct blob {
	uint8_t *p;
	size_t n;
};

static struct blob *corpus;
static size_t ncorpus;

static void run_one(const uint8_t *p, size_t n)
{
	/* a private copy, so ASan sees reads past the end */
	uint8_t *c = malloc(n ? n : 1);
	if (!c)
		abort();
	memcpy(c, p, n);
	LLVMFuzzerTestOneInput(c, n);
	free(c);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_corpus(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "replay: cannot open corpus %s\n", dir);
		exit(2);
	}
	char **names = NULL;
	size_t nn = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		names = realloc(names, (nn + 1) * sizeof(*names));
		names[nn++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, nn, sizeof(*names), by_name);
	corpus = calloc(nn ? nn : 1, sizeof(*corpus));
	for (size_t i = 0; i < nn; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		FILE *f = fopen(path, "rb");
		if (!f) {
			fprintf(stderr, "replay: cannot read %s\n", path);
			exit(2);
		}
		uint8_t *buf = malloc(1 << 20);
		size_t n = fread(buf, 1, 1 << 20, f);
		fclose(f);
		corpus[ncorpus].p = buf;
		corpus[ncorpus].n = n;
		ncorpus++;
		free(names[i]);
	}
	free(names);
}

/* ---- Generators -------------------------------------------------------------- */

#ifdef REPLAY_TOKENS
#include REPLAY_TOKENS
#else
static const char *const tokens[] = {
	"I  ", " L ", " S ", " M ", "SB ", "SYSCALL[", "1,1](9) ", "](", ") ", "sys_mmap",
	"sys_mmap2", "sys_brk", "sys_munmap", "sys_mprotect", "sys_mremap", "sys_read", " ( ",
	", ", " )", "[sync]", " --> ", "[pre-success] ", "[pre-fail] ", "[async] ... ",
	"... [async] --> ", "Success(0x", "Failure(0x", ")", "(", "0x", "0X", "-1",
	"ffffffffffffffff", "10000000000000000", "18446744073709551615", "18446744073709551616",
	"4294967295", "==1== ", "--2-- ", "**3** ", "\n", "\n", "\r\n", ",", ",", "\t", ";", "|",
	" ", " ", "\"", "\"\"", "#", "R", "W", "r", "w", "get", "set", "delete", "SET", "obj_id",
	"id", "time", "size", "op", "key", "0", "1", "7", "42", "4096", "0400d7d4", "1ffefffe88",
	"\x01", "\xff", "\0",
};
#endif

static size_t gen_tokens(struct mm_rng *r, uint8_t *out, size_t cap)
{
	size_t n = 0, k = mm_rng_below(r, 120);
	for (size_t i = 0; i < k; i++) {
		const char *t = tokens[mm_rng_below(r, sizeof(tokens) / sizeof(tokens[0]))];
		size_t l = t[0] ? strlen(t) : 1;
		if (mm_rng_below(r, 8) == 0) { /* a random number instead */
			char num[32];
			uint64_t v = mm_rng_next(r);
			v >>= mm_rng_below(r, 64);
			l = (size_t)snprintf(num, sizeof(num), "%llx", (unsigned long long)v);
			if (n + l > cap)
				break;
			memcpy(out + n, num, l);
		} else {
			if (n + l > cap)
				break;
			memcpy(out + n, t, l);
		}
		n += l;
	}
	return n;
}

static size_t gen_bytes(struct mm_rng *r, uint8_t *out, size_t cap)
{
	static const char alpha[] = "0123456789abcdefxILSMRW ,;|\t\n\r\"#=-()[]";
	size_t n = mm_rng_below(r, cap < 512 ? cap : 512);
	int raw = mm_rng_below(r, 4) == 0;
	for (size_t i = 0; i < n; i++)
		out[i] = raw ? (uint8_t)mm_rng_next(r)
			     : (uint8_t)alpha[mm_rng_below(r, sizeof(alpha) - 1)];
	return n;
}

static size_t gen_mutant(struct mm_rng *r, uint8_t *out, size_t cap)
{
	if (ncorpus == 0)
		return gen_tokens(r, out, cap);
	const struct blob *b = &corpus[mm_rng_below(r, ncorpus)];
	size_t n = b->n < cap ? b->n : cap;
	memcpy(out, b->p, n);
	int k = 1 + (int)mm_rng_below(r, 6);
	for (int i = 0; i < k && n; i++) {
		size_t at = mm_rng_below(r, n);
		switch (mm_rng_below(r, 6)) {
		case 0: /* flip a byte */
			out[at] ^= (uint8_t)(1u << mm_rng_below(r, 8));
			break;
		case 1: /* truncate */
			n = at;
			break;
		case 2: { /* delete a range */
			size_t len = mm_rng_below(r, n - at + 1);
			memmove(out + at, out + at + len, n - at - len);
			n -= len;
			break;
		}
		case 3: { /* insert tokens */
			uint8_t tmp[256];
			size_t len = gen_tokens(r, tmp, sizeof(tmp));
			if (n + len > cap)
				break;
			memmove(out + at + len, out + at, n - at);
			memcpy(out + at, tmp, len);
			n += len;
			break;
		}
		case 4: { /* splice with another corpus file */
			const struct blob *c = &corpus[mm_rng_below(r, ncorpus)];
			size_t from = c->n ? mm_rng_below(r, c->n) : 0;
			size_t len = c->n - from;
			if (at + len > cap)
				len = cap - at;
			memcpy(out + at, c->p + from, len);
			n = at + len;
			break;
		}
		default: { /* duplicate a range */
			size_t len = mm_rng_below(r, n - at + 1);
			if (n + len > cap)
				break;
			memmove(out + at + len, out + at, n - at);
			n += len;
			break;
		}
		}
	}
	return n;
}

/* gzip or zstd the bytes, then maybe cut or damage the result */
static size_t compress_some(struct mm_rng *r, uint8_t *buf, size_t n, size_t cap)
{
	uint8_t *tmp = malloc(cap);
	size_t m = 0;
	if (mm_rng_below(r, 2)) {
		z_stream z;
		memset(&z, 0, sizeof(z));
		if (deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			abort();
		z.next_in = buf;
		z.avail_in = (uInt)n;
		z.next_out = tmp;
		z.avail_out = (uInt)cap;
		if (deflate(&z, Z_FINISH) == Z_STREAM_END)
			m = cap - z.avail_out;
		deflateEnd(&z);
	} else {
		size_t k = ZSTD_compress(tmp, cap, buf, n, 1 + (int)mm_rng_below(r, 5));
		m = ZSTD_isError(k) ? 0 : k;
	}
	if (m == 0) {
		free(tmp);
		return n;
	}
	switch (mm_rng_below(r, 3)) {
	case 0: m = mm_rng_below(r, m + 1); break;
	case 1: tmp[mm_rng_below(r, m)] ^= (uint8_t)(1u << mm_rng_below(r, 8)); break;
	default: break;
	}
	memcpy(buf, tmp, m);
	free(tmp);
	return m;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR [N]\n", argv[0]);
		return 2;
	}
	load_corpus(argv[1]);
	uint64_t n = argc > 2 ? strtoull(argv[2], NULL, 0) : mm_test_iters(5000);
	for (size_t i = 0; i < ncorpus; i++)
		run_one(corpus[i].p, corpus[i].n);

	struct mm_rng r;
	mm_rng_seed(&r, REPLAY_SEED);
	uint8_t *buf = malloc(REPLAY_MAX_INPUT);
	for (uint64_t i = 0; i < n; i++) {
		size_t len;
		switch (mm_rng_below(&r, 4)) {
		case 0: len = gen_bytes(&r, buf, REPLAY_MAX_INPUT); break;
		case 1: len = gen_tokens(&r, buf, REPLAY_MAX_INPUT); break;
		default: len = gen_mutant(&r, buf, REPLAY_MAX_INPUT); break;
		}
		if (mm_rng_below(&r, 6) == 0)
			len = compress_some(&r, buf, len, REPLAY_MAX_INPUT);
		run_one(buf, len);
	}
	free(buf);
	for (size_t i = 0; i < ncorpus; i++)
		free(corpus[i].p);
	free(corpus);
	printf("replay: %zu corpus files and %llu generated inputs, no failure\n", ncorpus,
	       (unsigned long long)n);
	return 0;
}
