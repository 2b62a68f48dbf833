#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The whole test suite: installs what is missing, builds, runs the cmocka
# unit tests and the pytest end-to-end tests, then both again against an
# ASan/UBSan build. Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
PYTHON=/usr/bin/python3

echo "== build"
[ -f build/build.ninja ] || meson setup build
ninja -C build

echo "== unit tests (cmocka)"
meson test -C build --suite unit --print-errorlogs

echo "== end-to-end tests (pytest)"
VIGIA="$PWD/build/vigia" $PYTHON -m pytest -q -p no:cacheprovider tests/e2e

echo "== ASan/UBSan build"
[ -f build-asan/build.ninja ] || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false
ninja -C build-asan
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
echo "== unit tests under ASan/UBSan"
meson test -C build-asan --suite unit --print-errorlogs
echo "== end-to-end tests under ASan/UBSan"
VIGIA="$PWD/build-asan/vigia" VIGIA_SANITIZED=1 $PYTHON -m pytest -q -p no:cacheprovider tests/e2e
echo "== fuzz smoke run (libFuzzer, ${FUZZ_SECONDS:-5}s per parser)"
FUZZ_SECONDS=${FUZZ_SECONDS:-5} tests/fuzz/run.sh
echo "== all tests passed"
