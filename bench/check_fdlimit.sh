#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `vigia check` under low open-file limits: N TCP checks (default 204) of
# loopback listeners, in a network namespace made here (loopback only, no
# route out), run under prlimit --nofile=L:L for each limit L. Every check
# must be OK; prints the wall time per limit (best of 3) and how many
# sockets were open at once while checks were held open by --expect.
# Usage: sudo bench/check_fdlimit.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-204}
VIGIA=$(realpath "${VIGIA:-./build/vigia}")
[ -x "$VIGIA" ] || { echo "build vigia first (make)" >&2; exit 1; }
ns=vgbench-fd-$$
tmp=$(mktemp -d)
cleanup() {
  for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$ns"
ip netns exec "$ns" ip link set lo up

cat > "$tmp/listen.py" <<'PY'
import socket, sys, time
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(512); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks), flush=True)
time.sleep(300)
PY
ip netns exec "$ns" /usr/bin/python3 "$tmp/listen.py" "$N" > "$tmp/ports" &
for _ in $(seq 100); do [ -s "$tmp/ports" ] && break; sleep 0.05; done
specs=()
for p in $(cat "$tmp/ports"); do specs+=("tcp://127.0.0.1:$p"); done

printf '%-8s %-10s %s\n' limit "best wall" "sockets at once"
for lim in 1024 64 32 20 12; do
  best=
  for _ in 1 2 3; do
    s=$(date +%s.%N)
    ip netns exec "$ns" prlimit --nofile=$lim:$lim "$VIGIA" check "${specs[@]}" > "$tmp/out" || true
    e=$(date +%s.%N)
    ok=$(grep -c '^TCP OK' "$tmp/out" || true)
    [ "$ok" = "$N" ] || { echo "limit $lim: only $ok of $N OK" >&2; exit 1; }
    t=$(echo "$e - $s" | bc)
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; fi
  done
  # Hold checks open (the listeners never send, --expect waits 1 s) and
  # count the sockets of the process in the middle of the first round.
  ip netns exec "$ns" prlimit --nofile=$lim:$lim "$VIGIA" check --expect x --timeout 1s \
    "${specs[@]}" > /dev/null &
  vpid=$!
  sleep 0.5
  socks=$(ls -l /proc/$vpid/task/*/fd 2>/dev/null | grep -c socket || true)
  wait $vpid || true
  printf '%-8s %-10s %s\n' "$lim" "$(printf %.3f "$best") s" "$socks"
done
