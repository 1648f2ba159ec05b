// stl: a C++ program heavy on standard containers, as real C++ code is.
//
// A deterministic text-processing job: generate a pseudo-random "corpus" of
// words, count them in std::map<std::string,...> and std::unordered_map, build
// an inverted index (word -> std::vector of positions), sort and group with
// std::vector and std::sort, join strings, keep a std::list LRU cache of
// std::string keys, and repeatedly build and tear down std::set<std::pair>.
// Every container allocates through operator new -> malloc, so the whole run
// is a mix of small string buffers, tree nodes, hash buckets and growing
// vector storage. The output is deterministic: bench/malloc/realprogs.sh and
// the preload tests compare it across allocators.
//
// usage: mb-stl [rounds=16] [words_per_round=200000]

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <dlfcn.h>
#include <list>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

struct Rng {
	uint64_t s;
	uint64_t next()
	{
		uint64_t z = (s += 0x9e3779b97f4a7c15ull);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		return z ^ (z >> 31);
	}
	size_t below(size_t n) { return (size_t)(next() % n); }
};

// A word from a Zipf-like vocabulary: short common words, long rare ones.
std::string make_word(Rng &r)
{
	size_t rank = 1;
	while (rank < 5000 && (r.next() & 3) != 0)
		rank = rank * 2 + r.below(2);
	std::string w;
	uint64_t v = rank * 2654435761u;
	size_t len = 2 + rank % 13;
	for (size_t i = 0; i < len; i++) {
		w.push_back((char)('a' + v % 26));
		v = v / 26 + rank;
	}
	return w;
}

uint64_t fnv(const std::string &s, uint64_t h = 1469598103934665603ull)
{
	for (unsigned char c : s)
		h = (h ^ c) * 1099511628211ull;
	return h;
}

double now()
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

} // namespace

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? std::atol(argv[1]) : 16;
	long nwords = argc > 2 ? std::atol(argv[2]) : 200000;
	if (rounds <= 0 || nwords <= 0) {
		std::fprintf(stderr, "usage: %s [rounds] [words_per_round]\n", argv[0]);
		return 2;
	}
	Rng rng{12345};
	uint64_t check = 0;
	double t0 = now();

	for (long r = 0; r < rounds; r++) {
		std::vector<std::string> corpus;
		for (long i = 0; i < nwords; i++)
			corpus.push_back(make_word(rng));

		// ordered counts and an inverted index
		std::map<std::string, long> counts;
		std::unordered_map<std::string, std::vector<uint32_t>> index;
		for (size_t i = 0; i < corpus.size(); i++) {
			counts[corpus[i]]++;
			index[corpus[i]].push_back((uint32_t)i);
		}

		// top words by count (ties by word)
		std::vector<std::pair<long, std::string>> top;
		for (auto &kv : counts)
			top.emplace_back(-kv.second, kv.first);
		std::sort(top.begin(), top.end());
		std::string line;
		for (size_t i = 0; i < 5 && i < top.size(); i++)
			line += top[i].second + ":" + std::to_string(-top[i].first) + " ";
		std::printf("round %ld: %zu distinct, top %s\n", r, counts.size(), line.c_str());

		// bigrams in a set of pairs, built and destroyed in chunks
		for (size_t start = 0; start + 1 < corpus.size(); start += 20000) {
			std::set<std::pair<std::string, std::string>> bigrams;
			for (size_t i = start; i + 1 < corpus.size() && i < start + 20000; i++)
				bigrams.emplace(corpus[i], corpus[i + 1]);
			check = check * 31 + bigrams.size();
		}

		// an LRU cache of recently seen words, with string keys
		std::list<std::string> lru;
		std::unordered_map<std::string, std::list<std::string>::iterator> where;
		long hits = 0;
		for (const std::string &w : corpus) {
			auto it = where.find(w);
			if (it != where.end()) {
				hits++;
				lru.splice(lru.begin(), lru, it->second);
			} else {
				lru.push_front(w);
				where[w] = lru.begin();
				if (lru.size() > 256) {
					where.erase(lru.back());
					lru.pop_back();
				}
			}
		}

		// join every 7th word into one growing string, then split it again
		std::string joined;
		for (size_t i = 0; i < corpus.size(); i += 7)
			joined += corpus[i] + ",";
		std::vector<std::string> parts;
		size_t p = 0, q;
		while ((q = joined.find(',', p)) != std::string::npos) {
			parts.emplace_back(joined.substr(p, q - p));
			p = q + 1;
		}

		uint64_t h = 0;
		for (auto &kv : index)
			h += fnv(kv.first, kv.second.size());
		check = check * 31 + h + (uint64_t)hits + parts.size() + fnv(joined);
		std::printf("round %ld: lru hits %ld, %zu parts, index hash %016llx\n", r, hits,
			    parts.size(), (unsigned long long)h);
	}
	double t1 = now();
	std::printf("stl: checksum %016llx\n", (unsigned long long)check);
	std::fflush(stdout);
	std::fprintf(stderr, "stl: %.3f s\n", t1 - t0);
	Dl_info info;
	void *sym = dlsym(RTLD_DEFAULT, "malloc");
	std::fprintf(stderr, "mb-alloc: %s\n",
		     sym != nullptr && dladdr(sym, &info) != 0 && info.dli_fname ? info.dli_fname
										  : "unknown");
	return 0;
}
