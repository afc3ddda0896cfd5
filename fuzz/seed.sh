#!/usr/bin/env bash
# Writes the seed corpora (fuzz/corpus/<target>/, not committed) from the capture fixtures.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release --quiet --example fuzz_seeds -- fixtures fuzz/corpus
