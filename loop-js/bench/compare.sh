#!/usr/bin/env bash
# The speed figures of docs/js.md: each chain under node and loop-js
# (release), alternately, RUNS times (default 3); every line is one run:
#   RUNTIME CHAIN n=N ms=MS
# Build first: cargo build --release -p loop-js
set -euo pipefail
cd "$(dirname "$0")"
LJ=${LOOP_JS:-../../target/release/loop-js}
RUNS=${RUNS:-3}
for b in tick-chain immediate-chain promise-chain; do
  for _ in $(seq "$RUNS"); do
    echo "node    $(node "$b.js")"
    echo "loop-js $("$LJ" "$b.js")"
  done
done
