# The two set-up commands are `make run` and `make test`; both install what they need first.
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo
# CI builds with warnings as errors.
WERROR ?= $(if $(CI),ON,OFF)
JOBS ?= 2
# The sanitizer build (clang, ASan + UBSan, libFuzzer coverage): make fuzz, make test-asan, and
# the brief fuzz run at the end of make test.
ASAN_BUILD ?= build-asan
FUZZ_SECONDS ?= 120
# ccache hits across clones and directories: paths relative to the checkout.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: deps configure build run test test-dates bench fmt lint clean configure-asan fuzz test-asan valgrind

deps:
	@deploy/local/deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DCRM_WERROR=$(WERROR) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# Embedded PostgreSQL + every service on loopback; Ctrl-C stops everything.
run: build
	@deploy/local/run.sh $(BUILD)

# Every test through CTest; the run starts (and stops) its own throwaway PostgreSQL. Then the
# PostgreSQL tier again with the clock of every process shifted to one of the dates calendars get
# wrong (a different one each day, see tests/dates), and each fuzz target replays its seeds and
# regressions and fuzzes briefly (10 s).
test: build configure-asan
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@tests/dates/shifted_ctest.sh $(BUILD) rotating -j $(JOBS) -L pg
	@cmake --build $(ASAN_BUILD) -j $(JOBS) --target fuzzers
	@cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS) -L fuzz

# Every tier (unit, PostgreSQL, end to end) at each of the shifted dates in tests/dates.
test-dates: build
	@tests/dates/shifted_ctest.sh $(BUILD) all -j $(JOBS)

configure-asan: deps
	@CXX=clang++-14 cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=None \
	  "-DCMAKE_CXX_FLAGS=-O1 -gline-tables-only" -DCRM_SANITIZE=ON >/dev/null

# Each fuzz target for FUZZ_SECONDS (new inputs go to $(ASAN_BUILD)/tests/fuzz/work).
fuzz: configure-asan
	@cmake --build $(ASAN_BUILD) -j $(JOBS) --target fuzzers
	@for target in $(ASAN_BUILD)/tests/fuzz/*_fuzz; do \
	  tests/fuzz/run_fuzzer.sh $$target $(FUZZ_SECONDS) tests/fuzz $(ASAN_BUILD)/tests/fuzz/work \
	    || exit 1; \
	done

# The whole suite built with ASan + UBSan (clang), services and tests alike.
test-asan: configure-asan
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_container_overflow=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

# Throughput and latency against baselines measured in the same run (see docs/benchmarks.md).
bench: build
	@tests/bench/run.sh $(BUILD)

# The contacts service and the gateway under valgrind memcheck through a round of calls.
valgrind: build
	@tests/valgrind/run.sh $(BUILD)

SOURCES = $(shell git ls-files '*.cc' '*.h')

fmt:
	@clang-format -i $(SOURCES)

lint: build
	@clang-format --dry-run -Werror $(SOURCES)
	@tests/api/buf_check.sh $(CURDIR) $(BUILD)

clean:
	@rm -rf $(BUILD) $(ASAN_BUILD) .run
