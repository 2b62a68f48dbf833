#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Accuracy and speed over emulated WAN links (bench/lab/wanlab.sh): for each
# scenario, vigia --syn and --connect, nmap -sS and -sT, masscan (and zmap
# for the wide scenarios) scan the lab's target from the scanner namespace.
# One Markdown table per scenario: wall time, open found / truth, false
# open, filtered found / truth, ports wrongly called filtered, probes/s and
# the relay's counters during the run.
#
#   bench/scan_wan.sh                      # every scenario
#   bench/scan_wan.sh rtt50 cap50k         # only these
#   RUNS=3 TOOLS="vigia-syn nmap-syn" bench/scan_wan.sh loss5
#
# Environment: VIGIA (binary, default build/vigia), RUNS (default 1),
# TOOLS (subset of: vigia-syn vigia-connect vigia-syn-pn vigia-syn-disc
# nmap-syn nmap-connect masscan zmap; the -pn and -disc variants and zmap
# run on the wide scenarios only), PORTS (default 1-65535), N_OPEN / N_FILTERED (default 300 / 3000),
# SEED (default 1), NMAP_LIMIT (s per nmap run, default 600), TOOL_LIMIT
# (s per other run, default 900), MASSCAN_RATE (default 100000).
#
# Everything runs inside the lab's two namespaces (198.18.0.0/15 and
# 2001:db8::/32, no route out), which are removed on exit. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
VIGIA=${VIGIA:-./build/vigia}
VIGIA=$(realpath "$VIGIA")
RUNS=${RUNS:-1}
TOOLS=${TOOLS:-vigia-syn vigia-connect vigia-syn-pn vigia-syn-disc nmap-syn nmap-connect masscan zmap}
PORTS=${PORTS:-1-65535}
N_OPEN=${N_OPEN:-300}
N_FILTERED=${N_FILTERED:-3000}
SEED=${SEED:-1}
NMAP_LIMIT=${NMAP_LIMIT:-600}
TOOL_LIMIT=${TOOL_LIMIT:-900}
MASSCAN_RATE=${MASSCAN_RATE:-100000}
REPORT=bench/lab/wanlab_report.py

[ "$(id -u)" -eq 0 ] || { echo "scan_wan.sh: needs root (namespaces, TAP, raw sockets)" >&2; exit 1; }
need=()
command -v nmap >/dev/null || need+=(nmap)
command -v masscan >/dev/null || need+=(masscan)
command -v zmap >/dev/null || need+=(zmap)
command -v nft >/dev/null || need+=(nftables)
if [ ${#need[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
[ -x "$VIGIA" ] && [ -x build/vglink ] || make >/dev/null

# shellcheck source=lab/wanlab.sh
source bench/lab/wanlab.sh
# A whole scenario (five tools, nmap up to NMAP_LIMIT each) must fit in the
# relay's and listener's lifetime.
export WL_MAX_SECONDS=$(( (2 * NMAP_LIMIT + 4 * TOOL_LIMIT + 300) * RUNS ))

if [ $# -gt 0 ]; then scenarios=("$@"); else mapfile -t scenarios < <(wanlab_scenarios); fi

has_tool() { case " $TOOLS " in *" $1 "*) return 0 ;; esac; return 1; }

# run_tool NAME KIND LIMIT OUT CMD...: runs CMD in the scanner namespace
# under `timeout LIMIT`, then prints its table row.
run_tool() {
  local name=$1 kind=$2 limit=$3 out=$4 before after p0 p1 t0 t1 rc=0 wide=() d0 d1
  shift 4
  [ "$WL_WIDE" = 1 ] && wide=(--wide)
  rm -f "$out"
  before=$(wanlab_stats)
  p0=$(wanlab_link_packets)
  d0=$(wanlab_tap_drops)
  t0=$(date +%s.%N)
  timeout "$limit" ip netns exec "$WL_S" "$@" >"$out.stdout" 2>"$out.stderr" || rc=$?
  t1=$(date +%s.%N)
  sleep 1 # late answers still crossing the relay belong to this run
  after=$(wanlab_stats)
  p1=$(wanlab_link_packets)
  d1=$(wanlab_tap_drops)
  "$WL_PY" "$REPORT" row --tool "$name" --kind "$kind" --out "$out" --truth "$WL_DIR" "${wide[@]}" \
    --wall "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" --link-packets $((p1 - p0)) \
    --before "$before" --after "$after" --tap-drops "$d0 $d1" --limit "$limit" --rc "$rc"
  sleep 1
}

for sc in "${scenarios[@]}"; do
  wanlab_up "$sc" "$PORTS" "$N_OPEN" "$N_FILTERED" "$SEED"
  if [ "$WL_WIDE" = 1 ]; then
    tgt=198.19.0.0/16 tports=80
    truth="$(wc -l <"$WL_DIR/open_hosts.truth") hosts open on port 80, $(wc -l <"$WL_DIR/rst_hosts.truth") answer RST, the other $((65536 - $(cat "$WL_DIR"/open_hosts.truth "$WL_DIR"/rst_hosts.truth | wc -l))) drop"
  else
    tgt=198.18.0.2 tports=$PORTS
    truth="ports $PORTS of 198.18.0.2: $(wc -l <"$WL_DIR/open.truth") open, $(wc -l <"$WL_DIR/filtered.truth") dropped, the rest closed"
  fi
  echo
  echo "### $sc — link: $(awk -v s="$sc" '$1 == s { print $2 }' bench/lab/scenarios.tsv) $WL_SPEC (each way); $truth"
  echo
  "$WL_PY" "$REPORT" header
  for ((run = 1; run <= RUNS; run++)); do
    sfx=""
    [ "$RUNS" -gt 1 ] && sfx=" (run $run)"
    o=$WL_DIR/out
    has_tool vigia-syn && run_tool "vigia --syn$sfx" vigia "$TOOL_LIMIT" "$o.vs" \
      "$VIGIA" scan -q --syn -p "$tports" "$tgt" -o ndjson="$o.vs"
    has_tool vigia-connect && run_tool "vigia --connect$sfx" vigia "$TOOL_LIMIT" "$o.vc" \
      "$VIGIA" scan -q --connect -p "$tports" "$tgt" -o ndjson="$o.vc"
    # The wide scenarios: by default port answers are proof of life (no
    # discovery first); also with -Pn, and with discovery first (five
    # ports per host make discovery the cheaper way; only port 80 counts).
    if [ "$WL_WIDE" = 1 ]; then
      has_tool vigia-syn-pn && run_tool "vigia --syn -Pn$sfx" vigia "$TOOL_LIMIT" "$o.vp" \
        "$VIGIA" scan -q --syn -Pn -p "$tports" "$tgt" -o ndjson="$o.vp"
      has_tool vigia-syn-disc && run_tool "vigia --syn -p 80-84 (discovery first)$sfx" vigia \
        "$TOOL_LIMIT" "$o.vd" "$VIGIA" scan -q --syn -p 80-84 "$tgt" -o ndjson="$o.vd"
    fi
    has_tool nmap-syn && run_tool "nmap -sS$sfx" nmap "$NMAP_LIMIT" "$o.ns" \
      nmap -sS -n -Pn -p "$tports" "$tgt" -oX "$o.ns" -oG "$o.ns.gnmap"
    has_tool nmap-connect && run_tool "nmap -sT$sfx" nmap "$NMAP_LIMIT" "$o.nt" \
      nmap -sT -n -Pn -p "$tports" "$tgt" -oX "$o.nt" -oG "$o.nt.gnmap"
    # masscan and zmap have their own stack: they need the next hop's MAC.
    has_tool masscan && run_tool "masscan --rate $MASSCAN_RATE$sfx" masscan "$TOOL_LIMIT" "$o.m" \
      masscan -p"$tports" "$tgt" --rate "$MASSCAN_RATE" --router-mac "$WL_TARGET_MAC" \
      -e "$WL_DEV_S" --wait 3 -oL "$o.m"
    # zmap's default blocklist holds 198.18.0.0/15; the lab is the only
    # place it can send to, so an empty blocklist is safe here.
    if [ "$WL_WIDE" = 1 ] && has_tool zmap; then
      : >"$WL_DIR/zmap.blocklist"
      run_tool "zmap -r $MASSCAN_RATE$sfx" zmap "$TOOL_LIMIT" "$o.z" \
        zmap -p 80 "$tgt" -i "$WL_DEV_S" -G "$WL_TARGET_MAC" -r "$MASSCAN_RATE" \
        -b "$WL_DIR/zmap.blocklist" --cooldown-time 3 -f saddr -o "$o.z" -q
    fi
  done
  wanlab_down
done
echo
echo "Relay counters: → scanner to target, ← target to scanner, during each run (+1 s after it)."
echo "tap drops: frames the scanner's (→) or target's (←) tap dropped before the relay read them (queue of ${WL_TXQLEN:-10000} full); veth: the veth's drops."
echo "probes/s: (own) = the tool's own figure; (link) = packets the scanner's link sent / wall time."
echo "Machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo), kernel $(uname -r);" \
  "vigia $("$VIGIA" --version 2>/dev/null | head -1 || echo '?') ($(git rev-parse --short HEAD 2>/dev/null || echo '?')), $(nmap --version | head -1)," \
  "$(masscan --version 2>/dev/null | grep -o 'version [0-9.]*' | head -1 || true), $(zmap --version 2>/dev/null | head -1 || true)."
