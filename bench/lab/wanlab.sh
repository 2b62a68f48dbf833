# shellcheck shell=bash
# shellcheck disable=SC2034  # the WL_* variables are set for the scripts that source this file
# SPDX-License-Identifier: MIT
# The WAN lab for bench scripts (source it; tests/e2e/wanlab.py builds the
# same lab for pytest). Two namespaces, scanner (198.18.0.1/24,
# 2001:db8::1/64) and target (198.18.0.2/24, 2001:db8::2/64), joined ONLY by
# build/vglink (a user-space relay between two TAP devices that adds delay,
# loss and a pps cap; the kernel here has no netem), or by a veth pair for
# the `veth` scenario. No default route anywhere. The target listens on a
# seeded set of open ports, drops a seeded set (nftables) and answers RST on
# the rest; the sets are in $WL_DIR/open.truth and filtered.truth. Scenario
# names and settings: bench/lab/scenarios.tsv.
#
#   source bench/lab/wanlab.sh
#   wanlab_up SCENARIO [PORTS [N_OPEN [N_FILTERED [SEED]]]]   # sets WL_* below
#   ip netns exec "$WL_S" ...                                # scan from the scanner
#   wanlab_stats                                             # relay counters (JSON line)
#   wanlab_down                                              # also runs on exit / Ctrl-C
#
# After wanlab_up: WL_S, WL_T (namespaces), WL_DEV_S, WL_DEV_T (link
# devices), WL_DIR (truth files, relay output), WL_TARGET_MAC, WL_RELAY_PID
# (empty for veth), WL_SCENARIO, WL_SPEC, WL_WIDE (1 for wide scenarios).
# WL_MAX_SECONDS bounds the relay's and listener's lifetime (default 3600);
# WL_TXQLEN sets both taps' transmit queue (default 10000 frames: what the
# kernel holds for the relay to read; beyond it the tap drops, and
# wanlab_tap_drops counts those drops).

WL_LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WL_ROOT=$(cd "$WL_LAB_DIR/../.." && pwd)
VGLINK=${VGLINK:-$WL_ROOT/build/vglink}
WL_PY=/usr/bin/python3
WL_SEQ=0
WL_S='' WL_T='' WL_DIR='' WL_RELAY_PID='' WL_LISTEN_PID=''

wanlab_scenarios() { # the known scenario names, one a line
  awk '!/^#/ && NF >= 4 { print $1 }' "$WL_LAB_DIR/scenarios.tsv"
}

wanlab_down() {
  local ns pid
  # Closing our ends of the fifos makes the relay and the listener exit.
  [ -n "${WL_RELAY_FD:-}" ] && { exec {WL_RELAY_FD}>&- ; } 2>/dev/null || true
  [ -n "${WL_LISTEN_FD:-}" ] && { exec {WL_LISTEN_FD}>&- ; } 2>/dev/null || true
  WL_RELAY_FD='' WL_LISTEN_FD=''
  for ns in $WL_S $WL_T; do
    ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$ns" || continue
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
  done
  [ -n "$WL_RELAY_PID" ] && { timeout 5 tail --pid="$WL_RELAY_PID" -f /dev/null 2>/dev/null || kill -9 "$WL_RELAY_PID" 2>/dev/null || true; }
  for ns in $WL_S $WL_T; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
  [ -n "$WL_DIR" ] && [ -z "${WL_KEEP:-}" ] && rm -rf "$WL_DIR"
  WL_S='' WL_T='' WL_DIR='' WL_RELAY_PID='' WL_LISTEN_PID=''
}
trap 'wanlab_down' EXIT
trap 'wanlab_down; exit 130' INT TERM

_wl_fail() { echo "wanlab: $*" >&2; wanlab_down; return 1; }

_wl_wait_file() { # FILE PATTERN SECONDS: waits until FILE has a line matching PATTERN
  local i
  for ((i = 0; i < $3 * 20; i++)); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

_wl_addr() { # NS DEV V4 V6
  ip -n "$1" addr add "$3/24" dev "$2"
  ip -n "$1" addr add "$4/64" dev "$2" nodad
  ip -n "$1" link set "$2" up
}

wanlab_up() { # SCENARIO [PORTS] [N_OPEN] [N_FILTERED] [SEED]
  local sc=$1 ports=${2:-1-65535} nopen=${3:-300} nfilt=${4:-3000} seed=${5:-1}
  local line link spec extras ns key i
  line=$(awk -v s="$sc" '!/^#/ && $1 == s' "$WL_LAB_DIR/scenarios.tsv")
  [ -n "$line" ] || { echo "wanlab: unknown scenario '$sc' ($(wanlab_scenarios | paste -sd' '))" >&2; return 1; }
  read -r _ link spec extras <<<"$line"
  [ "$spec" = none ] && spec=
  WL_SCENARIO=$sc WL_SPEC=${spec:-none} WL_WIDE=0
  case ",$extras," in *,wide,*) WL_WIDE=1 ;; esac
  WL_SEQ=$((WL_SEQ + 1))
  WL_S=vgwl$$x${WL_SEQ}s WL_T=vgwl$$x${WL_SEQ}t
  WL_DEV_S=wls$(($$ % 100000))x$WL_SEQ WL_DEV_T=wlt$(($$ % 100000))x$WL_SEQ
  WL_DIR=$(mktemp -d "/tmp/wanlab-$sc.XXXXXX")
  chmod 755 "$WL_DIR"
  local targs=(--ports "$ports" --open "$nopen" --filtered "$nfilt" --seed "$seed")
  [ "$WL_WIDE" = 1 ] && targs+=(--wide)
  case ",$extras," in *,rstlimit,*) targs+=(--rstlimit) ;; esac
  "$WL_PY" "$WL_LAB_DIR/wanlab_truth.py" "${targs[@]}" "$WL_DIR" || _wl_fail "truth" || return 1

  for ns in "$WL_S" "$WL_T"; do
    ip netns add "$ns" || _wl_fail "netns add $ns" || return 1
    ip -n "$ns" link set lo up
  done
  if [ "$link" = veth ]; then
    ip link add "$WL_DEV_S" netns "$WL_S" type veth peer name "$WL_DEV_T" netns "$WL_T"
  else
    [ -x "$VGLINK" ] || _wl_fail "$VGLINK not built (make)" || return 1
    mkfifo "$WL_DIR/relay.in"
    ip netns exec "$WL_S" "$VGLINK" --ns "$WL_T" --tap-a "$WL_DEV_S" --tap-b "$WL_DEV_T" \
      --both "${spec:-none}" --seed "$seed" --max-seconds "${WL_MAX_SECONDS:-3600}" --stats-json --txqueuelen "${WL_TXQLEN:-10000}" \
      <"$WL_DIR/relay.in" >"$WL_DIR/relay.out" 2>"$WL_DIR/relay.err" &
    WL_RELAY_PID=$!
    exec {WL_RELAY_FD}>"$WL_DIR/relay.in"
    _wl_wait_file "$WL_DIR/relay.out" '^ready' 10 || _wl_fail "vglink did not start: $(cat "$WL_DIR/relay.err")" || return 1
  fi
  _wl_addr "$WL_S" "$WL_DEV_S" 198.18.0.1 2001:db8::1
  _wl_addr "$WL_T" "$WL_DEV_T" 198.18.0.2 2001:db8::2
  for ns in "$WL_S" "$WL_T"; do
    for key in net.ipv4.icmp_ratelimit=0 net.ipv4.icmp_msgs_per_sec=1000000 \
               net.ipv4.icmp_msgs_burst=1000000 net.ipv6.icmp.ratelimit=0; do
      ip netns exec "$ns" sysctl -q -w "$key"
    done
  done
  if [ "$WL_WIDE" = 1 ]; then
    ip -n "$WL_S" route add 198.19.0.0/16 via 198.18.0.2
    ip -n "$WL_T" route add local 198.19.0.0/16 dev lo
  fi
  for ns in "$WL_S" "$WL_T"; do
    if [ -n "$(ip -n "$ns" route show default)$(ip -n "$ns" -6 route show default)" ]; then
      _wl_fail "namespace $ns has a default route; refusing to scan"; return 1
    fi
  done
  ip netns exec "$WL_T" nft -f "$WL_DIR/target.nft" || _wl_fail "nft" || return 1
  mkfifo "$WL_DIR/listen.in"
  ip netns exec "$WL_T" "$WL_PY" "$WL_LAB_DIR/wanlab_listen.py" "$WL_DIR/open.truth" \
    --max-seconds "${WL_MAX_SECONDS:-3600}" <"$WL_DIR/listen.in" >"$WL_DIR/listen.out" 2>&1 &
  WL_LISTEN_PID=$!
  exec {WL_LISTEN_FD}>"$WL_DIR/listen.in"
  _wl_wait_file "$WL_DIR/listen.out" '^ready' 30 || _wl_fail "listener did not start: $(cat "$WL_DIR/listen.out")" || return 1

  # The link answers before anything is measured (bounded: 60 tries).
  local addrs=(198.18.0.2 2001:db8::2)
  [ "$WL_WIDE" = 1 ] && addrs+=("$(head -1 "$WL_DIR/rst_hosts.truth")")
  for a in "${addrs[@]}"; do
    for ((i = 0; i < 60; i++)); do
      ip netns exec "$WL_S" ping -c 1 -W 1 "$a" >/dev/null 2>&1 && break
    done
    [ "$i" -lt 60 ] || { _wl_fail "$a does not answer ping over the $sc link"; return 1; }
  done
  WL_TARGET_MAC=$(ip -n "$WL_T" link show "$WL_DEV_T" | awk '/link\/ether/ {print $2}')
}

wanlab_stats() { # prints the relay's counters so far (one JSON line), or nothing for veth
  [ -n "$WL_RELAY_PID" ] || return 0
  local n i
  n=$(wc -l <"$WL_DIR/relay.out")
  kill -USR1 "$WL_RELAY_PID" || return 1
  for ((i = 0; i < 100; i++)); do
    [ "$(wc -l <"$WL_DIR/relay.out")" -gt "$n" ] && break
    sleep 0.02
  done
  tail -n 1 "$WL_DIR/relay.out"
}

wanlab_tap_drops() { # "A B": frames each tap dropped because the relay had not read them yet
  # (its transmit queue, --txqueuelen / WL_TXQLEN, was full): scanner->target, target->scanner
  local a b
  a=$(ip -n "$WL_S" -s -j link show "$WL_DEV_S" | "$WL_PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["tx"]["dropped"])')
  b=$(ip -n "$WL_T" -s -j link show "$WL_DEV_T" | "$WL_PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["tx"]["dropped"])')
  echo "$a $b"
}

wanlab_link_packets() { # packets the scanner's link device has sent so far
  ip -n "$WL_S" -s -j link show "$WL_DEV_S" | "$WL_PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["tx"]["packets"])'
}
