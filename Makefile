# The two set-up commands are `make run` and `make test`; both install what they need first.
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo
# CI builds with warnings as errors.
WERROR ?= $(if $(CI),ON,OFF)
JOBS ?= 2

.PHONY: deps configure build run test bench fmt lint clean

deps:
	@deploy/local/deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DCRM_WERROR=$(WERROR) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# Embedded PostgreSQL + every service on loopback; Ctrl-C stops everything.
run: build
	@deploy/local/run.sh $(BUILD)

# Every test through CTest; the run starts (and stops) its own throwaway PostgreSQL.
test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Throughput and latency against baselines measured in the same run (see docs/benchmarks.md).
bench: build
	@tests/bench/run.sh $(BUILD)

SOURCES = $(shell git ls-files '*.cc' '*.h')

fmt:
	@clang-format -i $(SOURCES)

lint: build
	@clang-format --dry-run -Werror $(SOURCES)
	@tests/api/buf_check.sh $(CURDIR) $(BUILD)

clean:
	@rm -rf $(BUILD) .run
