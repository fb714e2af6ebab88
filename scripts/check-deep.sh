#!/usr/bin/env bash
# check-deep.sh [--soak SECONDS] [--fuzz SECONDS] -- the checks one test
# schedule cannot reach (docs/testing.md says what each proves):
#
#   loom      the cross-thread protocols under loom's model checker: the
#             async handle's coalescing wake-up (loop-core/src/wakeup.rs)
#             the pool's completion queue (loop-fs/src/notify.rs) and the
#             pool itself: queue, wake rule, lingering, cancel (pool.rs)
#   memcheck  the loop-core, loop-fs and loop-net test binaries under
#             valgrind --error-exitcode=1 (LOOP_TEST_TIME_SCALE=30 stretches
#             the loop watchdogs, valgrind being some 30x slower)
#   panics    the panic-safety property at 20,000 cases
#   fuzz      with --fuzz S: each cargo-fuzz target for S seconds (nightly),
#             new corpus entries kept in fuzz/corpus (commit them); the
#             saved corpus is always replayed on stable by cargo test
#             (tests/tests/fuzz_replay.rs)
#   bad       scripts/bad-clients.sh: echo-app's bad-client list against
#             the single-process server and a 2-process cluster
#   soak      scripts/soak.sh for --soak S seconds (default 600)
#
# Ends with `N passed, N failed` and exits non-zero if anything failed.
# CI runs `scripts/check-deep.sh --soak 30` (from scripts/check.sh): all
# but the long fuzzing.
set -uo pipefail
cd "$(dirname "$0")/.."

soak=600
fuzz=0
while (($#)); do
  case "$1" in
    --soak) soak="$2"; shift 2 ;;
    --fuzz) fuzz="$2"; shift 2 ;;
    *) echo "usage: check-deep.sh [--soak SECONDS] [--fuzz SECONDS]" >&2; exit 2 ;;
  esac
done

passed=0
failed=0
failures=()
step() { # name command...
  local name="$1"; shift
  echo "== deep: $name"
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "-- deep: $name FAILED"
  fi
}

loom_models() { # crate filter
  RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
    cargo test --quiet -p "$1" --lib --release "$2" 2>&1 | tail -3
  return "${PIPESTATUS[0]}"
}
step "loom: loop-core async wake-up" loom_models loop-core wakeup::loom_models
step "loom: loop-core task wakes" loom_models loop-core task::waker::loom_models
step "loom: loop-fs completion queue" loom_models loop-fs notify::loom_models
step "loom: loop-fs pool (wake rule, lingering, cancel)" loom_models loop-fs pool::loom_models

memcheck() { # crate test-name
  local bin
  bin="$(cargo test --quiet -p "$1" --test "$2" --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == sys.argv[1]:
        print(m["executable"])' "$2" | tail -1)"
  [[ -n "$bin" ]] || { echo "no test binary for $1/$2"; return 1; }
  LOOP_TEST_TIME_SCALE=30 valgrind -q --fair-sched=yes --error-exitcode=1 --leak-check=no "$bin" --test-threads=2 2>&1 |
    grep -E '^==|test result|FAILED|panicked' | tail -5
  return "${PIPESTATUS[0]}"
}
for t in uv_loop uv_timer uv_handles seam node_ordering panic_safety; do
  step "memcheck: loop-tests/$t" memcheck loop-tests "$t"
done
for t in threadpool fs_ops libuv_fs shutdown dns; do
  step "memcheck: loop-fs/$t" memcheck loop-fs "$t"
done
for t in uv_tcp node_net echo hot_path emfile uv_udp; do
  step "memcheck: loop-net/$t" memcheck loop-net "$t"
done

panics() {
  PROPTEST_CASES=20000 cargo test --quiet -p loop-tests --test panic_safety 2>&1 | tail -2
  return "${PIPESTATUS[0]}"
}
step "panic safety, 20,000 programs" panics

if ((fuzz > 0)); then
  fuzz_target() { # name max_len
    (cd fuzz && cargo +nightly fuzz run -O "$1" "corpus/$1" -- \
      -max_total_time="$fuzz" -max_len="$2" 2>&1 | grep -E '^#[0-9]+.*(DONE|pulse)|Done|crash|panicked' | tail -3
     exit "${PIPESTATUS[0]}")
  }
  command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
  step "fuzz: phase_script ${fuzz}s" fuzz_target phase_script 4096
  step "fuzz: loop_ops ${fuzz}s" fuzz_target loop_ops 1024
  step "fuzz: ipc_framing ${fuzz}s" fuzz_target ipc_framing 2048
fi

step "bad clients: one process, then --processes 2" scripts/bad-clients.sh 2
step "soak ${soak}s" scripts/soak.sh "$soak"

echo
for f in "${failures[@]}"; do echo "failed: $f"; done
echo "$passed passed, $failed failed"
((failed == 0))
