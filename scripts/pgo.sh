#!/usr/bin/env bash
# A profile-guided (PGO) release build of ftpscope: the build the benchmarks measure and the one
# to install on a busy capture box. ftpscope's profile is flat (no function over a few percent of
# the time) and its code is larger than the CPU's instruction cache, so what helps most is code
# laid out by how it runs: PGO cut the busy-server benchmark's instructions by a fifth and its
# instruction-cache misses by a third (callgrind, bench/RESULTS.md). The output is the same as the
# plain build's, byte for byte (CI checks it on every fixture).
#
#   scripts/pgo.sh                      target/pgo/release/ftpscope
#   scripts/pgo.sh --features live      the same with live capture (libpcap-dev needed)
#
# Steps: an instrumented build (target/pgo-gen), a training run on captures made here (copies of
# real lab sessions in the benchmark's busy-server shapes, a bulk capture, every fixture) in each
# output, the profiles merged with llvm-profdata, then the build that uses them (target/pgo). The
# plain `cargo build --release` (target/release) is left alone. llvm-profdata must match rustc's
# LLVM: llvm-profdata-N (Debian's llvm-N, installed here when run as root) or rustup's
# llvm-tools. Prints the binary's path on stdout.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
root=$PWD

major=$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
find_profdata() {
  command -v "llvm-profdata-$major" && return
  local tools
  tools="$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin/llvm-profdata"
  [ -x "$tools" ] && echo "$tools"
}
profdata=$(find_profdata || true)
if [ -z "$profdata" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "pgo.sh: installing llvm-$major for llvm-profdata-$major" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "llvm-$major" >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "llvm-$major" >/dev/null; }
  profdata=$(find_profdata || true)
fi
if [ -z "$profdata" ]; then
  echo "pgo.sh: no llvm-profdata for rustc's LLVM $major: install llvm-$major (Debian) or run 'rustup component add llvm-tools'" >&2
  exit 2
fi

profiles=$root/target/pgo-profiles
# The training captures are kept while the generator that makes them is unchanged.
generator_hash=$(cat examples/gen_capture.rs tests/common/replicate.rs tests/common/segment.rs src/capture/writer.rs | sha1sum | cut -c1-10)
train=$root/target/pgo-train/$generator_hash
rm -rf "$profiles"
mkdir -p "$profiles" "$train"

echo "pgo.sh: instrumented build (target/pgo-gen)" >&2
RUSTFLAGS="-Cprofile-generate=$profiles" timeout 3600 cargo build --release --quiet --bin ftpscope --target-dir target/pgo-gen "$@" >&2
# The generator is an ordinary build: only ftpscope is profiled.
timeout 1800 cargo build --release --quiet --example gen_capture >&2
gen=$root/target/release/examples/gen_capture
instrumented=$root/target/pgo-gen/release/ftpscope

# The training captures: the benchmark's shapes (bench/sessions.sh), at 10k sessions, and a bulk
# capture like bench/run.sh's. Made once per generator (it is deterministic).
leak=fixtures/pasv-private-leak-workaround/client.pcap
generate() { # name, generator arguments
  local f=$train/$1.pcap
  shift
  if ! [ -s "$f" ]; then
    timeout 600 "$gen" "$@" "$f.tmp" >/dev/null 2>&1 || { echo "pgo.sh: the generator failed to write $f" >&2; exit 1; }
    mv "$f.tmp" "$f"
  fi
}
generate a --replicate "$leak" --session 1 --concurrency 5000 --sessions 10000
generate b --replicate "$leak" --session 1 --concurrency 50 --sessions 10000
generate c --replicate "$leak" --session 1 --concurrency 5000 --sessions 10000 --passive-ports 25444-25543
generate u --replicate fixtures/pasv-private-leak-unanswered/client.pcap --session 0 --concurrency 5000 --sessions 10000
generate bulk --size 64M

echo "pgo.sh: training run" >&2
run() { timeout 600 "$instrumented" "$@" >/dev/null 2>&1 || true; }
for capture in "$train"/*.pcap; do
  run analyze "$capture"
  run analyze "$capture" --json
  run analyze "$capture" --ndjson
done
run analyze "$train/bulk.pcap" --json --hash
while IFS= read -r capture; do
  run analyze "$capture"
  run analyze "$capture" --json
  run explain "$capture"
done < <(find fixtures -name '*.pcap' -o -name '*.pcapng' | sort)
ls "$profiles"/*.profraw >/dev/null 2>&1 || { echo "pgo.sh: the training run wrote no profile" >&2; exit 1; }

"$profdata" merge -o "$profiles/merged.profdata" "$profiles"/*.profraw
echo "pgo.sh: optimized build (target/pgo)" >&2
RUSTFLAGS="-Cprofile-use=$profiles/merged.profdata" timeout 3600 cargo build --release --quiet --bin ftpscope --target-dir target/pgo "$@" >&2
echo "$root/target/pgo/release/ftpscope"
