#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# First command of the README: installs what is missing, builds build/vigia,
# and runs the built-in demo (listeners on loopback, scanned).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
[ -f build/build.ninja ] || meson setup build
ninja -C build
./build/vigia demo
