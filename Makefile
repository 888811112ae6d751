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

.PHONY: demo test build check-tools devdb devdb-stop clean-demo bench bench-scale bench-1m bench-search-1m bench-download bench-webapp bench-source bench-github bench-stream bench-sitemaps bench-lighthouse bench-trees

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
	@scripts/pytools install
	@scripts/browser install
	$(CARGO) build --workspace --locked --bins
	scripts/devdb run -- $(CARGO) test --workspace --locked --no-fail-fast

clean-demo: devdb-stop
	rm -rf "$(DEMO_DATA)"

# Benchmarks (not in CI): figures and ratios for BENCHMARKS.md, each against a reference
# measured in the same run. Synthetic registries are generated once into
# $(NODULES_BENCH_DIR) (default /tmp/nodules-bench); results go to bench/results/.
BENCH_DIR ?= $(or $(NODULES_BENCH_DIR),/tmp/nodules-bench)

bench: bench-scale bench-download bench-webapp bench-source bench-github bench-stream bench-sitemaps bench-search-1m bench-lighthouse bench-trees

# The indexer at 10k and 100k packages (ingest, follow, dependents, reads, disk) and the
# search index built from each database. 100k takes over an hour on the development server.
bench-scale: build
	@scripts/devdb install
	@mkdir -p bench/results
	scripts/devdb run -- python3 bench/run.py 10000 100000 | tee bench/results/scale.md

# Search at a million packages: the index built from the generated 1M dump by the indexer's
# normalizer (no database: the development server cannot hold 1M packages in reasonable
# time), then query latencies. ~30 minutes and ~8 GB of disk for the dump.
bench-search-1m: build
	@mkdir -p bench/results $(BENCH_DIR)/gen-1000000
	@test -f $(BENCH_DIR)/gen-1000000/manifest.json || \
	  $(BIN)/nodules-gen --packages 1000000 --seed 1 --gzip --out $(BENCH_DIR)/gen-1000000
	$(BIN)/nodules-bench-search build-dump $(BENCH_DIR)/gen-1000000/all_docs.json.gz $(BENCH_DIR)/search-1m \
	  | tee bench/results/search-1m.md
	$(BIN)/nodules-bench-search queries $(BENCH_DIR)/search-1m | tee -a bench/results/search-1m.md

# The 1M-package registry: hours on the development server, ~25 GB of disk. Its database
# ($(BENCH_DIR)/db-1m) and the figures of each finished step ($(BENCH_DIR)/scale-1000000.json)
# are kept, so an interrupted run goes on from the step it was in when run again; delete
# both to start over.
bench-1m: build
	@scripts/devdb install
	@mkdir -p bench/results
	@port=$$(scripts/devdb free-port) && DEVDB_START_WAIT=1800 scripts/devdb start "$(BENCH_DIR)/db-1m" $$port && \
	  trap 'scripts/devdb stop "$(BENCH_DIR)/db-1m"' EXIT && set -o pipefail && \
	  MONGODB_URI="$$(scripts/devdb uri $$port)" NODULES_BENCH_DIR="$(BENCH_DIR)" NODULES_DEV_DB_DIR="$(BENCH_DIR)/db-1m" \
	  python3 bench/run.py --resume 1000000 | tee bench/results/scale-1m.md

# The downloader on the ~350 real tarballs of sample/packages.txt, fetched once into
# $(NODULES_BENCH_DIR)/download-cache from the registry npm uses, then served locally.
bench-download: build
	@scripts/devdb install
	scripts/devdb run -- python3 bench/download.py

# The webapp: a hot module page (wrk, against nginx serving the same bytes) and a reconnect
# flood of 1,000 clients, on a few real packages from the registry npm uses. Needs nginx
# and wrk (`apt-get install -y nginx-light wrk`); the script says so, or installs them as root.
bench-webapp: build
	@scripts/devdb install
	scripts/devdb run -- .venv/bin/python bench/webapp.py

# The source browser on typescript@5.9.3 and 5.9.2 (fetched from the registry npm uses):
# rendering against syntect's bare highlighting, cached file pages against nginx, in-package
# search against `grep -rn` and against reading the blobs, a cold diff. Needs nginx and wrk as
# bench-webapp does.
bench-source: build
	@scripts/devdb install
	scripts/devdb run -- .venv/bin/python bench/source.py

# The GitHub refresh against a fake GitHub API in-process: repositories/s and requests per
# repository, first run (200s) and again with ETags (304s), against a bare HTTP client.
bench-github: build
	@scripts/devdb install
	@mkdir -p bench/results
	scripts/devdb run -- $(BIN)/nodules-bench-github 2000 | tee bench/results/github.jsonl

# The live stream: latency from the indexer's write to the event at 100 connected clients,
# over 40 ingests of 51 changed packages each (target: p50 <= 1.5 s), against the indexer
# command's own wall time for the same ingest.
bench-stream: build
	@scripts/devdb install
	@mkdir -p bench/results
	scripts/devdb run -- .venv/bin/python bench/stream.py

# Sitemaps for synthetic stores of 100,000 and 1,000,000 package records (inserted
# directly: the indexer takes hours for 1M here): time against a bare windowed scan of the
# same records, our peak RSS and the development server's. ~2 GB of disk at 1M.
bench-sitemaps: build
	@scripts/devdb install
	@mkdir -p bench/results
	scripts/devdb run -- .venv/bin/python bench/sitemaps.py

# Lighthouse's performance category on the home, module, versions, dependents, tree, compare
# and search pages: the median of 3 runs each, mobile preset, in headless Debian Chromium,
# against a release webapp on express, koa and their dependencies from the registry npm uses.
# Installs Chromium and Lighthouse as `make test` does (scripts/browser).
bench-lighthouse: build
	@scripts/devdb install
	@scripts/browser install
	scripts/devdb run -- .venv/bin/python bench/lighthouse.py

# Install trees: `nodules-indexer trees --all` on the 10k synthetic registry (trees/s, peak
# RSS, the largest tree alone) against the ingest of the same dump, then one publish of the
# most depended-upon package: how many trees it makes stale and the time to recompute them.
bench-trees: build
	@scripts/devdb install
	@mkdir -p bench/results
	scripts/devdb run -- .venv/bin/python bench/trees.py | tee bench/results/trees.md
