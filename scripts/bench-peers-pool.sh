#!/usr/bin/env bash
# bench-peers-pool.sh -- the thread-pool workloads (queue-work, work-chain,
# fs-stat) of loop-bench against their libuv 1.44 peers, on this machine.
#
#   scripts/bench-peers-pool.sh [ROUNDS]       wall clock (default 5 rounds)
#   scripts/bench-peers-pool.sh --callgrind    instructions per item
#
# Wall clock: both sides run ROUNDS times, interleaved (load from elsewhere
# hits both alike); prints the median ns per item of each, with the ratio
# ours / libuv (below 1: we are faster).
#
# --callgrind: runs each workload once under `valgrind --tool=callgrind` and
# prints the instructions executed (all threads, startup included) divided
# by the workload's item count. Instructions do not measure waiting: lock
# hand-offs and thread wake-ups cost little in instructions and much in time.
#
# BEFORE=/path/to/an/older/loop-bench adds that binary as a third column
# (built from an older commit, e.g. in a scratch `git worktree`).
#
# The peers are the C programs of scripts/bench-peers/ (bench-peers.sh
# builds the same ones); libuv's pool has its default 4 threads, as
# loop-bench's pools have 4.
set -euo pipefail

cd "$(dirname "$0")/.."
src_dir=scripts/bench-peers
mode=wall
rounds=5
case "${1:-}" in
  --callgrind) mode=callgrind ;;
  "") ;;
  *) rounds=$1 ;;
esac

if [[ ! -f /usr/include/uv.h ]]; then
  echo "# /usr/include/uv.h missing: installing libuv1-dev" >&2
  apt-get update >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y libuv1-dev >&2
fi
if [[ $mode == callgrind ]] && ! command -v valgrind >/dev/null; then
  echo "bench-peers-pool: valgrind not found" >&2
  exit 1
fi

cargo build --release --quiet -p loop-tests --bin loop-bench
ours="${CARGO_TARGET_DIR:-target}"/release/loop-bench
before=${BEFORE:-}

build_dir="$(mktemp -d "${TMPDIR:-/tmp}/bench-peers-pool.XXXXXX")"
trap 'rm -rf "$build_dir"' EXIT
# workload name, peer source, items per run (for --callgrind)
benches=("queue-work queue_work 200000" "work-chain work_chain 20000" "fs-stat fs_stat 100000")
for b in "${benches[@]}"; do
  read -r _ src _ <<<"$b"
  cc -O2 -Wall -Wextra -pthread -o "$build_dir/$src" "$src_dir/$src.c" -luv
done

if [[ $mode == callgrind ]]; then
  # Ir of one run: callgrind's "Collected" total.
  ir() {
    local out="$build_dir/cg.out"
    env -u UV_THREADPOOL_SIZE valgrind --tool=callgrind --callgrind-out-file="$out" "$@" \
      2>&1 >/dev/null | awk '/Collected/ {print $NF}'
  }
  echo "| workload | items | loop-fs Ir/item | libuv Ir/item |${before:+ before Ir/item |}"
  echo "|---|---|---|---|${before:+---|}"
  for b in "${benches[@]}"; do
    read -r name src items <<<"$b"
    o=$(ir "$ours" "$name")
    u=$(ir "$build_dir/$src")
    line="| $name | $items | $((o / items)) | $((u / items)) |"
    if [[ -n $before ]]; then
      p=$(ir "$before" "$name")
      line="$line $((p / items)) |"
    fi
    echo "$line"
  done
  exit 0
fi

out="$build_dir/figures"
for _ in $(seq "$rounds"); do
  for b in "${benches[@]}"; do
    read -r name src _ <<<"$b"
    "$ours" "$name" | sed 's/^/ours /' >>"$out"
    env -u UV_THREADPOOL_SIZE "$build_dir/$src" >>"$out"
    if [[ -n $before ]]; then
      "$before" "$name" | sed 's/^/before /' >>"$out"
    fi
  done
done

python3 - "$out" <<'EOF'
import statistics, sys
figs = {}
for line in open(sys.argv[1]):
    who, name, kv = line.split()
    figs.setdefault(name, {}).setdefault(who, []).append(float(kv.split("=")[1]))
has_before = any("before" in by for by in figs.values())
print("| workload | loop-fs | libuv | ours / libuv |" + (" before | before / libuv |" if has_before else ""))
print("|---|---|---|---|" + ("---|---|" if has_before else ""))
for name, by in figs.items():
    o, u = statistics.median(by["ours"]), statistics.median(by["libuv"])
    row = f"| {name} | {o:.1f} | {u:.1f} | {o / u:.2f} |"
    if has_before:
        b = statistics.median(by["before"])
        row += f" {b:.1f} | {b / u:.2f} |"
    print(row)
    for who in ("ours", "libuv", "before"):
        if who in by:
            print(f"#   {name} {who}: " + " ".join(f"{v:.1f}" for v in by[who]), file=sys.stderr)
EOF
