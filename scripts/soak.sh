#!/usr/bin/env bash
# soak.sh [SECONDS] -- echo-app under a mixed load for SECONDS (default 600;
# CI runs 30): pingpong and stream clients that verify every byte,
# connect/close churn, slow readers, and clients that reset their
# connections, all at once against one release server on 127.0.0.1.
#
# Prints the server's RSS and open fd count at every sample (every
# SECONDS/10 s, at least every 3 s) and checks, at the end:
#   - zero mismatched bytes and zero client errors in every bench run;
#   - RSS flat after warm-up: the last sample at most 10% + 2 MiB above
#     the first sample taken after a third of the run;
#   - fds flat: the count with no client left equals the count before any;
#   - the server logged no WARN or ERROR line (resets and slow readers are
#     the clients' doing and are logged below WARN) and exited 0 on SIGINT.
# Ends with `soak: passed` or `soak: FAILED: ...` (exit 1).
set -euo pipefail
secs="${1:-600}"
cd "$(dirname "$0")/.."

cargo build --release --quiet -p echo-app
app="${CARGO_TARGET_DIR:-target}/release/echo-app"
work="$(mktemp -d "${TMPDIR:-/tmp}/soak.XXXXXX")"
pids=()
server=""
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -n "$server" ]] && kill -KILL "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)"

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$app" serve --host 127.0.0.1 --port "$port" --workers 2 >"$work/server.out" 2>"$work/server.err" &
server=$!
for _ in $(seq 100); do grep -q 'listening on' "$work/server.out" 2>/dev/null && break; sleep 0.05; done
grep -q 'listening on' "$work/server.out" || { echo "soak: FAILED: the server did not start"; exit 1; }

rss() { awk '/VmRSS/ {print $2}' "/proc/$server/status"; }
fds() { ls "/proc/$server/fd" | wc -l; }
fds0="$(fds)"
end=$(( $(date +%s) + secs ))

# Verifying clients: each bench run prints one summary line.
bench_loop() { # name mode conns size run_seconds
  local name="$1" mode="$2" conns="$3" size="$4" run="$5"
  while (( $(date +%s) + run <= end )); do
    "$app" bench --addr "127.0.0.1:$port" --mode "$mode" --conns "$conns" --size "$size" \
      --duration "$run" >>"$work/$name.lines" 2>>"$work/$name.err" || echo "exit $?" >>"$work/$name.err"
  done
}
bench_loop pingpong pingpong 20 64 5 &
pids+=($!)
bench_loop stream stream 10 4096 5 &
pids+=($!)
bench_loop churn pingpong 50 16 1 &   # 50 connects and closes a second
pids+=($!)

# Slow readers and resets, from Python (no extra tool to install).
python3 - "$port" "$end" >"$work/rude.out" 2>&1 <<'EOF' &
import socket, struct, sys, time
port, end = int(sys.argv[1]), int(sys.argv[2])
slow, resets = [], 0
while time.time() < end:
    # A slow reader: writes 256 KiB, reads 1 KiB a round.
    s = socket.create_connection(("127.0.0.1", port))
    s.setblocking(False)
    try:
        s.send(b"x" * 262144)
    except BlockingIOError:
        pass
    slow.append(s)
    for t in slow:
        try:
            t.recv(1024)
        except (BlockingIOError, ConnectionError):
            pass
    if len(slow) > 8:
        slow.pop(0).close()
    # A reset: data in flight, then RST (SO_LINGER 0).
    r = socket.create_connection(("127.0.0.1", port))
    r.send(b"reset me\n" * 100)
    r.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    r.close()
    resets += 1
    time.sleep(0.1)
for t in slow:
    t.close()
print(f"resets={resets}")
EOF
pids+=($!)

step=$(( secs / 10 )); (( step < 3 )) && step=3
warm_at=$(( $(date +%s) + secs / 3 ))
warm=""
start=$(date +%s)
while (( $(date +%s) < end )); do
  sleep "$step"
  now=$(date +%s)
  r="$(rss)"; f="$(fds)"
  echo "soak: t=$(( now - start ))s rss_kib=$r fds=$f"
  if [[ -z "$warm" && $now -ge $warm_at ]]; then warm="$r"; fi
  last="$r"
done
for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
pids=()
sleep 1
fds1="$(fds)"
kill -INT "$server"
status=0
wait "$server" || status=$?
server=""

fail=()
lines=$(cat "$work"/{pingpong,stream,churn}.lines 2>/dev/null | wc -l)
(( lines > 0 )) || fail+=("no bench run completed")
bad=$(grep -hv 'mismatches=0 errors=0' "$work"/{pingpong,stream,churn}.lines 2>/dev/null || true)
[[ -z "$bad" ]] || fail+=("bench runs with mismatches or errors: $bad")
errs=$(cat "$work"/{pingpong,stream,churn}.err 2>/dev/null || true)
[[ -z "$errs" ]] || fail+=("bench errors: $errs")
msgs=$(grep -ho 'msgs=[0-9]*' "$work"/{pingpong,stream,churn}.lines | awk -F= '{s+=$2} END {print s+0}')
[[ -n "$warm" ]] || warm="$last"
awk -v w="$warm" -v l="$last" 'BEGIN { exit !(l <= w * 1.10 + 2048) }' ||
  fail+=("RSS grew after warm-up: ${warm} KiB -> ${last} KiB")
(( fds1 == fds0 )) || fail+=("fds: $fds0 before the clients, $fds1 after")
warn=$(grep -E ' (WARN|ERROR) ' "$work/server.err" || true)
[[ -z "$warn" ]] || fail+=("server logged: $warn")
(( status == 0 )) || fail+=("server exit status $status on SIGINT")

echo "soak: ${secs}s, bench runs=$lines, messages verified=$msgs, $(cat "$work/rude.out"), rss warm=${warm} KiB last=${last} KiB, fds before=$fds0 after=$fds1"
if (( ${#fail[@]} )); then
  printf 'soak: FAILED: %s\n' "${fail[@]}"
  exit 1
fi
echo "soak: passed"
