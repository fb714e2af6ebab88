#!/usr/bin/env bash
# bench-peers.sh -- run the peer benchmarks (libuv 1.44 in C, Node.js) that
# loop-core's own benchmarks are compared against.
#
# Sources live in scripts/bench-peers/ next to this script.  Output (stdout):
#   # libuv <uv_version_string()>
#   # node <node --version>
#   libuv million-timers ns_per_op=X
#   libuv timer-churn ns_per_op=X
#   libuv empty-iteration ns_per_op=X
#   libuv async-wakeup ns_per_op=X
#   libuv queue-work ns_per_op=X
#   libuv work-chain ns_per_op=X
#   libuv fs-stat ns_per_op=X
#   node next-tick ns_per_op=X
#   node immediate ns_per_op=X
# Diagnostics (apt output, compiler output, the million-timers start/run
# breakdown) go to stderr.  Installs Debian's libuv1-dev if uv.h is missing
# (needs root).  Takes roughly 10 s on a 2-core machine once libuv is installed.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src_dir="$script_dir/bench-peers"

if [[ ! -f /usr/include/uv.h ]]; then
  echo "# /usr/include/uv.h missing: installing libuv1-dev" >&2
  apt-get update >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y libuv1-dev >&2
fi

command -v cc >/dev/null || { echo "bench-peers: no C compiler (cc) found" >&2; exit 1; }
command -v node >/dev/null || { echo "bench-peers: node not found" >&2; exit 1; }

build_dir="$(mktemp -d "${TMPDIR:-/tmp}/bench-peers.XXXXXX")"
trap 'rm -rf "$build_dir"' EXIT

c_benches=(million_timers timer_churn empty_iteration async_wakeup queue_work work_chain fs_stat)
for name in version "${c_benches[@]}"; do
  cc -O2 -Wall -Wextra -pthread -o "$build_dir/$name" "$src_dir/$name.c" -luv
done

"$build_dir/version"
echo "# node $(node --version)"

for name in "${c_benches[@]}"; do
  # The pool benchmarks (queue_work, work_chain, fs_stat) use libuv's default of 4
  # threads, as loop-bench uses loop-fs's default of 4.
  env -u UV_THREADPOOL_SIZE "$build_dir/$name"
done

node "$src_dir/next_tick.js"
node "$src_dir/immediate.js"
