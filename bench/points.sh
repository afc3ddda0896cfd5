#!/usr/bin/env bash
# Two capture points, many sessions: does `ftpscope explain A B` stay within its memory bound?
#
# examples/gen_capture.rs --replicate writes N copies (default 100k, 5000 open at once) of the
# same lab session as seen at two points: the client's side (A) and the router's WAN side (B)
# of fixtures/pasv-private-leak-unanswered. Each pair of copies has the same sequence numbers,
# so every session pairs. Then `explain A B` runs as text, --json and --html, BENCH_RUNS times
# each, and its max RSS (/usr/bin/time) is checked against BENCH_LIMIT_MIB: explain reads each
# file once and keeps, per session, only what pairing compares, so memory is the analysis'
# own (sessions open at once) plus that summary of every session of both captures.
#
# With FTPSCOPE_BEFORE=path/to/another/ftpscope, that binary is measured too (a build from
# before a change) and the outputs of the two are compared byte for byte.
#
# Environment:
#   BENCH_POINTS=100k           sessions per capture (k = 1000)
#   BENCH_CONCURRENCY=5000      sessions open at once
#   BENCH_RUNS=3                runs per view (the largest max RSS is reported)
#   BENCH_LIMIT_MIB=256         the bound
#   BENCH_DIR=/tmp/ftpscope-bench   where captures go (reused while the generator is unchanged)
#   FTPSCOPE_BEFORE=            a second binary to measure and compare with
#
# Not part of `cargo test`: a memory bound on a busy machine is a measurement, not a unit test.
# Exit status: 1 if a view is over the bound or the outputs differ.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
N_ARG=${BENCH_POINTS:-100k}
CONC=${BENCH_CONCURRENCY:-5000}
RUNS=${BENCH_RUNS:-3}
LIMIT=${BENCH_LIMIT_MIB:-256}
DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/ftpscope-bench}
BEFORE=${FTPSCOPE_BEFORE:-}
LAB=fixtures/pasv-private-leak-unanswered

cd "$ROOT"
# shellcheck source=bench/lib.sh
. bench/lib.sh
need_time

echo "== building (release)" >&2
cargo build --release --quiet --bin ftpscope --example gen_capture
FTPSCOPE=$ROOT/target/release/ftpscope
GEN=$ROOT/target/release/examples/gen_capture
mkdir -p "$DIR"
: >"$DIR/stderr.log"

GEN_HASH=$(cat examples/gen_capture.rs tests/common/replicate.rs tests/common/segment.rs src/capture/writer.rs "$LAB"/client.pcap "$LAB"/router-wan.pcap | sha1sum | cut -c1-10)
capture() { # point: prints the path of N copies of the lab session seen at that point
    local f=$DIR/points-$1-$N_ARG-c$CONC-$GEN_HASH.pcap
    if [ ! -s "$f" ]; then
        rm -f "$DIR"/points-"$1"-"$N_ARG"-c"$CONC"-*.pcap
        echo "== generating $f" >&2
        "$GEN" --replicate "$LAB/$1.pcap" --session 0 --sessions "$N_ARG" --concurrency "$CONC" "$f.tmp" >&2
        mv "$f.tmp" "$f"
    fi
    echo "$f"
}
A=$(capture client)
B=$(capture router-wan)

FAILED=0
ROWS=""
for bin in "$FTPSCOPE" ${BEFORE:+"$BEFORE"}; do
    for view in text json html; do
        case $view in
            text) args=() ;;
            json) args=(--json) ;;
            html) args=(--html "$DIR/points-$view.html") ;;
        esac
        f=$DIR/points-times
        rm -f "$f"
        for _ in $(seq 1 "$RUNS"); do
            # --html will not overwrite the page the previous run wrote.
            rm -f "$DIR/points-$view.html"
            measure "$f" "$bin" explain -q "${args[@]}" "$A" "$B"
        done
        mib=$(awk -v kb="$(maxrss "$f")" 'BEGIN { printf "%.0f", kb / 1024 }')
        verdict=$([ "$mib" -le "$LIMIT" ] && echo within || echo OVER)
        [ "$bin" != "$FTPSCOPE" ] || [ "$verdict" = within ] || FAILED=1
        ROWS+="| $bin | $view | $mib | $(awk -v us="$(best "$f")" 'BEGIN { printf "%.2f", us / 1e6 }') | $verdict |"$'\n'
    done
done

if [ -n "$BEFORE" ]; then
    for view in text json html; do
        set +e
        case $view in
            text) cmp -s <("$FTPSCOPE" explain -q "$A" "$B" 2>/dev/null) <("$BEFORE" explain -q "$A" "$B" 2>/dev/null) ;;
            json) cmp -s <("$FTPSCOPE" explain -q --json "$A" "$B" 2>/dev/null) <("$BEFORE" explain -q --json "$A" "$B" 2>/dev/null) ;;
            html)
                rm -f "$DIR/points-after.html" "$DIR/points-before.html"
                "$FTPSCOPE" explain -q --html "$DIR/points-after.html" "$A" "$B" >/dev/null 2>&1
                "$BEFORE" explain -q --html "$DIR/points-before.html" "$A" "$B" >/dev/null 2>&1
                cmp -s "$DIR/points-after.html" "$DIR/points-before.html"
                ;;
        esac
        same=$?
        set -e
        [ "$same" = 0 ] && echo "== $view: the same output from both binaries" >&2 || { echo "== $view: the outputs DIFFER" >&2; FAILED=1; }
    done
fi

echo
echo "explain A B, $N_ARG sessions per capture ($CONC open at once), max RSS over $RUNS run(s), bound $LIMIT MiB"
echo
echo "| binary | view | max RSS MiB | best s | bound |"
echo "| --- | --- | ---: | ---: | --- |"
printf '%s' "$ROWS"
[ "$FAILED" = 0 ] || { echo "bench: over the bound, or the outputs differ" >&2; exit 1; }
