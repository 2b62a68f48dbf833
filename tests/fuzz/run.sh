#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds every libFuzzer target in this folder with clang (ASan + UBSan) and
# runs each for FUZZ_SECONDS (default 10) from its seed corpus. Exits
# non-zero on the first crash. Needs clang and its fuzzer runtime.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-10}
out=build-fuzz
mkdir -p "$out"
lib_srcs=(lib/util/error.c lib/util/addr.c lib/target/*.c lib/ports/*.c lib/output/*.c lib/engine/states.c)
for f in tests/fuzz/fuzz_*.c; do
  name=$(basename "$f" .c)
  clang -g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined -Iinclude -Ilib -I"$out" \
    "$f" "${lib_srcs[@]}" -lcares -o "$out/$name"
  corpus=tests/fuzz/corpus/${name#fuzz_}
  work=$(mktemp -d)
  cp "$corpus"/* "$work"/ 2>/dev/null || true
  echo "fuzz: $name for ${secs}s"
  "$out/$name" -max_total_time="$secs" -max_len=4096 -print_final_stats=0 \
    "$work" 2>&1 | tail -n 2
  rm -rf "$work"
done
echo "fuzz: no crashes"
