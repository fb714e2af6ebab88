#!/usr/bin/env bash
# Every check the project has: formatting, lints, rustdoc, all tests (unit,
# integration, doc tests, Node.js conformance), and a smoke run of the
# examples. This is the README's test command; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy (-D warnings)"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo doc (-D warnings)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet
echo "== examples (smoke run)"
for ex in loop-core/examples/*.rs; do
  name=$(basename "$ex" .rs)
  echo "-- example $name"
  timeout 60 cargo run --quiet -p loop-core --example "$name" >/dev/null
done
echo "== cargo test"
cargo test --workspace
