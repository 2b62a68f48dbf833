#!/bin/sh
# SPDX-License-Identifier: MIT
# Regenerates the CHECK OPTIONS list of docs/vigia.1 from the option tables
# (`vigia --help-man`): the lines between the BEGIN and END markers are
# replaced. Usage: scripts/gen-man.sh [path/to/vigia]
set -eu
VIGIA=${1:-build/vigia}
MAN=docs/vigia.1
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
GEN=$("$VIGIA" --help-man) awk '
    /^\.\\" BEGIN GENERATED/ { print; print ENVIRON["GEN"]; skip = 1; next }
    /^\.\\" END GENERATED/ { skip = 0 }
    !skip { print }
' "$MAN" > "$tmp"
cat "$tmp" > "$MAN"
