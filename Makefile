# mmkit — top-level driver around CMake.
#   make            optimized build into build/
#   make test       install missing packages, then run the whole suite twice:
#                   optimized (build/) and ASan+UBSan (build-asan/)
#   make demo       the main job on the bundled default: the allocator demo, then
#                   mmsim demo (report and plots in out/)
#   make bench      allocator benchmarks, side by side with the peers
#   make tsan       the multi-threaded stress tests under ThreadSanitizer
#   make fuzz       libFuzzer on the trace readers and the scenario language,
#                   FUZZ_SECONDS (60) per target
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE   ?= cmake
CTEST   ?= ctest
DEPS     = scripts/install-deps.sh

.PHONY: all build deps test test-release test-asan demo bench bench-malloc tsan clean fuzz

all: build

deps:
	@bash $(DEPS)

build: deps
	$(CMAKE) -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
	$(CMAKE) --build build -j$(JOBS)

test: test-release test-asan
	@echo "make test: optimized and ASan+UBSan suites passed"

test-release: build
	$(CTEST) --test-dir build --output-on-failure -j$(JOBS)

test-asan: deps
	$(CMAKE) -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMMKIT_SANITIZE=ON -DMMKIT_BENCH=OFF >/dev/null
	$(CMAKE) --build build-asan -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  $(CTEST) --test-dir build-asan --output-on-failure -j$(JOBS)

tsan: deps
	$(CMAKE) -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMMKIT_TSAN=ON -DMMKIT_BENCH=OFF >/dev/null
	$(CMAKE) --build build-tsan -j$(JOBS)
	TSAN_OPTIONS=halt_on_error=1 $(CTEST) --test-dir build-tsan --output-on-failure -L stress

demo: build
	./build/tools/mmkit-demo
	./build/tools/mmsim/mmsim demo

bench: build
	@bash $(DEPS) bench
	bash bench/run.sh

bench-malloc: build
	@bash $(DEPS) bench
	bash bench/malloc/run.sh

FUZZ_SECONDS ?= 60
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash fuzz/run.sh

clean:
	rm -rf build build-asan build-tsan
