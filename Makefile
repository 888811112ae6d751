# Nodules: two commands for a newcomer.
#   make demo   a working site on real data (installs what is missing, builds, indexes a sample)
#   make test   the whole test suite against a real MongoDB-protocol server
# Set MONGODB_URI to use a real MongoDB instead of the development server.

SHELL := /bin/bash
CARGO ?= cargo
DEMO_DATA ?= $(CURDIR)/data
DEMO_PORT ?= 27117
DEMO_DB ?= nodules
BIN := $(CURDIR)/target/release

.PHONY: demo test build check-tools devdb devdb-stop clean-demo bench bench-1m

check-tools:
	@command -v $(CARGO) >/dev/null || { echo "cargo is needed: install Rust from rustup" >&2; exit 1; }
	@command -v python3 >/dev/null || { echo "python3 is needed for the development database" >&2; exit 1; }
	@command -v npm >/dev/null || { echo "npm is needed (it tells which registry to use, and the differential tests run npm's own code)" >&2; exit 1; }

build: check-tools
	$(CARGO) build --release --locked --bins

# The demo database lives in ./data and is reused by the next `make demo`.
devdb:
	@scripts/devdb start "$(DEMO_DATA)" "$(DEMO_PORT)"

devdb-stop:
	@scripts/devdb stop "$(DEMO_DATA)"

demo: build
	@scripts/demo "$(DEMO_DATA)" "$(DEMO_PORT)" "$(DEMO_DB)"

test: check-tools
	@scripts/devdb install
	$(CARGO) build --workspace --locked --bins
	scripts/devdb run -- $(CARGO) test --workspace --locked --no-fail-fast

clean-demo: devdb-stop
	rm -rf "$(DEMO_DATA)"

# Benchmarks (not in CI): figures and ratios for BENCHMARKS.md, each against a reference
# measured in the same run. Synthetic registries are generated once into
# $(NODULES_BENCH_DIR) (default /tmp/nodules-bench); results go to bench/results/.
bench: build
	@scripts/devdb install
	@mkdir -p bench/results
	scripts/devdb run -- python3 bench/run.py 10000 100000 | tee bench/results/scale.md

# The 1M-package registry: hours on the development server, ~25 GB of disk.
bench-1m: build
	@scripts/devdb install
	@mkdir -p bench/results
	scripts/devdb run -- python3 bench/run.py 1000000 | tee bench/results/scale-1m.md
