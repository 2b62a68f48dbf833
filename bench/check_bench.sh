#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark of `vigia check` against what users run instead: 2,000 HTTP
# checks and 2,000 TCP checks of a local nginx (started here on a free
# loopback port with a temporary prefix), done by
#   - vigia check (one process, all checks on one event loop),
#   - a shell loop of check_http / check_tcp (monitoring-plugins-basic),
#   - blackbox_exporter's /probe endpoint, scraped 64 at a time by curl -Z,
#   - curl --parallel itself (HTTP only), as the floor of what libcurl does.
# Every tool must report all checks OK; wall time and checks/s are printed
# and written into docs/benchmarks.md under the "## check" heading.
# Usage: bench/check_bench.sh [N]   (default N=2000)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000}
VIGIA=${VIGIA:-./build/vigia}
PLUGINS=/usr/lib/nagios/plugins
BLACKBOX=$(command -v prometheus-blackbox-exporter || true)
[ -x "$VIGIA" ] || { echo "build vigia first (make)" >&2; exit 1; }
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { echo "needs nginx (scripts/deps.sh)" >&2; exit 1; }

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() { # bounded: 10 s
  for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listens on port $1" >&2
  return 1
}
now() { date +%s.%N; }
ulimit -n 65536 2>/dev/null || true

# --- nginx ---------------------------------------------------------------
NG=$(free_port)
mkdir -p "$tmp/nginx"
cat > "$tmp/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
$( [ "$(id -u)" = 0 ] && echo "user root;" )
worker_rlimit_nofile 20000;
events { worker_connections 8192; }
http {
    access_log off;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    server {
        listen 127.0.0.1:$NG backlog=4096;
        location = / { return 200 "hello from nginx\n"; }
    }
}
EOF
/usr/sbin/nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" &
pids+=($!)
wait_port "$NG"
URL="http://127.0.0.1:$NG/"
TCP="127.0.0.1:$NG"
# One warm-up request, so that no tool pays for nginx's first accept.
curl -s -o /dev/null "$URL"

declare -A T   # tool/kind -> seconds
declare -A OK  # tool/kind -> checks that passed

# --- vigia ---------------------------------------------------------------
run_vigia() { # kind target
  local t0 t1 out="$tmp/vigia_$1.ndjson"
  mapfile -t args < <(yes "$2" | head -n "$N")
  t0=$(now)
  "$VIGIA" check -o "ndjson=$out" --timeout 10s "${args[@]}" || true
  t1=$(now)
  T[vigia/$1]=$(echo "$t1 - $t0" | bc -l)
  OK[vigia/$1]=$(grep -c '"type":"check".*"state":"ok"' "$out" || true)
}
run_vigia http "$URL"
run_vigia tcp "$TCP"

# --- monitoring-plugins loops ----------------------------------------------
if [ -x "$PLUGINS/check_http" ]; then
  t0=$(now); ok=0
  for _ in $(seq "$N"); do
    if "$PLUGINS/check_http" -H 127.0.0.1 -p "$NG" -u / -t 10 >/dev/null; then ok=$((ok + 1)); fi
  done
  t1=$(now); T[plugins/http]=$(echo "$t1 - $t0" | bc -l); OK[plugins/http]=$ok
  t0=$(now); ok=0
  for _ in $(seq "$N"); do
    if "$PLUGINS/check_tcp" -H 127.0.0.1 -p "$NG" -t 10 >/dev/null; then ok=$((ok + 1)); fi
  done
  t1=$(now); T[plugins/tcp]=$(echo "$t1 - $t0" | bc -l); OK[plugins/tcp]=$ok
fi

# --- blackbox_exporter ---------------------------------------------------------
if [ -n "$BLACKBOX" ]; then
  BB=$(free_port)
  cat > "$tmp/blackbox.yml" <<EOF
modules:
  http_2xx:
    prober: http
    timeout: 10s
    http:
      preferred_ip_protocol: ip4
  tcp_connect:
    prober: tcp
    timeout: 10s
    tcp:
      preferred_ip_protocol: ip4
EOF
  "$BLACKBOX" --config.file="$tmp/blackbox.yml" --web.listen-address="127.0.0.1:$BB" \
    --log.level=error >"$tmp/blackbox.log" 2>&1 &
  pids+=($!)
  wait_port "$BB"
  run_bb() { # kind module target
    local cfg="$tmp/bb_$1.curl" out="$tmp/bb_$1.out" t0 t1
    : > "$cfg"
    for i in $(seq "$N"); do
      printf 'url = "http://127.0.0.1:%s/probe?module=%s&target=%s"\noutput = "%s/bb_%s_%s.txt"\n' \
        "$BB" "$2" "$3" "$tmp" "$1" "$i" >> "$cfg"
    done
    t0=$(now)
    curl -s --no-progress-meter -Z --parallel-max 64 -K "$cfg" || true
    t1=$(now)
    T[blackbox/$1]=$(echo "$t1 - $t0" | bc -l)
    OK[blackbox/$1]=$(cat "$tmp"/bb_"$1"_*.txt | grep -c '^probe_success 1' || true)
    rm -f "$tmp"/bb_"$1"_*.txt
  }
  run_bb http http_2xx "$URL"
  run_bb tcp tcp_connect "$TCP"
fi

# --- curl --parallel (HTTP only: the floor) ------------------------------------------
t0=$(now)
mapfile -t urls < <(yes "$URL" | head -n "$N")
curl -s --no-progress-meter -Z --parallel-max 64 -o /dev/null -w '%{http_code}\n' "${urls[@]}" > "$tmp/curl.codes" || true
t1=$(now)
T[curl/http]=$(echo "$t1 - $t0" | bc -l)
OK[curl/http]=$(grep -c '^200$' "$tmp/curl.codes" || true)

# --- report ----------------------------------------------------------------------
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
row() { # label key
  local t=${T[$2]:-} ok=${OK[$2]:-}
  [ -n "$t" ] || return 0
  printf '| %s | %s | %.2f | %.0f | %s/%s |\n' "$1" "${2#*/}" "$t" "$(echo "$N / $t" | bc -l)" "$ok" "$N"
}
ratio() { [ -n "${T[$1]:-}" ] && [ -n "${T[$2]:-}" ] && printf '%.0f' "$(echo "${T[$1]} / ${T[$2]}" | bc -l)" || echo "n/a"; }
{
  echo "## check"
  echo
  echo "\`bench/check_bench.sh $N\` on $(date -u +%Y-%m-%d): $N HTTP checks and $N TCP checks of one"
  echo "local nginx (loopback, \`return 200\`), every tool in one run. Machine: $(nproc) CPUs"
  echo "($cpu), Linux $(uname -r), $(curl --version | head -1 | cut -d' ' -f1-2)."
  echo
  echo "| tool | kind | wall s | checks/s | OK |"
  echo "|---|---|---:|---:|---:|"
  row "vigia check (one process)" vigia/http
  row "check_http in a shell loop" plugins/http
  row "blackbox_exporter /probe, 64 parallel" blackbox/http
  row "curl --parallel (64), the floor" curl/http
  row "vigia check (one process)" vigia/tcp
  row "check_tcp in a shell loop" plugins/tcp
  row "blackbox_exporter /probe, 64 parallel" blackbox/tcp
  echo
  echo "vigia is $(ratio plugins/http vigia/http)x faster than the check_http loop and $(ratio blackbox/http vigia/http)x faster"
  echo "than blackbox_exporter for HTTP; for TCP $(ratio plugins/tcp vigia/tcp)x and $(ratio blackbox/tcp vigia/tcp)x. Every vigia"
  echo "check opens its own connection (no reuse) and records dns/connect/tls/firstbyte/total;"
  echo "curl --parallel reuses connections, so it is a floor, not a like-for-like rival."
} > "$tmp/section.md"
cat "$tmp/section.md"

# Replace (or append) the "## check" section of docs/benchmarks.md.
mkdir -p docs
[ -f docs/benchmarks.md ] || echo "# Benchmarks" > docs/benchmarks.md
/usr/bin/python3 - "$tmp/section.md" <<'EOF'
import re, sys
new = open(sys.argv[1]).read().rstrip("\n") + "\n"
path = "docs/benchmarks.md"
doc = open(path).read()
m = re.search(r"^## check\s*$.*?(?=^## |\Z)", doc, re.M | re.S)
if m:
    doc = doc[:m.start()] + new + ("\n" if doc[m.end():] else "") + doc[m.end():]
else:
    doc = doc.rstrip("\n") + "\n\n" + new
open(path, "w").write(doc)
EOF
echo "(written to docs/benchmarks.md)"
for k in vigia/http vigia/tcp; do
  [ "${OK[$k]}" = "$N" ] || { echo "vigia: only ${OK[$k]} of $N $k checks OK" >&2; exit 1; }
done
