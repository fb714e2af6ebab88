#!/usr/bin/env bash
# bench-idle.sh ECHO_APP [PORT]: RSS per idle connection of one echo-app server with 5,000 idle
# connections, the idle cell of bench-echo.sh for one binary (compare two binaries in the same minute).
set -euo pipefail
ulimit -n "$(ulimit -Hn)"
bin="$1"; port="${2:-18081}"
"$bin" serve --host 127.0.0.1 --port $port >/dev/null 2>/tmp/idle-serve.err &
spid=$!
sleep 0.5
rss0=$(awk '/VmRSS/ {print $2}' /proc/$spid/status)
"$bin" bench --addr 127.0.0.1:$port --mode idle --conns 5000 --duration 4 >/dev/null 2>/tmp/idle-bench.err &
bpid=$!
for _ in $(seq 300); do grep -q '^open:' /tmp/idle-bench.err 2>/dev/null && break; sleep 0.05; done
sleep 1
grep '^open:' /tmp/idle-bench.err >&2 || true
rss1=$(awk '/VmRSS/ {print $2}' /proc/$spid/status)
wait $bpid || true
kill -INT $spid; wait $spid || true
awk -v a="$rss0" -v b="$rss1" 'BEGIN { printf "bytes_per_conn %.0f (rss %d -> %d KiB)\n", (b - a) * 1024 / 5000, a, b }'
