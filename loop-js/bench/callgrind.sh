#!/usr/bin/env bash
# Instructions per step of each chain, from callgrind (exact, unlike a
# clock on a shared machine): each chain runs at N and at 2N steps and
# the difference of the two totals is divided by N, so start-up (engine,
# bootstrap, loop) cancels out. Prints one line per chain:
#   CHAIN Ir/step=I (N=.. total=.., 2N=.. total=..)
# Build first: cargo build --release -p loop-js
set -euo pipefail
cd "$(dirname "$0")"
LJ=${LOOP_JS:-../../target/release/loop-js}
ir() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$LJ" "$1" "$2" 2>&1 >/dev/null |
    awk '/Collected/ { print $4 }'
}
for spec in tick-chain:100000 immediate-chain:20000 promise-chain:100000; do
  b=${spec%%:*}
  n=${spec##*:}
  a=$(ir "$b.js" "$n")
  c=$(ir "$b.js" $((2 * n)))
  echo "$b Ir/step=$(((c - a) / n)) (N=$n total=$a, 2N=$((2 * n)) total=$c)"
done
