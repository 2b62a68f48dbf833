#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The whole test suite: installs what is missing, builds, runs the cmocka
# unit tests (also under Valgrind) and the pytest end-to-end tests, then
# both again against an ASan/UBSan build, then a short libFuzzer run of
# every parser, then both suites once more against a coverage build for
# gcovr's report of lib/ (scripts/coverage.sh). Exits non-zero if anything
# fails; the last lines count what passed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
PYTHON=/usr/bin/python3
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT

# Runs a stage, shows its output, and keeps its summary line for the end.
stage() { # stage NAME PATTERN COMMAND...
  local name=$1 pattern=$2 log
  shift 2
  echo "== $name"
  log=$(mktemp)
  set +e
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  set -e
  printf '%-34s %s\n' "$name:" "$(grep -E "$pattern" "$log" | tail -n 1 | sed 's/^=* *//; s/ *=*$//')" >> "$summary"
  rm -f "$log"
  if [ "$rc" -ne 0 ]; then
    echo "== FAILED: $name"
    cat "$summary"
    exit "$rc"
  fi
}
meson_counts() { # meson test, then one line: programs and cmocka test cases
  local dir=$2 rc=0
  meson test "$@" --print-errorlogs || rc=$?
  awk '/^\[  PASSED  \] [0-9]+ test/ {p += $4} /^\[  FAILED  \] [0-9]+ test/ {f += $4}
       END {printf "cmocka: %d test cases passed, %d failed\n", p, f}' \
    "$dir/meson-logs/testlog.txt"
  return $rc
}

echo "== build"
[ -f build/build.ninja ] || meson setup build
ninja -C build
stage "dependency cycles between object files" "^object files" \
  /usr/bin/python3 scripts/depcycles.py --max 4 build
stage "unit tests (cmocka)" "^cmocka:" meson_counts -C build --suite unit
stage "unit tests under Valgrind" "^cmocka:" meson_counts -C build --suite unit \
  --wrapper "valgrind --error-exitcode=1 --leak-check=full --quiet" \
  --timeout-multiplier 10 --logbase testlog
stage "end-to-end tests (pytest)" "passed|failed" \
  env VIGIA="$PWD/build/vigia" $PYTHON -m pytest -q -p no:cacheprovider tests/e2e

echo "== ASan/UBSan build"
[ -f build-asan/build.ninja ] || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false
ninja -C build-asan
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
stage "unit tests under ASan/UBSan" "^cmocka:" meson_counts -C build-asan --suite unit
stage "end-to-end tests under ASan/UBSan" "passed|failed" \
  env VIGIA="$PWD/build-asan/vigia" VGLINK="$PWD/build-asan/vglink" VIGIA_SANITIZED=1 $PYTHON -m pytest -q -p no:cacheprovider tests/e2e
stage "fuzz smoke run (libFuzzer)" "no crashes|crashed" \
  env FUZZ_SECONDS="${FUZZ_SECONDS:-5}" tests/fuzz/run.sh
# A plain build again, without the sanitizers' environment.
unset ASAN_OPTIONS UBSAN_OPTIONS
stage "coverage of lib/ (gcovr)" "^coverage of lib/" scripts/coverage.sh

echo
echo "== summary"
cat "$summary"
echo "== all tests passed"
