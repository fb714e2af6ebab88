#!/usr/bin/env bash
# callgrind-echo.sh ECHO_APP PORT MODE CONNS [PIPELINE]: user-space instructions per message of
# `echo-app serve --workers 1` under valgrind --tool=callgrind, for 4 s of one bench cell
# (the load generator is this checkout's release echo-app, in $CARGO_TARGET_DIR if set; build
# it first).  PIPELINE (default 1) is the bench's --pipeline, messages in flight per connection.
# ECHO_APP may also be loop-net's `async_echo` example (run as `async_echo PORT`).
set -euo pipefail
bin="$1"; port="$2"; mode="$3"; conns="$4"; pipeline="${5:-1}"
out=$(mktemp /tmp/cg.XXXXXX)
case "$(basename "$bin")" in
  async_echo) args=("$port") ;;
  *) args=(serve --host 127.0.0.1 --port "$port" --workers 1) ;;
esac
valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" "${args[@]}" >/dev/null 2>/tmp/cg-serve.err &
spid=$!
for _ in $(seq 200); do grep -q "listening" /tmp/cg-serve.err 2>/dev/null && break; ss -ltn | grep -q ":$port " && break; sleep 0.1; done
sleep 1
line=$("${CARGO_TARGET_DIR:-$(dirname "$0")/../target}/release/echo-app" bench --addr 127.0.0.1:$port --mode "$mode" --conns "$conns" --pipeline "$pipeline" --size 64 --duration 4 2>/dev/null | tail -1)
kill -INT $spid; wait $spid || true
msgs=$(tr ' ' '\n' <<<"$line" | awk -F= '$1=="msgs" {print $2}')
ir=$(grep -E '^(summary|totals):' "$out" | head -1 | awk '{print $2}')
rm -f "$out"*
echo "$(basename "$bin") $mode/$conns msgs=$msgs Ir=$ir Ir_per_msg=$(awk -v a=$ir -v m=$msgs 'BEGIN{printf "%.0f", a/m}')"
