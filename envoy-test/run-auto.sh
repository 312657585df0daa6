#!/usr/bin/env bash
# `make run-auto`: the automated analysis on screen. A local Envoy (its own
# ports and .run/auto/, so `make run` may run beside it) with the canary
# filter in ECDS mode and Envoy's fault filter in front of pay-v2, a load
# generator, and `canaryctl auto` stepping the canary's weight and judging
# each step from Envoy's cluster stats.
#
#   make run-auto                   # unhealthy canary: 20% 503s, some slow; rolled back (exit 3)
#   make run-auto CANARY=healthy    # healthy canary: completed (exit 0)
#
# Environment: ENVOY, CANARY_WASM (the Makefile passes both), CANARYCTL
# (default target/release/canaryctl), CANARY=unhealthy|healthy, AUTO_ARGS
# (more canaryctl auto options, e.g. "--interval 10s"), AUTO_ADMIN_PORT,
# AUTO_FRONT_PORT, AUTO_PAY_V1_PORT, AUTO_PAY_V2_PORT (default 9911,
# 10010, 10011, 10012).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
# shellcheck source=lib.sh
source "$here/lib.sh"

fail() { echo "run-auto: $*" >&2; exit 1; }

: "${ENVOY:?set ENVOY to the Envoy binary (make run-auto does)}"
: "${CANARY_WASM:?set CANARY_WASM to the filter module (make build makes target/canary-filter.wasm)}"
canaryctl="${CANARYCTL:-$root/target/release/canaryctl}"
[ -x "$canaryctl" ] || fail "no canaryctl at $canaryctl; run make build"
canary="${CANARY:-unhealthy}"
admin_port="${AUTO_ADMIN_PORT:-9911}"
front_port="${AUTO_FRONT_PORT:-10010}"
v1_port="${AUTO_PAY_V1_PORT:-10011}"
v2_port="${AUTO_PAY_V2_PORT:-10012}"

case "$canary" in
  unhealthy)
    # 20% answered 503, 10% delayed by 200 ms.
    fault='{"@type": "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault", "abort": {"http_status": 503, "percentage": {"numerator": 20, "denominator": "HUNDRED"}}, "delay": {"fixed_delay": "0.2s", "percentage": {"numerator": 10, "denominator": "HUNDRED"}}}' ;;
  healthy)
    fault='{"@type": "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault"}' ;;
  *) fail "CANARY=$canary: unhealthy or healthy" ;;
esac

run_dir="$root/.run/auto"
rm -rf "$run_dir"
mkdir -p "$run_dir/ecds"
plugin="$run_dir/plugin.json"
cat >"$plugin" <<'JSON'
{"releases": [{"name": "pay", "hosts": ["pay-service", "localhost"], "header": "x-canary-cluster",
  "baseline": "pay-v1", "canary": "pay-v2", "weight": 0}]}
JSON
ecds_file="$run_dir/ecds/canary-filter.json"
write_ecds_file "$ecds_file" "$CANARY_WASM" "$plugin" "auto-$(date +%s)"
# The fault filter goes first in pay-v2's listener; histograms are merged
# every second, so each interval sees its own latencies.
{
  echo "stats_flush_interval: 1s"
  bootstrap_ecds "$admin_port" "$front_port" "$v1_port" "$v2_port" "$ecds_file" |
    awk -v fault="$fault" '
      /stat_prefix: pay-v2/ { in_v2 = 1 }
      { print }
      in_v2 && /http_filters:/ && !done {
        print "          - name: envoy.filters.http.fault"
        print "            typed_config: " fault
        done = 1
      }'
} >"$run_dir/envoy.yaml"

log="$run_dir/envoy.log"
"$ENVOY" -c "$run_dir/envoy.yaml" --disable-hot-restart --concurrency 2 -l warning >"$log" 2>&1 &
envoy_pid=$!
load_pid=""
cleanup() {
  trap - INT TERM EXIT
  [ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null || true
  kill "$envoy_pid" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for _ in $(seq 300); do
  kill -0 "$envoy_pid" 2>/dev/null || { tail -n 30 "$log" >&2; fail "Envoy exited during start-up; its log: $log"; }
  if (exec 3<>"/dev/tcp/127.0.0.1/$admin_port") 2>/dev/null; then break; fi
  sleep 0.1
done

# Load: four keep-alive clients, bounded in time (the run's deadline is less).
python3 - "$front_port" <<'PY' &
import http.client, sys, threading, time
port, end = int(sys.argv[1]), time.time() + 600
def client():
    conn = None
    while time.time() < end:
        try:
            conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/", headers={"Host": "pay-service"})
            conn.getresponse().read()
        except Exception:
            conn = None
            time.sleep(0.1)
        time.sleep(0.005)
threads = [threading.Thread(target=client, daemon=True) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
PY
load_pid=$!

echo "run-auto: Envoy (pid $envoy_pid, admin http://127.0.0.1:$admin_port) with a $canary canary; load on; running:"
cmd=("$canaryctl" auto "$ecds_file" pay --admin "http://127.0.0.1:$admin_port"
  --steps 10,25,50,100 --interval 5s --min-requests 50 --max-error-rate 1
  --max-p99-ms 100 --failure-limit 2 --deadline 3m)
# shellcheck disable=SC2206
cmd+=(${AUTO_ARGS:-})
echo "  ${cmd[*]}"
status=0
"${cmd[@]}" || status=$?
case "$status" in
  0) echo "run-auto: completed (exit 0)" ;;
  3) echo "run-auto: rolled back (exit 3)" ;;
  *) echo "run-auto: canaryctl auto failed (exit $status)" ;;
esac
exit "$status"
