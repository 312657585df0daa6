#!/usr/bin/env bash
# `make run`: the canary filter in a local Envoy, with two demo versions of a
# service behind it. Renders the config into .run/ (ECDS mode, plugin config
# from filter-config/demo.json), starts Envoy, waits until it is ready, prints
# requests to try, and stays in the foreground: Ctrl-C stops it.
#
# Environment:
#   ENVOY            Envoy binary (the Makefile passes envoy-test/install-envoy.sh's)
#   CANARY_WASM      the filter module (the Makefile passes target/canary-filter.wasm)
#   PLUGIN_CONFIG    plugin config JSON file (default filter-config/demo.json)
#   CANARY_ADMIN_PORT, CANARY_FRONT_PORT, CANARY_PAY_V1_PORT, CANARY_PAY_V2_PORT,
#   CANARY_PAY_V3_PORT
#                    loopback ports (default 9901, 10000, 10001, 10002, 10003)
#   CANARY_CONSOLE_PORT  the release console's loopback port (default 8080)
#   ENVOY_LOG_LEVEL  Envoy's log level (default info; the filter's per-request
#                    line needs debug)
#
# Started in the background (`make run &`), `make stop` ends it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
# shellcheck source=lib.sh
source "$here/lib.sh"

fail() { echo "run: $*" >&2; exit 1; }

: "${ENVOY:?set ENVOY to the Envoy binary (make run does: envoy-test/install-envoy.sh)}"
: "${CANARY_WASM:?set CANARY_WASM to the filter module (make build makes target/canary-filter.wasm)}"
[ -x "$ENVOY" ] || fail "ENVOY=$ENVOY is not an executable file"
[ -f "$CANARY_WASM" ] || fail "CANARY_WASM=$CANARY_WASM does not exist; run make build"
plugin_config="${PLUGIN_CONFIG:-$root/filter-config/demo.json}"
[ -f "$plugin_config" ] || fail "PLUGIN_CONFIG=$plugin_config does not exist"
admin_port="${CANARY_ADMIN_PORT:-9901}"
front_port="${CANARY_FRONT_PORT:-10000}"
v1_port="${CANARY_PAY_V1_PORT:-10001}"
v2_port="${CANARY_PAY_V2_PORT:-10002}"
v3_port="${CANARY_PAY_V3_PORT:-10003}"

run_dir="$root/.run"
pid_file="$run_dir/envoy.pid"
if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
  fail "an Envoy from an earlier run is still running (pid $(cat "$pid_file")); make stop ends it"
fi
mkdir -p "$run_dir/ecds"
ecds_file="$run_dir/ecds/canary-filter.json"
# Envoy reads the first ECDS file at start-up, so it must exist before.
write_ecds_file "$ecds_file" "$CANARY_WASM" "$plugin_config" "run-$(date +%s)"
bootstrap_ecds "$admin_port" "$front_port" "$v1_port" "$v2_port" "$v3_port" "$ecds_file" >"$run_dir/envoy.yaml"

log="$run_dir/envoy.log"
"$ENVOY" -c "$run_dir/envoy.yaml" --disable-hot-restart --concurrency 2 \
  -l "${ENVOY_LOG_LEVEL:-info}" >"$log" 2>&1 &
envoy_pid=$!
echo "$envoy_pid" >"$pid_file"

stop_envoy() {
  trap - INT TERM EXIT
  [ -z "${console_pid:-}" ] || kill "$console_pid" 2>/dev/null || true
  if kill -0 "$envoy_pid" 2>/dev/null; then
    kill "$envoy_pid" 2>/dev/null || true
    wait "$envoy_pid" 2>/dev/null || true
  fi
  rm -f "$pid_file"
}
trap stop_envoy EXIT
trap 'echo; echo "run: stopping Envoy"; exit 0' INT TERM

# GET PATH from the admin port over bash's /dev/tcp, so no curl is needed
# (HTTP/1.1: Envoy answers HTTP/1.0 with 426).
admin_get() {
  local reply
  exec 3<>"/dev/tcp/127.0.0.1/$admin_port" || return 1
  printf 'GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$1" >&3
  reply="$(cat <&3)"
  exec 3<&-
  printf '%s' "$reply"
}

# Ready within 30 s, or the log says why not.
for _ in $(seq 300); do
  if ! kill -0 "$envoy_pid" 2>/dev/null; then
    tail -n 30 "$log" >&2
    fail "Envoy exited during start-up; its log: $log"
  fi
  if admin_get /ready 2>/dev/null | grep -q '^LIVE'; then
    break
  fi
  sleep 0.1
done
admin_get /ready 2>/dev/null | grep -q '^LIVE' || { tail -n 30 "$log" >&2; fail "Envoy not ready after 30 s; its log: $log"; }

front="http://localhost:$front_port"
# The release console beside the demo (README, "Console").
console_url="http://127.0.0.1:${CANARY_CONSOLE_PORT:-8080}/"
"$root/target/release/canaryctl" console "$ecds_file" --admin "http://127.0.0.1:$admin_port" \
  --listen "127.0.0.1:${CANARY_CONSOLE_PORT:-8080}" >"$run_dir/console.log" 2>&1 &
console_pid=$!
cat <<MSG
Envoy $("$ENVOY" --version | grep -o '[0-9]*\.[0-9]*\.[0-9]*/' | tr -d /) is up (pid $envoy_pid) with the canary filter and
$plugin_config
  front:  $front     admin: http://127.0.0.1:$admin_port
  config: $run_dir/envoy.yaml   log: $log
  console: $console_url   (the release steps in a browser; log: $run_dir/console.log)

Try (expected output as shipped in filter-config/demo.json):
  # rule hit (header env: test) -> the canary, every time
  curl -s -H 'env: test' $front/                  # pay-v2
  # rule hit (query uid in 1001, 1002)
  curl -s '$front/checkout?uid=1001'              # pay-v2
  # no rule hit: weight 20 -> about 20 of 100 requests reach the canary
  for i in \$(seq 100); do curl -s $front/; done | sort | uniq -c
  #      ~80 pay-v1
  #      ~20 pay-v2
  # sticky on x-user-id: one user always gets one version
  for i in 1 2 3; do curl -s -H 'x-user-id: ivan' $front/; done    # pay-v2 three times
  for i in 1 2 3; do curl -s -H 'x-user-id: alice' $front/; done   # pay-v1 three times
  # a client cannot pick the version: its routing header is overwritten
  curl -s -i -H 'x-canary-cluster: pay-v2' -H 'x-user-id: alice' $front/ | grep -E 'x-echo|pay-'
  #   x-echo-canary-cluster: pay-v1
  #   pay-v1
  # the filter's counters
  curl -s 'http://127.0.0.1:$admin_port/stats?filter=wasmcustom'

The release steps, live: canaryctl edits the ECDS file and Envoy applies it
without a restart (see README, "A release, step by step"):
  canaryctl=$root/target/release/canaryctl
  \$canaryctl show $ecds_file
  \$canaryctl rule $ecds_file pay --when 'header env equals test'   # rule only
  \$canaryctl set-weight $ecds_file pay 50                          # raise the weight
  \$canaryctl status --admin http://127.0.0.1:$admin_port --watch    # the live split
  \$canaryctl complete $ecds_file pay                               # or: rollback
  \$canaryctl start $ecds_file pay --canary pay-v1                  # the next release; nobody moves

A third version (tag routing): pay-v3 runs too; one line makes it a second canary
(the release turns into the "canaries" form, same routing for everyone else):
  \$canaryctl add-canary $ecds_file pay pay-v3 --weight 10
  for i in \$(seq 100); do curl -s $front/; done | sort | uniq -c   # ~70 pay-v1, ~20 pay-v2, ~10 pay-v3
  \$canaryctl rule $ecds_file pay --canary pay-v3 --when 'header x-tester present'
  curl -s -H 'x-tester: 1' $front/                                  # pay-v3

Ctrl-C stops Envoy.
MSG

# Envoy exits 0 on SIGTERM (make stop); anything else is a failure.
status=0
wait "$envoy_pid" || status=$?
if [ "$status" -ne 0 ]; then
  tail -n 20 "$log" >&2
  fail "Envoy exited with status $status; its log: $log"
fi
echo "run: Envoy stopped"
