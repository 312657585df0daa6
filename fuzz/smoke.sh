#!/usr/bin/env bash
# `make fuzz-smoke` (part of `make test`): every cargo-fuzz target for a
# short, bounded run from its seed corpus. New inputs go to a scratch folder,
# never into the committed seeds; a crash fails the run and leaves the input
# under fuzz/artifacts/<target>/.
#
# Environment: FUZZ_RUNS executions per target (default 20000).
# Long runs: `make fuzz` (see the Makefile) or
#   cargo +nightly fuzz run <target> <scratch-dir> fuzz/corpus/<target> -- -runs=10000000
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.tools"
runs="${FUZZ_RUNS:-20000}"
cargo_fuzz_version="0.13.2"
targets=(config decide regex)

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "fuzz-smoke: the nightly Rust toolchain is missing; cargo-fuzz needs it for its sanitizer flags." >&2
  echo "fuzz-smoke: install it with: rustup toolchain install nightly" >&2
  exit 1
fi
if ! "$tools/bin/cargo-fuzz" --version 2>/dev/null | grep -q " $cargo_fuzz_version\$"; then
  echo "fuzz-smoke: installing cargo-fuzz $cargo_fuzz_version into $tools" >&2
  cargo install cargo-fuzz --version "$cargo_fuzz_version" --locked --root "$tools"
fi
export PATH="$tools/bin:$PATH"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cd "$root"
for target in "${targets[@]}"; do
  options=(-runs="$runs" -max_total_time=300)
  [ -f "fuzz/$target.dict" ] && options+=(-dict="fuzz/$target.dict")
  mkdir -p "$scratch/$target"
  echo "fuzz-smoke: $target, $runs runs"
  if ! cargo +nightly fuzz run "$target" "$scratch/$target" "fuzz/corpus/$target" -- "${options[@]}" \
      >"$scratch/$target.log" 2>&1; then
    tail -n 40 "$scratch/$target.log" >&2
    echo "fuzz-smoke: $target FAILED; the input that failed is under fuzz/artifacts/$target/" >&2
    exit 1
  fi
  grep -E '^Done [0-9]+ runs' "$scratch/$target.log" | sed "s/^/fuzz-smoke: $target: /"
done
