# Thin wrapper around the bootstrap script, CMake and CTest.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all deps build test asan bench run golden format clean

all: build

deps:
	@tools/bootstrap.sh

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DPython_EXECUTABLE=/usr/bin/python3 $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)
	/usr/bin/python3 tools/register_python.py $(BUILD)/python

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDEPLOYSIM_SANITIZE=ON $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS)

bench: build
	$(BUILD)/bench/deploysim_bench --benchmark_counters_tabular=true

run: build
	$(BUILD)/deploysim run scenarios/quickstart.yaml -o out/quickstart

# Regenerates tests/golden/*.json and the charts in docs/img after an intended change of behaviour;
# review the diff like code.
golden: build
	DEPLOYSIM_UPDATE_GOLDEN=1 $(BUILD)/tests/deploysim_tests "[golden]"

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
