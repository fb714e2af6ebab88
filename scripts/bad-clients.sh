#!/usr/bin/env bash
# bad-clients.sh [PROCESSES] -- the bad-client list (echo-app/src/bin/bad-clients.rs)
# against the release echo-app: first the single-process server, then a
# cluster of PROCESSES worker processes (default 2, `serve --processes N`).
# Prints each run's PASS/FAIL lines; exit status 1 if any scenario failed.
# About three minutes.
set -euo pipefail

processes="${1:-2}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
(cd "$root" && cargo build --release --quiet -p echo-app)
status=0
echo "== single process"
"$target/release/bad-clients" || status=1
echo "== --processes $processes"
"$target/release/bad-clients" --processes "$processes" || status=1
exit "$status"
