#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds every libFuzzer target (tests/fuzz/meson.build) with clang, ASan and
# UBSan in build-fuzz/, and runs each for FUZZ_SECONDS (default 10) from its
# seed corpus in tests/fuzz/corpus/NAME/. Exits non-zero on the first crash.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-10}
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined \
    -Db_lundef=false -Dwerror=false -Dbuildtype=debugoptimized >/dev/null
fi
ninja -C build-fuzz >/dev/null
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
for bin in build-fuzz/tests/fuzz/fuzz_*; do
  [ -f "$bin" ] && [ -x "$bin" ] || continue
  name=$(basename "$bin")
  corpus=tests/fuzz/corpus/${name#fuzz_}
  work=$(mktemp -d)
  cp "$corpus"/* "$work"/ 2>/dev/null || true
  echo "fuzz: $name for ${secs}s"
  if ! "$bin" -max_total_time="$secs" -max_len=65536 -print_final_stats=0 \
      -artifact_prefix="$work/" "$work" > "$work/log" 2>&1; then
    tail -n 40 "$work/log"
    echo "fuzz: $name crashed; the input is in $work" >&2
    exit 1
  fi
  tail -n 1 "$work/log"
  rm -rf "$work"
done
echo "fuzz: no crashes"
