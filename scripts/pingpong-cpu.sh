#!/usr/bin/env bash
# pingpong-cpu.sh BEFORE AFTER [ROUNDS]: server CPU µs per message of two echo-app binaries,
# pingpong over 1 connection, 64 B, 5 s rounds alternating, servers on CPU 0, load on CPU 1.
before="$1"; after="$2"; rounds="${3:-5}"
tck=$(getconf CLK_TCK)
taskset -c 0 "$before" serve --host 127.0.0.1 --port 18301 >/tmp/pp1-b.log 2>&1 &
pb=$!
taskset -c 0 "$after" serve --host 127.0.0.1 --port 18302 --no-udp >/tmp/pp1-a.log 2>&1 &
pa=$!
sleep 1
ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
for r in $(seq "$rounds"); do
  for side in before after; do
    if [[ $side == before ]]; then p=$pb; port=18301; else p=$pa; port=18302; fi
    t0=$(ticks "$p")
    line=$(taskset -c 1 "$after" bench --addr 127.0.0.1:$port --mode pingpong --conns 1 --size 64 --duration 5 2>/dev/null | tail -1)
    t1=$(ticks "$p")
    msgs=$(tr ' ' '\n' <<<"$line" | awk -F= '$1=="msgs" {print $2}')
    echo "round $r $side msgs=$msgs cpu_us_per_msg=$(awk -v d=$((t1-t0)) -v m=$msgs -v t=$tck 'BEGIN{printf "%.2f", d*1e6/t/m}')"
  done
done
kill -INT $pb $pa; wait
