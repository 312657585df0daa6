#!/usr/bin/env bash
# `make stop`: ends an Envoy that run.sh started in the background.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
pid_file="$root/.run/envoy.pid"
if [ ! -f "$pid_file" ]; then
  echo "stop: nothing to stop (no $pid_file)"
  exit 0
fi
pid="$(cat "$pid_file")"
# Only ever the Envoy run.sh started: its command line names .run/envoy.yaml.
if ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$root/.run/envoy.yaml"; then
  echo "stop: pid $pid is no longer run.sh's Envoy; removing the stale $pid_file"
  rm -f "$pid_file"
  exit 0
fi
kill "$pid"
for _ in $(seq 100); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
  echo "stop: Envoy (pid $pid) ignored SIGTERM for 10 s; sending SIGKILL" >&2
  kill -KILL "$pid"
fi
rm -f "$pid_file"
echo "stop: stopped Envoy (pid $pid)"
