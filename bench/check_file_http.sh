#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# N HTTP checks from a checks file against a local nginx (loopback, a free
# port, a temporary prefix), side by side with what libcurl itself does
# over the same URLs: `curl --parallel --parallel-max 100 -K FILE`. vigia
# runs twice: as it checks by default (every check its own connection, 256
# at once), and with curl's settings (--reuse-connections --concurrency
# 100: curl's -K run keeps its connections open for the next URL).
# Each tool runs RUNS times; the best wall time and the peak RSS of that
# run (GNU time's "Maximum resident set size") are printed, with the
# ratio vigia/curl. Every check must be OK and every curl transfer must
# return 200, or the run is reported as failed.
# Usage: bench/check_file_http.sh [N]   (default N=10000; RUNS=3)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
RUNS=${RUNS:-3}
VIGIA=${VIGIA:-./build/vigia}
[ -x "$VIGIA" ] || { echo "build vigia first (make)" >&2; exit 1; }
[ -x /usr/sbin/nginx ] || { echo "needs nginx (scripts/deps.sh)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "needs GNU time (scripts/deps.sh)" >&2; exit 1; }

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
[ -n "${KEEP_NGINX:-}" ] && trap - EXIT
ulimit -n 65536 2>/dev/null || true

NG=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
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
    keepalive_requests 100000;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    server {
        listen 127.0.0.1:$NG backlog=4096;
        location / { return 200 "hello from nginx\n"; }
    }
}
EOF
/usr/sbin/nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" &
pids+=($!)
for _ in $(seq 200); do
  (exec 3<>"/dev/tcp/127.0.0.1/$NG") 2>/dev/null && break
  sleep 0.05
done
curl -s -o /dev/null "http://127.0.0.1:$NG/"

# The same N URLs for both tools (distinct paths, so nothing is cached).
{
  echo "checks:"
  for i in $(seq "$N"); do
    printf '  - name: c%s\n    target: http://127.0.0.1:%s/p%s\n' "$i" "$NG" "$i"
  done
} > "$tmp/checks.yaml"
for i in $(seq "$N"); do
  printf 'url = "http://127.0.0.1:%s/p%s"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' "$NG" "$i"
done > "$tmp/curl.cfg"

best() { # tool: prints "seconds rss_kib ok" of the fastest run
  local tool=$1 b_t='' b_m='' b_ok=''
  for _ in $(seq "$RUNS"); do
    local t m ok
    if [ "$tool" = vigia ] || [ "$tool" = vigia-reuse ]; then
      local extra=()
      [ "$tool" = vigia-reuse ] && extra=(--reuse-connections --concurrency 100)
      /usr/bin/time -f '%e %M' -o "$tmp/time" "$VIGIA" check -q "${extra[@]}" -f "$tmp/checks.yaml" \
        -o "ndjson=$tmp/out.ndjson" >/dev/null 2>"$tmp/err" || true
      ok=$(grep -c '"type":"check".*"state":"ok"' "$tmp/out.ndjson" || true)
    else
      /usr/bin/time -f '%e %M' -o "$tmp/time" curl -s --parallel --parallel-max 100 \
        -K "$tmp/curl.cfg" > "$tmp/out.curl" 2>"$tmp/err" || true
      ok=$(grep -c '^200$' "$tmp/out.curl" || true)
    fi
    read -r t m < "$tmp/time"
    if [ -z "$b_t" ] || [ "$(echo "$t < $b_t" | bc -l)" = 1 ]; then b_t=$t b_m=$m b_ok=$ok; fi
  done
  echo "$b_t $b_m $b_ok"
}

read -r vt vm vok < <(best vigia)
read -r rt rm rok < <(best vigia-reuse)
read -r ct cm cok < <(best curl)
printf '%s HTTP checks of a local nginx, best of %s runs\n' "$N" "$RUNS"
printf '%-44s %9s %12s %8s\n' tool seconds "peak RSS" "OK"
printf '%-44s %9s %9s MiB %8s\n' "vigia check -f (checks file)" "$vt" "$((vm / 1024))" "$vok/$N"
printf '%-44s %9s %9s MiB %8s\n' "vigia check -f --reuse-connections --conc. 100" "$rt" "$((rm / 1024))" "$rok/$N"
printf '%-44s %9s %9s MiB %8s\n' "curl --parallel --parallel-max 100 -K" "$ct" "$((cm / 1024))" "$cok/$N"
printf 'ratio vigia/curl: %.2f by default, %.2f with curl'"'"'s settings (target <= 1.25)\n' \
  "$(echo "$vt / $ct" | bc -l)" "$(echo "$rt / $ct" | bc -l)"
printf 'vigia peak RSS: %s MiB by default, %s MiB with reuse (target < 64)\n' "$((vm / 1024))" "$((rm / 1024))"
[ "$vok" = "$N" ] && [ "$rok" = "$N" ] && [ "$cok" = "$N" ] || { echo "not every check/transfer succeeded" >&2; exit 1; }
