#!/usr/bin/env bash
# bench-echo.sh [DURATION_S] [ROUNDS] -- echo-app against a libuv 1.44 echo
# server (C, Debian's libuv1-dev), a tokio current-thread echo server, and
# loop-net's async_echo example (the same loop, written with async/await),
# on 127.0.0.1, same machine, same run.  SERVERS="echo-app async-echo"
# runs a subset (default: all four).
#
# Each server is pinned to CPU 0 with taskset, the load generator
# (`echo-app bench`, on the project's loop) to CPU 1.  Cells:
#   pingpong  1 conn   64 B       messages/s, p99, server CPU per message
#   pingpong  50 conns 64 B       idem
#   pingpong  500 conns 64 B      idem
#   stream    50 conns 4 KiB x16  MB/s, server CPU per message
#   idle      5,000 connections   server RSS per connection
#   udp       8 sockets 64 B x8   datagrams/s, server CPU per datagram
#             (echo-app and libuv only: the tokio peer and async_echo
#             have no UDP echo)
# Server CPU is utime+stime of /proc/PID/stat (all threads) over the cell;
# RSS is VmRSS of /proc/PID/status before and with the idle connections.
# The three servers run side by side; each cell runs on the three back to
# back, in an order that rotates every round, and the median of each figure
# over the rounds is kept.  Prints one table (markdown) with the ratios
# echo-app / peer: below 1 is better for CPU and memory, above 1 for
# throughput.  Peer sources: scripts/bench-echo/.  Needs root for apt-get
# if uv.h is missing; uses cc, taskset and python3.  About 100 s per round
# with the default 5 s cells.
set -euo pipefail

duration="${1:-5}"
rounds="${2:-1}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
peers="$root/scripts/bench-echo"
target="${CARGO_TARGET_DIR:-$root/target}"
work="$(mktemp -d "${TMPDIR:-/tmp}/bench-echo.XXXXXX")"
declare -A pid port
cleanup() {
  for p in "${pid[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

command -v taskset >/dev/null || { echo "bench-echo: taskset (util-linux) missing" >&2; exit 1; }

read -r -a servers <<<"${SERVERS:-echo-app libuv tokio async-echo}"
nserv=${#servers[@]}
has() { [[ " ${servers[*]} " == *" $1 "* ]]; }
if has libuv && [[ ! -f /usr/include/uv.h ]]; then
  echo "# /usr/include/uv.h missing: installing libuv1-dev" >&2
  apt-get update >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y libuv1-dev >&2
fi

echo "# building (release)" >&2
(cd "$root" && cargo build --release --quiet -p echo-app && cargo build --release --quiet -p loop-net --example async_echo)
if has libuv; then cc -O2 -Wall -Wextra -o "$work/uv_echo" "$peers/uv_echo.c" -luv; fi
if has tokio; then (cd "$peers/tokio-echo" && CARGO_TARGET_DIR="$target/tokio-echo" cargo build --release --quiet); fi
echo_app="$target/release/echo-app"
tokio_echo="$target/tokio-echo/release/tokio-echo"
uv_echo="$work/uv_echo"
async_echo="$target/release/examples/async_echo"

# 5,000 connections on both sides.
ulimit -n "$(ulimit -Hn)"
tck="$(getconf CLK_TCK)"

cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
field() { tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k { print $2 }'; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_server() { # name: starts it on a free port, sets pid[name], port[name]
  local name="$1" p out="$work/$1.out"
  p="$(free_port)"
  case "$name" in
    echo-app) taskset -c 0 "$echo_app" serve --host 127.0.0.1 --port "$p" >"$out" 2>&1 & ;;
    libuv) taskset -c 0 "$uv_echo" "$p" >"$out" 2>&1 & ;;
    tokio) taskset -c 0 "$tokio_echo" "$p" >"$out" 2>&1 & ;;
    async-echo) taskset -c 0 "$async_echo" "$p" >"$out" 2>&1 & ;;
  esac
  pid[$name]=$!
  port[$name]=$p
  for _ in $(seq 100); do
    grep -q '^listening on' "$out" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "bench-echo: $name did not start: $(cat "$out")" >&2
  exit 1
}

stop_server() { # name
  # SIGTERM (echo-app drains), then SIGKILL after 3 s: a connection the
  # kernel left half-open after a SYN-cookie episode would hold the drain.
  local p="${pid[$1]}"
  kill "$p" 2>/dev/null || true
  for _ in $(seq 60); do
    kill -0 "$p" 2>/dev/null || break
    sleep 0.05
  done
  kill -9 "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
  unset "pid[$1]"
}

# One load cell against the running server: record "name cell key value".
run_cell() { # name cellname bench-args...
  local name="$1" cell="$2"
  shift 2
  local t0 t1 line msgs p="${pid[$name]}"
  t0="$(cpu_ticks "$p")"
  line="$(taskset -c 1 "$echo_app" bench --addr "127.0.0.1:${port[$name]}" --duration "$duration" "$@")" || {
    echo "bench-echo: $name $cell: bench failed: $line" >&2; exit 1; }
  t1="$(cpu_ticks "$p")"
  msgs="$(field "$line" msgs)"
  echo "# $name $cell: $line server_cpu_ticks=$((t1 - t0))" >&2
  {
    echo "$name $cell msgs_per_s $(field "$line" msgs_per_s)"
    echo "$name $cell mb_per_s $(field "$line" mb_per_s)"
    echo "$name $cell p99_us $(field "$line" p99_us)"
    echo "$name $cell cpu_us_per_msg $(awk -v d="$((t1 - t0))" -v m="$msgs" -v t="$tck" 'BEGIN { printf "%.3f", (m > 0 ? d * 1e6 / t / m : 0) }')"
  } >>"$work/results"
}

run_idle() { # name
  local name="$1" rss0 rss1 log="$work/idle.err" p="${pid[$1]}"
  sleep 0.3
  rss0="$(rss_kib "$p")"
  taskset -c 1 "$echo_app" bench --addr "127.0.0.1:${port[$name]}" --mode idle --conns 5000 --duration 4 >/dev/null 2>"$log" &
  local bpid=$!
  for _ in $(seq 300); do
    grep -q '^open:' "$log" 2>/dev/null && break
    sleep 0.05
  done
  sleep 1
  rss1="$(rss_kib "$p")"
  wait "$bpid" || { echo "bench-echo: $name idle: $(cat "$log")" >&2; exit 1; }
  echo "# $name idle: $(grep '^open:' "$log") rss ${rss0} KiB -> ${rss1} KiB" >&2
  echo "$name idle bytes_per_conn $(awk -v a="$rss0" -v b="$rss1" 'BEGIN { printf "%.0f", (b - a) * 1024 / 5000 }')" >>"$work/results"
}

cells=(
  "pp1 --mode pingpong --conns 1 --size 64"
  "pp50 --mode pingpong --conns 50 --size 64"
  "pp500 --mode pingpong --conns 500 --size 64"
  "st50 --mode stream --conns 50 --size 4096 --pipeline 16"
  "udp8 --mode udp --conns 8 --size 64 --pipeline 8"
)
# The servers run side by side (idle ones cost nothing), and each cell
# runs on all of them back to back, in an order that rotates every round:
# load from elsewhere on the machine hits them alike.
for name in "${servers[@]}"; do
  start_server "$name"
  echo "# $name on 127.0.0.1:${port[$name]} (pid ${pid[$name]})" >&2
done
for round in $(seq "$rounds"); do
  echo "# round $round" >&2
  for cell in "${cells[@]}"; do
    for k in $(seq 0 $((nserv - 1))); do
      name="${servers[$(((k + round) % nserv))]}"
      [[ "$cell" == udp* && ( "$name" == tokio || "$name" == async-echo ) ]] && continue
      # shellcheck disable=SC2086 # the cell's arguments split on purpose
      run_cell "$name" $cell
    done
  done
done
for name in "${servers[@]}"; do stop_server "$name"; done
# The idle cell on fresh servers: RSS not inflated by the load cells.
for name in "${servers[@]}"; do
  start_server "$name"
  run_idle "$name"
  stop_server "$name"
done

# Medians, then the table.
python3 - "$work/results" "$rounds" "$duration" <<'EOF'
import sys, statistics, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    parts = line.split()
    if len(parts) == 4:  # p99 is empty in stream mode
        name, cell, key, val = parts
        rows[(name, cell, key)].append(float(val))
med = {k: statistics.median(v) for k, v in rows.items()}
def g(n, c, k): return med.get((n, c, k))
cells = [
    ("pp1", "pingpong 1 conn 64 B", "msgs_per_s", "msg/s", "{:.0f}", True),
    ("pp1", "pingpong 1 conn 64 B", "cpu_us_per_msg", "server CPU µs/msg", "{:.2f}", False),
    ("pp50", "pingpong 50 conns 64 B", "msgs_per_s", "msg/s", "{:.0f}", True),
    ("pp50", "pingpong 50 conns 64 B", "cpu_us_per_msg", "server CPU µs/msg", "{:.2f}", False),
    ("pp500", "pingpong 500 conns 64 B", "msgs_per_s", "msg/s", "{:.0f}", True),
    ("pp500", "pingpong 500 conns 64 B", "cpu_us_per_msg", "server CPU µs/msg", "{:.2f}", False),
    ("pp50", "pingpong 50 conns 64 B", "p99_us", "p99 µs", "{:.0f}", False),
    ("st50", "stream 50 conns 4 KiB x16", "mb_per_s", "MB/s", "{:.1f}", True),
    ("st50", "stream 50 conns 4 KiB x16", "cpu_us_per_msg", "server CPU µs/msg", "{:.2f}", False),
    ("idle", "5,000 idle connections", "bytes_per_conn", "RSS bytes/conn", "{:.0f}", False),
    ("udp8", "UDP 8 sockets 64 B x8", "msgs_per_s", "datagrams/s", "{:.0f}", True),
    ("udp8", "UDP 8 sockets 64 B x8", "cpu_us_per_msg", "server CPU µs/datagram", "{:.2f}", False),
]
print(f"rounds={sys.argv[2]} cell_duration_s={sys.argv[3]} (medians; ratio = echo-app / peer; async/cb = async_echo / echo-app)")
print()
print("| cell | figure | echo-app | libuv 1.44 | tokio | async_echo | vs libuv | vs tokio | async/cb |")
print("|---|---|---|---|---|---|---|---|---|")
for cell, label, key, unit, fmt, higher in cells:
    e, u, t, a = (g(n, cell, key) for n in ("echo-app", "libuv", "tokio", "async-echo"))
    def f(x): return fmt.format(x) if x is not None else "-"
    def r(a, b): return f"{a / b:.2f}" if a is not None and b else "-"
    print(f"| {label} | {unit}{' (higher is better)' if higher else ''} | {f(e)} | {f(u)} | {f(t)} | {f(a)} | {r(e, u)} | {r(e, t)} | {r(a, e)} |")
EOF
