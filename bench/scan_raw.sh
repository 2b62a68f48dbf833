#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark of the raw SYN engine: all 65,535 TCP ports of one host in a
# network namespace, scanned from another namespace over a veth pair, by
# `vigia scan -sS`, `nmap -sS -n -Pn` and `masscan` (one run each). The
# target has listeners (open), an nftables drop rule on a set of ports
# (filtered) and nothing on the rest (closed). Prints a Markdown table: wall
# time, probes/s, open found / truth, filtered found / truth, peak RSS.
#
# Everything happens inside two namespaces this script creates and removes
# (198.18.0.0/24, no route out). Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
VIGIA=${VIGIA:-./build/vigia}
MASSCAN_RATES=${MASSCAN_RATES:-100000 1000000}

[ "$(id -u)" -eq 0 ] || { echo "scan_raw.sh: needs root (namespaces, raw sockets)" >&2; exit 1; }
need=()
command -v nmap >/dev/null || need+=(nmap)
command -v masscan >/dev/null || need+=(masscan)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
[ -x "$VIGIA" ] || make >/dev/null

S=vgbench$$s T=vgbench$$t VS=vbs$$ VT=vbt$$
SRC=198.18.0.1 DST=198.18.0.2
tmp=$(mktemp -d)
lpid=
cleanup() {
  [ -n "$lpid" ] && kill "$lpid" 2>/dev/null || true
  ip netns del "$S" 2>/dev/null || true
  ip netns del "$T" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

ip netns add "$S"
ip netns add "$T"
ip link add "$VS" netns "$S" type veth peer name "$VT" netns "$T"
ip -n "$S" addr add "$SRC/24" dev "$VS"
ip -n "$T" addr add "$DST/24" dev "$VT"
for ns in "$S" "$T"; do ip -n "$ns" link set lo up; done
ip -n "$S" link set "$VS" up
ip -n "$T" link set "$VT" up
if [ -n "$(ip -n "$S" route show default)" ]; then echo "unexpected default route" >&2; exit 1; fi

# Truth: 30 open ports spread over the range, 200 dropped ones.
/usr/bin/python3 - "$tmp" <<'PY'
import random, sys
rnd = random.Random(20260)
ports = rnd.sample(range(2, 65535), 228)
open_ = sorted(ports[:28] + [1, 65535])
drop = sorted(ports[28:])
open(sys.argv[1] + "/open.truth", "w").write("\n".join(map(str, open_)) + "\n")
open(sys.argv[1] + "/filtered.truth", "w").write("\n".join(map(str, drop)) + "\n")
PY
ip netns exec "$T" /usr/bin/python3 - "$DST" $(cat "$tmp/open.truth") <<'PY' &
import socket, sys, time
socks = []
for p in sys.argv[2:]:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[1], int(p)))
    s.listen(1024)
    socks.append(s)
time.sleep(900)
PY
lpid=$!
ip netns exec "$T" nft -f - <<EOF
table inet bench {
  chain input {
    type filter hook input priority 0; policy accept;
    tcp dport { $(paste -sd, "$tmp/filtered.truth") } drop
  }
}
EOF
sleep 0.5
ip netns exec "$S" ping -c 1 -W 1 "$DST" >/dev/null
MAC=$(ip -n "$T" link show "$VT" | awk '/link\/ether/ {print $2}')

count_common() { comm -12 "$1" "$2" | wc -l; }
row() { # name wall rss sent open_file filtered_file
  local name=$1 wall=$2 rss=$3 sent=$4 of=$5 ff=$6 pps found ftxt
  pps=$(awk -v s="$sent" -v w="$wall" 'BEGIN { printf "%.0f", (w > 0 ? s / w : 0) }')
  found="$(count_common "$of" "$tmp/open.truth")/$(wc -l < "$tmp/open.truth")"
  [ "$(wc -l < "$of")" -eq "$(count_common "$of" "$tmp/open.truth")" ] || found="$found (+$(($(wc -l < "$of") - $(count_common "$of" "$tmp/open.truth"))) wrong)"
  if [ -n "$ff" ]; then
    ftxt="$(count_common "$ff" "$tmp/filtered.truth")/$(wc -l < "$tmp/filtered.truth")"
  else
    ftxt="n/a (reports open only)"
  fi
  printf '| %s | %.2f s | %s | %s | %s | %.1f MB |\n' "$name" "$wall" "$pps" "$found" "$ftxt" \
    "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')"
}

echo "| tool | wall | probes/s | open found / truth | filtered found / truth | peak RSS |"
echo "|---|---|---|---|---|---|"

# vigia
ip netns exec "$S" /usr/bin/time -f "%e %M" -o "$tmp/t" "$VIGIA" scan -q -sS -p- "$DST" \
  -o ndjson="$tmp/v.ndjson" >/dev/null
read -r wall rss < "$tmp/t"
grep '"type":"port"' "$tmp/v.ndjson" | grep '"state":"open"' | sed 's/.*"port":\([0-9]*\).*/\1/' | sort > "$tmp/v.open"
grep '"type":"port"' "$tmp/v.ndjson" | grep '"state":"filtered"' | sed 's/.*"port":\([0-9]*\).*/\1/' | sort > "$tmp/v.filt"
sent=$(grep '"type":"summary"' "$tmp/v.ndjson" | sed 's/.*"probes_sent":\([0-9]*\).*/\1/')
sort -o "$tmp/open.truth" "$tmp/open.truth"
sort -o "$tmp/filtered.truth" "$tmp/filtered.truth"
row "vigia -sS" "$wall" "$rss" "$sent" "$tmp/v.open" "$tmp/v.filt"

# nmap (default timing, then -T4)
for t in "" "-T4"; do
  ip netns exec "$S" /usr/bin/time -f "%e %M" -o "$tmp/t" nmap -sS -n -Pn $t -p- "$DST" \
    -oG "$tmp/n.gnmap" -oX "$tmp/n.xml" >/dev/null
  read -r wall rss < "$tmp/t"
  grep -o '[0-9]*/open/' "$tmp/n.gnmap" | cut -d/ -f1 | sort > "$tmp/n.open"
  # nmap folds a state with many ports into "Not shown"; its XML lists them.
  /usr/bin/python3 - "$tmp/n.xml" > "$tmp/n.filt" <<'PY'
import sys, xml.etree.ElementTree as ET
ports = set()
for p in ET.parse(sys.argv[1]).iter("port"):
    if p.find("state").get("state") == "filtered":
        ports.add(int(p.get("portid")))
for e in ET.parse(sys.argv[1]).iter("extraports"):
    if e.get("state") != "filtered":
        continue
    for r in e.iter("extrareasons"):
        for part in (r.get("ports") or "").split(","):
            if "-" in part:
                a, b = part.split("-")
                ports.update(range(int(a), int(b) + 1))
            elif part:
                ports.add(int(part))
print("\n".join(str(p) for p in sorted(ports)))
PY
  sort -o "$tmp/n.filt" "$tmp/n.filt"
  # nmap does not say how many probes it sent: 65535 is a lower bound.
  row "nmap -sS $t" "$wall" "$rss" 65535 "$tmp/n.open" "$tmp/n.filt"
done

# masscan: it needs the peer's MAC in a namespace; --wait 2 instead of the
# default 10 s it waits after the last packet. Two rates: its default
# ceiling and a tenth of it.
mpps_all=""
for rate in $MASSCAN_RATES; do
  ip netns exec "$S" /usr/bin/time -f "%e %M" -o "$tmp/t" masscan -p1-65535 "$DST" \
    --rate "$rate" --router-mac "$MAC" -e "$VS" --wait 2 -oL "$tmp/m.list" \
    >/dev/null 2>"$tmp/m.err" || true
  read -r wall rss < "$tmp/t"
  awk '$1 == "open" { print $3 }' "$tmp/m.list" | sort > "$tmp/m.open"
  # masscan's own rate line is the best measure of its send rate.
  mpps=$(tr '\r' '\n' < "$tmp/m.err" | grep -o 'rate: *[0-9.]*-kpps' | sed 's/rate: *//; s/-kpps//' \
    | sort -n | tail -1)
  mpps_all="$mpps_all ${mpps:-?} kpps at --rate $rate;"
  row "masscan --rate $rate --wait 2" "$wall" "$rss" 65535 "$tmp/m.open" ""
done
# The path's ceiling: the same scan with the drop rule removed, so that
# every probe is answered at once and nothing waits for a timeout: how fast
# the veth pair and the two kernels turn SYNs into SYN-ACK/RST on this box.
ip netns exec "$T" nft flush ruleset
ip netns exec "$S" /usr/bin/time -f "%e %M" -o "$tmp/t" "$VIGIA" scan -q -sS -p- "$DST" \
  -o ndjson="$tmp/c.ndjson" >/dev/null
read -r wall rss < "$tmp/t"
cel=$(grep '"type":"summary"' "$tmp/c.ndjson" | sed 's/.*"elapsed_s":\([0-9.]*\).*/\1/')
cpps=$(awk -v w="$cel" 'BEGIN { printf "%.0f", (w > 0 ? 65535 / w : 0) }')
echo
echo "Path ceiling (drop rule removed, every probe answered): vigia sends and settles all 65535"
echo "probes in ${cel} s of scanning = ${cpps} probes/s (${wall} s wall with start-up)."
echo "masscan's own peak send rate:$mpps_all its wall time includes --wait 2 (and its start-up)."
echo "Machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo), kernel $(uname -r);" \
  "vigia $("$VIGIA" --version 2>/dev/null | head -1 || echo '?'), $(nmap --version | head -1), $(masscan --version 2>/dev/null | grep -o 'version [0-9.]*' | head -1 || true)."
