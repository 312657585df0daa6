#!/usr/bin/env bash
# `make bench`: the filter's cost in a real Envoy next to its alternatives
# (native routing, a no-op proxy-wasm filter, the same logic in Lua), its
# start-up time and size, and the guest calls Envoy makes per request. Results go to bench/results/ (see bench/README.md).
#
# Environment (the Makefile passes these six):
#   ENVOY          Envoy binary (envoy-test/install-envoy.sh)
#   CANARY_WASM    the shipped module (target/canary-filter.wasm)
#   WASM_SLIM      tools/wasm-slim's binary (target/release/wasm-slim)
#   WASM_OPT       binaryen's wasm-opt (installed by make build)
#   WASM_FEATURES, WASM_OPT_LEVEL  wasm-opt's flags for the shipped module
#   BENCH_ROUNDS (15), BENCH_WARMUP_ROUNDS (2), BENCH_SECONDS (2, per burst),
#   BENCH_CONNECTIONS (8), BENCH_STARTUP_RUNS (5),
#   BENCH_RESULTS (the results folder; bench/results),
#   BENCH_NOTE (a line printed on the table and chart, e.g. "trial run")
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1
here="$(cd "$(dirname "$0")" && pwd)"
fail() { echo "bench: $*" >&2; exit 1; }

: "${ENVOY:?set ENVOY to the Envoy binary (make bench does)}"
: "${CANARY_WASM:?set CANARY_WASM to the shipped module (make bench does)}"
: "${WASM_SLIM:?set WASM_SLIM to tools/wasm-slim (make bench does)}"
: "${WASM_OPT:?set WASM_OPT to wasm-opt (make bench does)}"
for tool in "$ENVOY" "$WASM_SLIM" "$WASM_OPT"; do
  [ -x "$tool" ] || fail "$tool is not an executable file; run make build"
done
[ -f "$CANARY_WASM" ] || fail "CANARY_WASM=$CANARY_WASM does not exist; run make build"
[ "$(nproc)" -ge 2 ] || fail "needs 2 cores (front Envoy on core 0, load and upstream on core 1)"
command -v taskset >/dev/null || fail "taskset (util-linux) is needed to pin processes to cores"
command -v python3 >/dev/null || fail "python3 is needed"

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    echo "bench: installing wrk (Debian package)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  else
    fail "wrk is not installed; as root: apt-get install wrk (Debian/Ubuntu package 'wrk')"
  fi
fi

# The bench-only no-op module, through the shipped module's pipeline: build,
# tools/wasm-slim, wasm-opt. Slimmed, it keeps the callbacks an SDK filter
# needs (the SDK's per-request contexts: create, request headers, delete);
# it is also kept with all 29 SDK exports (same optimiser), as the SDK
# builds it.
work="$here/.work"
modules="$work/modules"
mkdir -p "$modules"
# shellcheck disable=SC2206 # a word list
features=(${WASM_FEATURES:---enable-bulk-memory --enable-bulk-memory-opt --enable-sign-ext --enable-nontrapping-float-to-int --enable-mutable-globals})
optimise() { "$WASM_OPT" "${features[@]}" "${WASM_OPT_LEVEL:--O3}" --strip-debug --strip-producers "$1" -o "$2"; }
sdk_exports="memory _initialize proxy_abi_version_0_2_1 proxy_on_memory_allocate
  proxy_on_context_create proxy_on_vm_start proxy_on_configure proxy_on_request_headers
  proxy_on_delete"

cargo build --quiet --release --target wasm32-wasip1 --manifest-path "$here/Cargo.toml" -p noop-filter
raw="$here/target/wasm32-wasip1/release"
# shellcheck disable=SC2086 # the export list is a word list
"$WASM_SLIM" "$raw/noop_filter.wasm" "$work/noop.slim.wasm" $sdk_exports >/dev/null
optimise "$work/noop.slim.wasm" "$modules/noop-slim.wasm"
optimise "$raw/noop_filter.wasm" "$modules/noop-sdk.wasm"
cp "$raw/noop_filter.wasm" "$modules/noop-raw.wasm"

exec python3 "$here/harness/main.py" \
  --envoy "$ENVOY" --canary "$CANARY_WASM" --modules "$modules" --work "$work" \
  --results "${BENCH_RESULTS:-$here/results}" \
  --rounds "${BENCH_ROUNDS:-15}" --warmup "${BENCH_WARMUP_ROUNDS:-2}" \
  --seconds "${BENCH_SECONDS:-2}" --connections "${BENCH_CONNECTIONS:-8}" \
  --startup-runs "${BENCH_STARTUP_RUNS:-5}"
