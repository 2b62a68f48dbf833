#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Line and branch coverage of lib/: a build with -Db_coverage=true
# (build-cov), the cmocka unit tests and the pytest end-to-end tests run
# against it, then gcovr's report of lib/ (per file, lowest first, and the
# totals). E2E=0 runs the unit tests only. The last line is the summary.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=/usr/bin/python3
dir=build-cov
[ -f $dir/build.ninja ] || meson setup $dir -Db_coverage=true
ninja -C $dir
# Counts from this run only.
find $dir -name '*.gcda' -delete
meson test -C $dir --suite unit --print-errorlogs
what="unit tests"
if [ "${E2E:-1}" != 0 ]; then
  # vigia drops root to nobody after opening its raw sockets, and then
  # still has to write its counts at exit: make every counts file first
  # (one run as root writes them all) and let anyone write them.
  $dir/vigia --version > /dev/null
  find $dir -name '*.gcda' -exec chmod a+rw {} +
  # test_wan_paths.py judges how the scan classified a path (random loss or
  # congestion); the instrumented binary is slow enough to make its own
  # receive path look congested, so that file runs in the other stages only.
  env VIGIA="$PWD/$dir/vigia" $PYTHON -m pytest -q -p no:cacheprovider tests/e2e \
    --deselect tests/e2e/test_wan_paths.py
  what="unit + end-to-end tests"
fi
gcov_args=(-r . --object-directory "$dir" --filter 'lib/' -j 2)
# gcovr's table, rows reversed (gcovr sorts best covered first) and the
# list of missed lines cut off.
lowest_first() {
  gcovr "${gcov_args[@]}" --sort-percentage "$@" | awk '
    /^---/ {sep++; if (sep == 4) {for (i = n; i >= 1; i--) print row[i]}; print; next}
    sep == 3 {row[++n] = substr($0, 1, 64); next}
    {print substr($0, 1, 64)}'
}
echo "== line coverage of lib/ ($what), lowest first"
lowest_first
echo "== branch coverage of lib/, lowest first"
lowest_first --branches
# The report itself goes to a scratch file: gcovr replaces its output file,
# and replacing /dev/null would leave a regular file in its place.
scratch=$(mktemp)
gcovr "${gcov_args[@]}" --print-summary -o "$scratch" | awk -v what="$what" '
  /^lines:/ {l = $2 " (" substr($3, 2) "/" $6}
  /^branches:/ {b = $2 " (" substr($3, 2) "/" $6}
  END {printf "coverage of lib/ (%s): lines %s, branches %s\n", what, l, b}'
rm -f "$scratch"
