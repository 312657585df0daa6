#!/usr/bin/env bash
# `make fuzz-smoke` (part of `make test`): every cargo-fuzz target for a
# short, bounded run from its seed corpus. A crash fails the run and leaves
# the input under fuzz/artifacts/<target>/. New inputs go to a work folder,
# never into the committed seeds.
#
#   fuzz/smoke.sh [TARGET...]        (default: config decide regex)
# Environment:
#   FUZZ_RUNS         executions per target (default 20000)
#   FUZZ_MAX_SECONDS  time bound per target (default 300; 0 = none)
#   FUZZ_WORK_DIR     keep the grown corpus here (default: a temporary folder)
# `make fuzz` runs the same with FUZZ_RUNS=10000000 and .run/fuzz as work dir.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.tools"
runs="${FUZZ_RUNS:-20000}"
max_seconds="${FUZZ_MAX_SECONDS:-300}"
cargo_fuzz_version="0.13.2"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(config decide regex)

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  # cargo-fuzz needs nightly for its sanitizer flags; install it only when
  # missing (a present one is never updated, so an offline machine works).
  echo "fuzz-smoke: installing the nightly Rust toolchain (cargo-fuzz needs it)" >&2
  if ! rustup toolchain install nightly --profile minimal >&2; then
    echo "fuzz-smoke: could not install nightly; install it with: rustup toolchain install nightly" >&2
    exit 1
  fi
fi
if ! "$tools/bin/cargo-fuzz" --version 2>/dev/null | grep -q " $cargo_fuzz_version\$"; then
  echo "fuzz-smoke: installing cargo-fuzz $cargo_fuzz_version into $tools" >&2
  cargo install cargo-fuzz --version "$cargo_fuzz_version" --locked --root "$tools"
fi
export PATH="$tools/bin:$PATH"

if [ -n "${FUZZ_WORK_DIR:-}" ]; then
  scratch="$FUZZ_WORK_DIR"
  mkdir -p "$scratch"
else
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
fi
cd "$root"
for target in "${targets[@]}"; do
  options=(-runs="$runs" -max_total_time="$max_seconds" -print_final_stats=1)
  [ -f "fuzz/$target.dict" ] && options+=(-dict="fuzz/$target.dict")
  mkdir -p "$scratch/$target"
  echo "fuzz-smoke: $target, $runs runs"
  if ! cargo +nightly fuzz run "$target" "$scratch/$target" "fuzz/corpus/$target" -- "${options[@]}" \
      >"$scratch/$target.log" 2>&1; then
    tail -n 40 "$scratch/$target.log" >&2
    echo "fuzz-smoke: $target FAILED; the input that failed is under fuzz/artifacts/$target/" >&2
    exit 1
  fi
  grep -E '^Done [0-9]+ runs|^stat::(number_of_executed_units|average_exec_per_sec)' \
    "$scratch/$target.log" | sed "s/^/fuzz-smoke: $target: /"
done
