#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark: all 65,535 TCP ports of 127.0.0.1 with some listeners, scanned
# by `vigia scan` (connect engine) and by `nmap -sT -n -Pn`. Checks that both
# find exactly the listeners, and prints wall time, probes/s and peak RSS of
# each (median of RUNS runs) as a Markdown table. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
VIGIA=${VIGIA:-./build/vigia}

need=()
command -v nmap >/dev/null || need+=(nmap)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
[ -x "$VIGIA" ] || make >/dev/null

tmp=$(mktemp -d)
cleanup() { [ -n "${lpid:-}" ] && kill "$lpid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

# 25 listeners on kernel-chosen ports (spread over the ephemeral range)
# plus a few low ports when free; they live until the benchmark ends.
/usr/bin/python3 - "$tmp/ports" <<'PY' &
import socket, sys, time
socks = []
for want in [0] * 25 + [2222, 8080, 9000, 31337, 65535]:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", want))
    except OSError:
        continue
    s.listen(64)
    socks.append(s)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("\n".join(str(s.getsockname()[1]) for s in socks) + "\n")
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(600)
PY
lpid=$!
for _ in $(seq 50); do [ -f "$tmp/ports" ] && break; sleep 0.1; done
# The truth: whatever listens on 127.0.0.1 (our listeners and any other
# server), read just before and just after each run; a scanner is exact
# when it finds all of the ports listening throughout the run and nothing
# that was not listening at one of the two readings.
listening() {
  ss -Htln | awk '{print $4}' | grep -E '^(127\.0\.0\.1|0\.0\.0\.0|\*|\[::\]):' |
    sed 's/.*://' | sort -u
}
exact() { # exact FOUND BEFORE AFTER
  comm -12 "$2" "$3" > "$tmp/both"; sort -u "$2" "$3" > "$tmp/either"
  [ -z "$(comm -23 "$tmp/both" "$1")" ] && [ -z "$(comm -23 "$1" "$tmp/either")" ]
}

load=$(cut -d' ' -f1 /proc/loadavg)
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

run_vigia() {
  /usr/bin/time -f "%e %M" -o "$tmp/t" "$VIGIA" scan -p- 127.0.0.1 -q -o ndjson="$tmp/v.ndjson" >/dev/null
  cat "$tmp/t"
  grep '"state":"open"' "$tmp/v.ndjson" | sed 's/.*"port":\([0-9]*\).*/\1/' | sort > "$tmp/v.open"
}
run_nmap() {
  /usr/bin/time -f "%e %M" -o "$tmp/t" nmap -sT -n -Pn -p- 127.0.0.1 -oG "$tmp/n.gnmap" >/dev/null
  cat "$tmp/t"
  grep -o '[0-9]*/open/' "$tmp/n.gnmap" | cut -d/ -f1 | sort > "$tmp/n.open"
}

: > "$tmp/vt"; : > "$tmp/vm"; : > "$tmp/nt"; : > "$tmp/nm"
vok=0; nok=0
for i in $(seq "$RUNS"); do
  listening | sort > "$tmp/before"
  read -r t m < <(run_vigia); echo "$t" >> "$tmp/vt"; echo "$m" >> "$tmp/vm"
  listening | sort > "$tmp/after"
  exact "$tmp/v.open" "$tmp/before" "$tmp/after" && vok=$((vok + 1))
  listening | sort > "$tmp/before"
  read -r t m < <(run_nmap); echo "$t" >> "$tmp/nt"; echo "$m" >> "$tmp/nm"
  listening | sort > "$tmp/after"
  exact "$tmp/n.open" "$tmp/before" "$tmp/after" && nok=$((nok + 1))
done
vt=$(median < "$tmp/vt"); nt=$(median < "$tmp/nt")
vm=$(median < "$tmp/vm"); nm=$(median < "$tmp/nm")
same=no; cmp -s "$tmp/v.open" "$tmp/n.open" && same=yes
ratio=$(awk -v a="$nt" -v b="$vt" 'BEGIN {printf "%.2f", a / b}')
vpps=$(awk -v t="$vt" 'BEGIN {printf "%.0f", 65535 / t}')
npps=$(awk -v t="$nt" 'BEGIN {printf "%.0f", 65535 / t}')

echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r)"
echo "Scan: 127.0.0.1, ports 1-65535, $(listening | wc -l) listening; median of $RUNS runs; load average before: $load"
echo
echo "| scanner | wall time (s) | ports/s | peak RSS (KiB) | runs with exactly the open ports |"
echo "|---|---|---|---|---|"
echo "| vigia scan --connect -p- | $vt | $vpps | $vm | $vok/$RUNS |"
echo "| nmap -sT -n -Pn -p- | $nt | $npps | $nm | $nok/$RUNS |"
echo
echo "vigia is ${ratio}x faster; both found the same open ports: $same"
