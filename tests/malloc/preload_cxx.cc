// C++ under LD_PRELOAD=libmmalloc.so: libstdc++'s operator new/delete
// (plain, array, sized, aligned) reach our malloc/free/aligned_alloc,
// checked through mallinfo2() (served by libmmalloc) and the heap checker.
#include <dlfcn.h>
#include <malloc.h>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <new>
#include <string>
#include <vector>

static int failures, passes;
#define CHECK(c)                                                          \
	do {                                                              \
		if (c) {                                                  \
			passes++;                                         \
		} else {                                                  \
			failures++;                                       \
			std::fprintf(stderr, "%s:%d: CHECK(%s) failed\n", \
				     __FILE__, __LINE__, #c);             \
		}                                                         \
	} while (0)

struct alignas(128) Wide {
	char c[100];
};

int main()
{
	auto check = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "mmalloc_check"));
	CHECK(check != nullptr);
	if (!check)
		return 1;
	Dl_info info;
	CHECK(dladdr(dlsym(RTLD_DEFAULT, "malloc"), &info) && std::strstr(info.dli_fname, "libmmalloc"));

	struct mallinfo2 a = mallinfo2();
	char *arr = new char[50000];
	std::memset(arr, 1, 50000);
	struct mallinfo2 b = mallinfo2();
	CHECK(b.uordblks >= a.uordblks + 50000);   // new[] went through our malloc
	delete[] arr;
	struct mallinfo2 c = mallinfo2();
	CHECK(c.uordblks + 40000 < b.uordblks);    // delete[] through our free

	Wide *w = new Wide[3];
	CHECK(reinterpret_cast<std::uintptr_t>(w) % 128 == 0);  // aligned new
	delete[] w;
	Wide *w1 = new Wide;
	CHECK(reinterpret_cast<std::uintptr_t>(w1) % 128 == 0);
	delete w1;

	std::map<int, std::string> m;
	std::vector<std::vector<int>> vv;
	for (int i = 0; i < 200000; i++) {
		m[i % 5000] = std::to_string(i) + std::string(i % 50, 'x');
		vv.emplace_back(i % 37, i);
		if (vv.size() > 1000)
			vv.erase(vv.begin(), vv.begin() + 500);
	}
	CHECK(m.size() == 5000);
	CHECK(check() == 0);
	try {
		char *huge = new char[(std::size_t)1 << 62];
		delete[] huge;
		CHECK(false);
	} catch (const std::bad_alloc &) {
		CHECK(true);   // ENOMEM from our malloc becomes bad_alloc
	}
	m.clear();
	vv.clear();
	CHECK(check() == 0);
	std::printf("%d passed, %d failed\n", passes, failures);
	return failures != 0;
}
