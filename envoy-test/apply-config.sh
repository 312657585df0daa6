#!/usr/bin/env bash
# Hands a new plugin config to the Envoy that run.sh started, through ECDS:
# renders .run/ecds/canary-filter.json and renames it into the watched
# folder. Envoy applies it, or rejects it and keeps the last good one; this
# script waits up to 10 s and says which.
#
#   envoy-test/apply-config.sh PLUGIN_JSON_FILE
# Environment: CANARY_WASM (default target/canary-filter.wasm),
# CANARY_ADMIN_PORT (default 9901).
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

stat() {
  local name="extension_config_discovery.http_filter.canary-filter.$1" reply
  exec 3<>"/dev/tcp/127.0.0.1/$admin_port" || return 1
  printf 'GET /stats?filter=%s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$name" >&3
  reply="$(cat <&3)"
  exec 3<&-
  printf '%s\n' "$reply" | sed -n "s/^$name: //p"
}

success="$(stat update_success)"
rejected="$(stat update_rejected)"
version="apply-$(date +%s%N)"
write_ecds_file "$ecds_file" "$wasm" "$1" "$version"
for _ in $(seq 100); do
  if [ "$(stat update_success)" != "$success" ]; then
    echo "apply-config: Envoy applied $1 (version $version)"
    exit 0
  fi
  if [ "$(stat update_rejected)" != "$rejected" ]; then
    echo "apply-config: Envoy REJECTED $1 and keeps the last good config; see .run/envoy.log:" >&2
    grep 'canary-filter' "$root/.run/envoy.log" | tail -n 3 >&2
    exit 1
  fi
  sleep 0.1
done
echo "apply-config: Envoy did not answer in 10 s; see .run/envoy.log" >&2
exit 1
