#!/usr/bin/env bash
# Hands a new plugin config to the Envoy that run.sh started, through ECDS:
# renders .run/ecds/canary-filter.json in a staging folder, and has
# `canaryctl wait` rename it into the watched folder and wait (up to 10 s)
# for Envoy's verdict: applied, or rejected (the last good config stays),
# or no answer. canaryctl's library decides it, as for `canaryctl --wait`.
#
#   envoy-test/apply-config.sh PLUGIN_JSON_FILE
# Environment: CANARY_WASM (default target/canary-filter.wasm),
# CANARY_ADMIN_PORT (default 9901), CANARYCTL (default
# target/release/canaryctl, which make build and make run build).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
# shellcheck source=lib.sh
source "$here/lib.sh"

[ $# -eq 1 ] || { echo "usage: $0 PLUGIN_JSON_FILE" >&2; exit 2; }
[ -f "$1" ] || { echo "apply-config: $1 does not exist" >&2; exit 1; }
ecds_file="$root/.run/ecds/canary-filter.json"
[ -f "$ecds_file" ] || { echo "apply-config: no $ecds_file; start Envoy with make run first" >&2; exit 1; }
wasm="${CANARY_WASM:-$root/target/canary-filter.wasm}"
admin_port="${CANARY_ADMIN_PORT:-9901}"
canaryctl="${CANARYCTL:-$root/target/release/canaryctl}"
[ -x "$canaryctl" ] || { echo "apply-config: no $canaryctl; run make build first (or set CANARYCTL)" >&2; exit 1; }

version="apply-$(date +%s%N)"
staged="$(stage_ecds_file "$ecds_file" "$wasm" "$1" "$version")"
if "$canaryctl" wait --admin "http://127.0.0.1:$admin_port" --file "$ecds_file" --timeout 10 \
  -- mv -f "$staged" "$ecds_file"; then
  echo "apply-config: Envoy applied $1 (version $version)"
else
  echo "apply-config: $1 is not in force; Envoy keeps the last good config. From .run/envoy.log:" >&2
  grep 'canary-filter' "$root/.run/envoy.log" | tail -n 3 >&2 || true
  exit 1
fi
