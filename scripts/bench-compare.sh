#!/usr/bin/env bash
# Compares loop-bench with its peers (libuv 1.44 in C, Node.js) on this
# machine: runs both sides ROUNDS times, interleaved (so that load from
# elsewhere hits both alike), and prints the median of each workload with
# the ratio ours/peer (below 1: we are faster).
#
#   scripts/bench-compare.sh [ROUNDS]     (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}

cargo build --release --quiet -p loop-tests --bin loop-bench
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for _ in $(seq "$rounds"); do
  "${CARGO_TARGET_DIR:-target}"/release/loop-bench | sed 's/^/ours /' >>"$out"
  scripts/bench-peers.sh 2>/dev/null | grep -v '^#' >>"$out"
done

python3 - "$out" <<'EOF'
import statistics, sys
figs = {}
for line in open(sys.argv[1]):
    who, name, kv = line.split()
    key, val = kv.split("=")
    figs.setdefault((name, key), {}).setdefault(who, []).append(float(val))
print(f"| workload | unit | loop-core | peer | peer figure | ratio |")
print(f"|---|---|---|---|---|---|")
for (name, key), by in sorted(figs.items()):
    ours = statistics.median(by["ours"]) if "ours" in by else None
    for peer in ("libuv", "node"):
        if peer in by:
            p = statistics.median(by[peer])
            print(f"| {name} | {key} | {ours:.1f} | {peer} | {p:.1f} | {ours / p:.2f} |")
            break
    else:
        print(f"| {name} | {key} | {ours:.1f} | - | - | - |")
EOF
