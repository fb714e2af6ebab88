#!/usr/bin/env bash
# bench-async.sh [--no-callgrind] [N]: loop-core's tasks against tokio's current-thread
# runtime + LocalSet (tests/benches/async_tasks.rs), in one process each:
#   1. wall time, ns per task / per step, N = 1,000,000 (or the N given), each workload
#      in its own run of the bench binary;
#   2. unless --no-callgrind: user-space instructions per task / per step under
#      valgrind --tool=callgrind, as (Ir(2M) - Ir(M)) / M with M = 100,000, so the
#      setup (runtime, loop, thread pool) cancels out.
# Build profile: release (debug=1). The machine's load shows in (1), not in (2).
set -euo pipefail
cd "$(dirname "$0")/.."
callgrind=1
if [[ "${1:-}" == "--no-callgrind" ]]; then callgrind=0; shift; fi
n="${1:-1000000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
bin=$(cargo bench -p loop-tests --bench async_tasks --no-run 2>&1 \
  | sed -n 's/.*Executable .*(\(.*async_tasks-[0-9a-f]*\)).*/\1/p' | tail -1)
[[ -x "$bin" ]] || { echo "bench-async: no bench binary found" >&2; exit 1; }
workloads=(loop-spawn tokio-spawn loop-spawn-yield tokio-spawn-yield loop-pingpong tokio-pingpong)
echo "# wall time, N=$n (ns per task; per step for pingpong)"
for w in "${workloads[@]}"; do "$bin" "$w" "$n"; done
if [[ $callgrind == 1 ]]; then
  command -v valgrind >/dev/null || { echo "bench-async: valgrind not installed" >&2; exit 1; }
  m=100000
  echo "# callgrind: instructions per task / per step, (Ir(2M) - Ir(M)) / M, M=$m"
  ir() {
    local out; out=$(mktemp /tmp/cg-async.XXXXXX)
    valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" "$1" "$2" >/dev/null 2>&1
    grep -E '^(summary|totals):' "$out" | head -1 | awk '{print $2}'
    rm -f "$out"
  }
  for w in "${workloads[@]}"; do
    a=$(ir "$w" $m); b=$(ir "$w" $((2 * m)))
    echo "$w Ir_per_op=$(awk -v a="$a" -v b="$b" -v m=$m 'BEGIN{printf "%.0f", (b-a)/m}')"
  done
fi
