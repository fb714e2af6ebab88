#!/usr/bin/env bash
# bench-udp.sh ECHO_APP [ROUNDS] [DURATION_S]: the udp8 cell of bench-echo.sh on one echo-app
# server alone (8 connected sockets, 64-byte datagrams, 8 in flight each): the server
# (`serve --workers 1`) pinned to CPU 0, the load generator (this checkout's release echo-app,
# in $CARGO_TARGET_DIR if set) to CPU 1.  Prints, per round, datagrams/s and the server's CPU
# (utime+stime of /proc/PID/stat) per datagram, in µs (CONNS and PIPELINE, default 8 and 8,
# change the cell); with SYSCALLS=1, also its system calls
# per datagram (perf's raw_syscalls:sys_enter tracepoint on the server's pid: a count the
# machine's other load does not change, but the tracing slows every call, so the CPU figure
# of such a run is not comparable).  Compares builds of the receive path.
set -euo pipefail
bin="$1"; rounds="${2:-3}"; duration="${3:-5}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench="${CARGO_TARGET_DIR:-$root/target}/release/echo-app"
log="$(mktemp /tmp/bench-udp.XXXXXX)"
taskset -c 0 "$bin" serve --host 127.0.0.1 --port 0 --workers 1 >"$log" 2>&1 &
spid=$!
trap 'kill -9 $spid 2>/dev/null || true; wait $spid 2>/dev/null || true; rm -f "$log" "$log.perf"' EXIT
port=
for _ in $(seq 200); do
  port="$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log")"
  [[ -n "$port" ]] && break
  sleep 0.05
done
[[ -n "$port" ]] || { echo "bench-udp: the server did not start: $(cat "$log")" >&2; exit 1; }
tck="$(getconf CLK_TCK)"
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
field() { tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k { print $2 }'; }
for r in $(seq "$rounds"); do
  ppid=
  if [[ "${SYSCALLS:-0}" == 1 ]]; then
    perf stat -x, -e raw_syscalls:sys_enter -p "$spid" -o "$log.perf" 2>/dev/null &
    ppid=$!
    sleep 0.3
  fi
  t0="$(cpu_ticks "$spid")"
  line="$(taskset -c 1 "$bench" bench --addr "127.0.0.1:$port" --mode udp --conns "${CONNS:-8}" \
    --size 64 --pipeline "${PIPELINE:-8}" --duration "$duration" 2>/dev/null | tail -1)"
  t1="$(cpu_ticks "$spid")"
  calls=
  if [[ -n "$ppid" ]]; then
    kill -INT "$ppid" 2>/dev/null || true
    wait "$ppid" 2>/dev/null || true
    calls="$(awk -F, '/raw_syscalls/ { print $1 }' "$log.perf")"
  fi
  msgs="$(field "$line" msgs)"
  echo "round $r: $line cpu_us_per_msg=$(awk -v a="$t0" -v b="$t1" -v t="$tck" -v m="$msgs" \
    'BEGIN { printf "%.2f", (b - a) / t * 1e6 / m }')${calls:+ syscalls_per_msg=$(awk -v c="$calls" \
    -v m="$msgs" 'BEGIN { printf "%.3f", c / m }')}"
done
