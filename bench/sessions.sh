#!/usr/bin/env bash
# Many sessions: does ftpscope's time grow linearly with the number of FTP sessions, and its
# memory follow what is open rather than what was seen?
#
# For each N in BENCH (10k, 30k, 100k, 300k), examples/gen_capture.rs --replicate writes N copies
# of one real lab session (vsftpd advertising its private address in the 227; the client's data
# SYNs go unanswered), BENCH_CONCURRENCY of them open at once. Then, in one run, best of
# BENCH_RUNS with rounds interleaved:
#   tcpdump -r F -w /dev/null               the read floor
#   ftpscope analyze F > /dev/null          text report
#   ftpscope analyze F --json > /dev/null   JSON report
#   ftpscope analyze F --ndjson > /dev/null NDJSON events (reported as unavailable when the
#                                           binary has no --ndjson)
# with max RSS from /usr/bin/time. Before timing, ftpscope's JSON is checked: as many sessions
# as written, every frame read, and N times one copy's negotiation outcomes and findings (one
# copy analysed alone is the reference, so the check holds for whichever schema the binary has).
#
# Then standard input: the generator writes BENCH_STDIN sizes (2.5G and 10G) to a pipe into
# `ftpscope analyze - --json` (nothing on disk); the point is that max RSS does not grow with
# the size. The JSON is counted as it streams by (the document has one line per session,
# starting {"id":), not parsed whole.
#
# Environment:
#   BENCH=10k,30k,100k,300k      session counts (k = 1000)
#   BENCH_CONCURRENCY=5000       sessions open at once
#   BENCH_SOURCE=fixtures/pasv-private-leak-unanswered/client.pcap   the lab capture
#   BENCH_SESSION=0              which of its sessions (0 = first control connection)
#   BENCH_RUNS=3                 timed runs per tool and N (best is reported)
#   BENCH_STDIN=2.5G,10G         sizes for the standard-input check; empty skips it
#   BENCH_DIR=/tmp/ftpscope-bench   where captures go (reused while the generator is unchanged)
#   BENCH_RESULTS=bench/RESULTS.md  its "Many sessions" section is replaced; "-" prints only
#
# Exit status: non-zero if a tool fails or a check fails (the results are written first).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
NS=${BENCH-10k,30k,100k,300k}
CONC=${BENCH_CONCURRENCY:-5000}
SOURCE=${BENCH_SOURCE:-fixtures/pasv-private-leak-unanswered/client.pcap}
SESSION=${BENCH_SESSION:-0}
RUNS=${BENCH_RUNS:-3}
STDIN_SIZES=${BENCH_STDIN-2.5G,10G}
DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/ftpscope-bench}
RESULTS=${BENCH_RESULTS:-$ROOT/bench/RESULTS.md}

cd "$ROOT"
# shellcheck source=bench/lib.sh
. bench/lib.sh
need tcpdump tcpdump
need jq jq
need_time

echo "== building (release)" >&2
cargo build --release --quiet --bin ftpscope --example gen_capture
FTPSCOPE=$ROOT/target/release/ftpscope
GEN=$ROOT/target/release/examples/gen_capture
mkdir -p "$DIR"
: >"$DIR/stderr.log"

if "$FTPSCOPE" analyze --help 2>/dev/null | grep -q -- '--ndjson'; then NDJSON=1; else NDJSON=0; fi
[ "$NDJSON" = 1 ] || echo "== this ftpscope has no --ndjson: reported as unavailable" >&2

# Captures are named after what makes them: the generator's sources and the lab capture.
GEN_HASH=$(cat examples/gen_capture.rs tests/common/replicate.rs src/capture/writer.rs "$SOURCE" | sha1sum | cut -c1-10)
count() { awk -v s="$1" 'BEGIN { m = 1; if (s ~ /[kK]$/) m = 1000; if (s ~ /[mM]$/) m = 1000000; sub(/[kKmM]$/, "", s); printf "%d", s * m }'; }

# replicate N: prints the capture's path (with N.manifest.json beside it).
replicate() {
    local f=$DIR/sessions-$1-c$CONC-$GEN_HASH.pcap
    if [ ! -s "$f" ] || [ ! -s "$f.manifest.json" ]; then
        rm -f "$DIR"/sessions-"$1"-c"$CONC"-*.pcap "$DIR"/sessions-"$1"-c"$CONC"-*.pcap.manifest.json
        echo "== generating $f" >&2
        "$GEN" --replicate "$SOURCE" --session "$SESSION" --sessions "$1" --concurrency "$CONC" --manifest "$f.manifest.json" "$f.tmp" >&2
        mv "$f.tmp" "$f"
    else
        echo "== reusing $f" >&2
    fi
    echo "$f"
}

# What a JSON report says, in a few numbers: tolerant of ftpscope/1 (findings at the top, with a
# session id) and of a schema with findings inside each session.
SUMMARY_JQ='{
  schema: (.schema // "?"),
  sessions: (.sessions | length),
  frames: (.capture.frames // null),
  over_limit: (.capture.sessions_over_limit // 0),
  outcomes: ([.sessions[] | (.negotiations // [])[] | (.data.outcome // .outcome // "none")] | group_by(.) | map({key: .[0], value: length}) | from_entries),
  findings: ([((.findings // [])[] | .kind), (.sessions[] | (.findings // [])[] | .kind)] | group_by(.) | map({key: .[0], value: length}) | from_entries)
}'
summarize() { # capture: ftpscope's JSON report on it, summarized (streamed into jq, not stored)
    local rc
    set +e
    "$FTPSCOPE" analyze "$1" --json 2>>"$DIR/stderr.log" | jq -c "$SUMMARY_JQ"
    rc=${PIPESTATUS[0]}
    set -e
    [ "$rc" -le 1 ] || { echo "bench: ftpscope exited $rc on $1" >&2; exit 1; }
}

# ------------------------------------------------------------------ the reference: one copy
REF_CAP=$(replicate 1)
REF=$(summarize "$REF_CAP")
echo "== one copy of session $SESSION of $SOURCE: $REF" >&2
[ "$(jq .sessions <<<"$REF")" = 1 ] || { echo "bench: one copy should be one FTP session: $REF" >&2; exit 1; }

T=$DIR/sessions-times
rm -rf "$T"
mkdir -p "$T"
FAILED=0
CHECK_ROWS=""
TIME_ROWS=""
GROWTH_ROWS=""
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
IFS=', ' read -r -a NLIST <<<"$NS"
for n_arg in "${NLIST[@]}"; do
    [ -n "$n_arg" ] || continue
    n=$(count "$n_arg")
    CAP=$(replicate "$n_arg")
    M=$CAP.manifest.json
    cat "$CAP" >/dev/null # warm the page cache

    echo "== $n sessions: checking ftpscope's JSON" >&2
    GOT=$(summarize "$CAP")
    CHECK=$(jq -rn --argjson r "$REF" --argjson g "$GOT" --argjson n "$n" --slurpfile m "$M" '
        def times($k): with_entries(.value *= $k);
        [ [($g.sessions == $n), "sessions \($g.sessions) / \($n)" + (if $g.over_limit > 0 then " (\($g.over_limit) over the limit)" else "" end)],
          [($g.frames == null or $g.frames == $m[0].packets), "frames \($g.frames) / \($m[0].packets)"],
          [($g.outcomes == ($r.outcomes | times($n))), "outcomes \($g.outcomes | tostring)"],
          [($g.findings == ($r.findings | times($n))), "findings \($g.findings | tostring)"] ]
        | (if all(.[0]) then "ok" else "FAIL" end) + " | " + (map(.[1]) | join(", ")) + " | " + $g.schema')
    echo "   $CHECK" >&2
    [[ $CHECK == ok* ]] || FAILED=1
    CHECK_ROWS+="| $n | $CHECK |"$'\n'

    for r in $(seq 1 "$RUNS"); do
        echo "== $n sessions, round $r/$RUNS" >&2
        measure "$T/$n.tcpdump" tcpdump -r "$CAP" -w /dev/null
        measure "$T/$n.text" "$FTPSCOPE" analyze "$CAP"
        measure "$T/$n.json" "$FTPSCOPE" analyze "$CAP" --json
        [ "$NDJSON" = 0 ] || measure "$T/$n.ndjson" "$FTPSCOPE" analyze "$CAP" --ndjson
    done
    floor=$(best "$T/$n.tcpdump")
    cell() { # file: "s (x floor, RSS MiB)" or unavailable
        [ -s "$1" ] || { echo "unavailable"; return; }
        awk -v us="$(best "$1")" -v rss="$(maxrss "$1")" -v floor="$floor" 'BEGIN { printf "%.2f (%.2fx, %.0f MiB)", us / 1e6, us / floor, rss / 1024 }'
    }
    per() { [ -s "$1" ] && awk -v us="$(best "$1")" -v n="$n" 'BEGIN { printf "%.2f", us / n }' || echo "-"; }
    TIME_ROWS+=$(awk -v n="$n" -v mib="$(jq '.bytes / 1048576' "$M")" -v p="$(jq .packets "$M")" -v f="$floor" -v rss="$(maxrss "$T/$n.tcpdump")" \
        'BEGIN { printf "| %d | %.0f | %d | %.2f (%.0f MiB) ", n, mib, p, f / 1e6, rss / 1024 }')
    TIME_ROWS+="| $(cell "$T/$n.text") | $(cell "$T/$n.json") | $(cell "$T/$n.ndjson") |"$'\n'
    GROWTH_ROWS+="| $n | $(per "$T/$n.tcpdump") | $(per "$T/$n.text") | $(per "$T/$n.json") | $(per "$T/$n.ndjson") |"$'\n'
    LAST_N=$n
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

GOAL=""
if [ -n "${LAST_N:-}" ]; then
    GOAL=$(for mode in text json ndjson; do
        f=$T/$LAST_N.$mode
        if [ -s "$f" ]; then
            awk -v m="$mode" -v us="$(best "$f")" -v floor="$(best "$T/$LAST_N.tcpdump")" -v rss="$(maxrss "$f")" -v n="$LAST_N" 'BEGIN {
                ok = (us / floor <= 3 && rss / 1024 <= 256) ? "met" : "NOT met"
                printf "- %s at %d sessions: %.2fx the read floor, %.0f MiB max RSS: goal (within 3x, at most 256 MiB) %s\n", m, n, us / floor, rss / 1024, ok }'
        else
            echo "- $mode: unavailable in this binary"
        fi
    done)
fi

# ------------------------------------------------------------------ standard input
STDIN_ROWS=""
IFS=', ' read -r -a SLIST <<<"$STDIN_SIZES"
for size in "${SLIST[@]}"; do
    [ -n "$size" ] || continue
    echo "== $size on standard input" >&2
    m=$DIR/stdin-$size.manifest.json
    tf=$(mktemp)
    start=$(date +%s%N)
    set +e
    "$GEN" --replicate "$SOURCE" --session "$SESSION" --size "$size" --concurrency "$CONC" --manifest "$m" - 2>>"$DIR/stderr.log" \
        | "$TIME" -f "%M" -o "$tf" "$FTPSCOPE" analyze - --json 2>>"$DIR/stderr.log" \
        | grep -c '^{"id":' >"$DIR/stdin-count"
    codes=("${PIPESTATUS[@]}")
    set -e
    end=$(date +%s%N)
    if [ "${codes[0]}" -ne 0 ] || [ "${codes[1]}" -gt 1 ]; then
        echo "bench: generator or ftpscope failed on $size from stdin (exit ${codes[*]}; see $DIR/stderr.log)" >&2
        exit 1
    fi
    found=$(cat "$DIR/stdin-count")
    written=$(jq .sessions "$m")
    result=$([ "$found" = "$written" ] && echo ok || echo FAIL)
    [ "$result" = ok ] || FAILED=1
    STDIN_ROWS+=$(awk -v size="$size" -v bytes="$(jq .bytes "$m")" -v p="$(jq .packets "$m")" -v s="$written" -v us="$(((end - start) / 1000))" \
        -v rss="$(tail -n 1 "$tf")" -v found="$found" -v result="$result" \
        'BEGIN { printf "| %s | %.2f | %d | %d | %.1f | %.0f | %s / %d %s |\n", size, bytes / 1e9, p, s, us / 1e6, rss / 1024, found, s, result }')$'\n'
    rm -f "$tf"
done

# ------------------------------------------------------------------ results
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
MEM=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
REV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null | grep -q . && echo " (src modified)" || true)
SECTION=$DIR/sessions-section.md
{
    echo "$SESSIONS_BEGIN"
    echo "## Many sessions"
    echo
    echo "Generated by \`bench/sessions.sh\` (BENCH=$NS, BENCH_CONCURRENCY=$CONC, BENCH_RUNS=$RUNS, BENCH_STDIN=$STDIN_SIZES). See bench/README.md."
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) CPUs, $CPU, $MEM RAM; load average before $LOAD_BEFORE, after $LOAD_AFTER"
    echo "- ftpscope: git $REV$DIRTY, release profile; $(tcpdump --version 2>&1 | head -n 1); --ndjson $([ "$NDJSON" = 1 ] && echo available || echo "not in this binary")"
    jq -r '"- each capture: copies of session \(.source_session) of `\(.source)` (\(.session_packets) packets, \(.session_bytes) bytes, \(.session_duration_s) s: vsftpd 3.0.3 advertises 10.0.0.20 in its 227, the data SYNs go unanswered), \(.concurrency) open at once, one starting every \(.spacing_us) µs; clients 172.16.0.1 and up"' "$REF_CAP.manifest.json"
    echo "- one copy analysed alone (the reference for the checks): $REF"
    echo
    echo "### Times (best of $RUNS; in brackets: ratio to tcpdump, max RSS)"
    echo
    echo "| sessions | MiB | packets | tcpdump s | text s | --json s | --ndjson s |"
    echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    printf '%s' "$TIME_ROWS"
    echo
    echo "$GOAL"
    echo
    echo "### Growth: microseconds per session (flat = linear)"
    echo
    echo "| sessions | tcpdump | text | --json | --ndjson |"
    echo "| ---: | ---: | ---: | ---: | ---: |"
    printf '%s' "$GROWTH_ROWS"
    echo
    echo "### Checks of the JSON report"
    echo
    echo "| sessions | result | report / written | schema |"
    echo "| ---: | --- | --- | --- |"
    printf '%s' "$CHECK_ROWS"
    if [ -n "$STDIN_ROWS" ]; then
        echo
        echo "### Standard input: \`gen_capture --replicate ... - | ftpscope analyze - --json\` (nothing on disk)"
        echo
        echo "| size | GB | packets | sessions | wall s | ftpscope max RSS MiB | sessions in the JSON / written |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: | --- |"
        printf '%s' "$STDIN_ROWS"
        echo
        echo "Max RSS should be the same at every size: it follows the sessions open at once ($CONC), not the bytes."
    fi
    echo "$SESSIONS_END"
} >"$SECTION"
if [ "$RESULTS" = - ]; then
    cat "$SECTION"
else
    replace_section "$RESULTS" "$SECTION"
    echo "== results written to $RESULTS" >&2
fi
[ "$FAILED" = 0 ] || { echo "bench: a check failed (see the results)" >&2; exit 1; }
