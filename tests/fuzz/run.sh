#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds every libFuzzer target (tests/fuzz/meson.build) with clang, ASan and
# UBSan in build-fuzz/, and runs each from its seed corpus in
# tests/fuzz/corpus/NAME/ (every file there, regression inputs of fixed
# crashes included, runs first). Exits non-zero on the first crash.
#   FUZZ_SECONDS  seconds per target (default 10)
#   FUZZ_RUNS     executions per target instead (libFuzzer -runs=N)
#   FUZZ_TARGETS  names to run (default: every built target), e.g. "smtp dnsanswer"
#   FUZZ_LOG_DIR  keep each target's libFuzzer log (with its final stats) here
# One target at a time, one job, one worker: the machine is shared.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-10}
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined \
    -Db_lundef=false -Dwerror=false -Dbuildtype=debugoptimized >/dev/null
fi
ninja -C build-fuzz -j2 >/dev/null
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
if [ -n "${FUZZ_RUNS:-}" ]; then
  limit=(-runs="$FUZZ_RUNS")
  what="$FUZZ_RUNS runs"
else
  limit=(-max_total_time="$secs")
  what="${secs}s"
fi
if [ -n "${FUZZ_TARGETS:-}" ]; then
  bins=()
  for t in $FUZZ_TARGETS; do bins+=("build-fuzz/tests/fuzz/fuzz_${t#fuzz_}"); done
else
  # The targets, not meson's fuzz_NAME.p object directories beside them.
  bins=()
  for b in build-fuzz/tests/fuzz/fuzz_*; do
    [ -d "$b" ] || bins+=("$b")
  done
fi
[ -n "${FUZZ_LOG_DIR:-}" ] && mkdir -p "$FUZZ_LOG_DIR"
n=0
for bin in "${bins[@]}"; do
  [ -f "$bin" ] && [ -x "$bin" ] || { echo "fuzz: no target $bin" >&2; exit 1; }
  name=$(basename "$bin")
  corpus=tests/fuzz/corpus/${name#fuzz_}
  [ -d "$corpus" ] || { echo "fuzz: $name has no seed corpus $corpus" >&2; exit 1; }
  work=$(mktemp -d)
  cp "$corpus"/* "$work"/ 2>/dev/null || true
  echo "fuzz: $name for $what"
  # From inside $work: with -jobs libFuzzer writes its job log (fuzz-0.log)
  # to the current directory.
  if ! (cd "$work" && "$OLDPWD/$bin" "${limit[@]}" -max_len=65536 -jobs=1 -workers=1 \
      -print_final_stats=1 -artifact_prefix="$work/" "$work" > "$work/log" 2>&1); then
    tail -n 40 "$work/log"
    echo "fuzz: $name crashed; the input is in $work" >&2
    exit 1
  fi
  grep -E '^Done [0-9]+ runs' "$work/log" | tail -n 1
  [ -n "${FUZZ_LOG_DIR:-}" ] && cp "$work/log" "$FUZZ_LOG_DIR/$name.log"
  rm -rf "$work"
  n=$((n + 1))
done
echo "fuzz: $n targets, no crashes"
