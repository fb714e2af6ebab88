#!/usr/bin/env bash
# Every check the project has: formatting, lints, rustdoc, all tests (unit,
# integration, doc tests, Node.js conformance), and a smoke run of the
# examples, and the short run of the deep checks (scripts/check-deep.sh:
# loom models, valgrind memcheck, panic safety, a 30 s soak). This is the
# README's test command; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy (-D warnings)"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo doc (-D warnings)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet
echo "== examples (smoke run)"
# A server example carries the line `// smoke: server`: it must print its
# `listening on` line, then it is stopped.
for ex in */examples/*.rs; do
  crate=$(dirname "$(dirname "$ex")")
  name=$(basename "$ex" .rs)
  echo "-- $crate example $name"
  cargo build --quiet -p "$crate" --example "$name"
  if grep -q '^// smoke: server' "$ex"; then
    out=$(timeout 5 "${CARGO_TARGET_DIR:-target}/debug/examples/$name" 2>&1 || true)
    grep -q 'listening on' <<<"$out" || { echo "$out"; exit 1; }
  else
    timeout 120 cargo run --quiet -p "$crate" --example "$name" >/dev/null
  fi
done
echo "== cargo test"
cargo test --workspace
echo "== deep checks (loom, memcheck, panic safety, fuzz corpus replay in cargo test above, 30 s soak)"
./scripts/check-deep.sh --soak 30
