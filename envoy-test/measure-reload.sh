#!/usr/bin/env bash
# Measures how long a config change takes to reach traffic (the README's
# reload figure): runs tests/reload_latency.rs, which starts its own Envoy
# (ECDS mode, two workers), flips the release's weight between 0 and 100
# thirty times by renaming a new ECDS file into the watched folder, and
# times each rename to the first response routed by the new config.
#
#   envoy-test/measure-reload.sh [RUNS]    (default 1 run of 30 swaps)
# Environment: ENVOY and CANARY_WASM as for `make test` (found if unset).
# Prints each run's min/median/p90/max. Needs `make build` first.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
runs="${1:-1}"
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [RUNS]" >&2; exit 2; }
cd "$root"
ENVOY="${ENVOY:-$("$here/install-envoy.sh")}"
CANARY_WASM="${CANARY_WASM:-$root/target/canary-filter.wasm}"
[ -f "$CANARY_WASM" ] || { echo "measure-reload: no $CANARY_WASM; run make build first" >&2; exit 1; }
export ENVOY CANARY_WASM
"$ENVOY" --version | grep -o 'version: [^ ]*' || true
for run in $(seq "$runs"); do
  out="$(cargo test -q -p canary-e2e --test e2e -- --nocapture reload_latency:: 2>&1)" || {
    printf '%s\n' "$out" >&2
    echo "measure-reload: run $run failed" >&2
    exit 1
  }
  printf 'run %s: %s\n' "$run" "$(printf '%s\n' "$out" | sed -n 's/^  min /min /p')"
done
