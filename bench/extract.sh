#!/usr/bin/env bash
# Memory of --extract against the size of one transfer: one passive session downloading one file
# (examples/big_transfer.rs: segments of 1000 bytes, one pair in 64 swapped and captured again),
# of BENCH_SIZES (default 256M and 1G), each run `ftpscope analyze F --json --extract D` under
# GNU time. The extracted file must have the generator's SHA-256 and be complete; the max RSS
# must not grow with the file (at most BENCH_GROWTH, default 1.25, times the smallest's, and at
# most BENCH_MAX_RSS_MIB, default 64). Prints a table; exit status non-zero if a check fails.
#
# Environment: BENCH_SIZES="256M 1G", BENCH_DIR=/tmp/ftpscope-bench (captures, about 2.3 GiB for
# 1G, and the extracted files, removed after each run).
set -Eeuo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SIZES=${BENCH_SIZES:-256M 1G}
DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/ftpscope-bench}
GROWTH=${BENCH_GROWTH:-1.25}
MAX_RSS_MIB=${BENCH_MAX_RSS_MIB:-64}

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
need jq jq
need_time

cd "$ROOT"
echo "== building (release)" >&2
cargo build --release --quiet --bin ftpscope --example big_transfer
FTPSCOPE=$ROOT/target/release/ftpscope
GEN=$ROOT/target/release/examples/big_transfer
mkdir -p "$DIR"

echo "| file | capture MiB | extracted | complete | sha256 as written | max RSS MiB | s |"
echo "| --- | ---: | ---: | --- | --- | ---: | ---: |"
first_rss=""
failed=0
for size in $SIZES; do
    cap=$DIR/big-transfer-$size.pcap
    want=$("$GEN" "$cap" --size "$size")
    out=$DIR/extracted-$size
    rm -rf "$out" "$DIR/extract-times"
    mkdir -p "$DIR/extract-times"
    measure "$DIR/extract-times/ftpscope" "$FTPSCOPE" analyze "$cap" --json --extract "$out"
    line=$(head -n 1 "$out/manifest.ndjson")
    file=$out/$(jq -r .file <<<"$line")
    got=$(sha256sum "$file" | cut -d' ' -f1)
    complete=$(jq -r .complete <<<"$line")
    rss=$(maxrss "$DIR/extract-times/ftpscope")
    us=$(best "$DIR/extract-times/ftpscope")
    first_rss=${first_rss:-$rss}
    same=$([ "$got" = "$want" ] && echo yes || echo "NO ($got, not $want)")
    awk -v f="$size" -v c="$(stat -c %s "$cap")" -v x="$(stat -c %s "$file")" -v ok="$complete" -v same="$same" -v rss="$rss" -v us="$us" \
        'BEGIN { printf "| %s | %.0f | %d | %s | %s | %.1f | %.2f |\n", f, c / 1048576, x, ok, same, rss / 1024, us / 1e6 }'
    [ "$got" = "$want" ] && [ "$complete" = true ] || failed=1
    awk -v r="$rss" -v f="$first_rss" -v g="$GROWTH" -v m="$MAX_RSS_MIB" 'BEGIN { exit !(r <= f * g && r <= m * 1024) }' || failed=1
    rm -rf "$out" "$cap" "$DIR/extract-times"
done
[ "$failed" = 0 ] || { echo "bench/extract.sh: a check failed (the file, or memory that grows with it)" >&2; exit 1; }
