#!/usr/bin/env bash
# Many sessions: does ftpscope's time grow linearly with the number of FTP sessions, its memory
# follow what is open rather than what was seen, and is every data connection tied to its own
# client's session?
#
# Shapes (BENCH_SHAPES), each N copies of one real lab session written by
# examples/gen_capture.rs --replicate, every copy a different client:
#   unanswered  vsftpd advertises its private address in the 227, the client's data SYNs go
#               there unanswered; BENCH_CONCURRENCY (5000) open at once
#   a           a busy server's one passive port: vsftpd behind NAT, clients that work around its
#               private 227 by connecting to the control address (two transfers a session), all on
#               the server's one passive port; 5000 open at once
#   b           as a, 50 open at once, one after another
#   c           as a, on a 100-port passive range (copy i on port 25444 + i % 100: its 227's
#               text and its data connections); 5000 open at once
# For each shape and N, in one run, best of BENCH_RUNS with rounds interleaved:
#   tcpdump -r F -w /dev/null               the read floor
#   ftpscope analyze F > /dev/null          text report
#   ftpscope analyze F --json > /dev/null   JSON report
#   ftpscope analyze F --ndjson > /dev/null NDJSON events (reported as unavailable when the
#                                           binary has no --ndjson)
# with wall time, CPU time (user+sys) and max RSS from /usr/bin/time. Before timing, ftpscope's
# JSON is checked (streamed, never held whole): every data connection tied to a negotiation comes
# from its session's client (none of these shapes has a NAT between the capture point and the
# clients), as many are tied as the generator wrote, as many sessions as written, every frame
# read, and N times one copy's negotiation outcomes and findings (one copy analysed alone is the
# reference). Then growth per shape: the time per session at the largest N over that at the
# smallest (goal: 10x the sessions at most 11x the time, 1.10).
#
# Then standard input (shape unanswered): the generator writes BENCH_STDIN sizes (2.5G and 10G)
# to a pipe into `ftpscope analyze - --json` (nothing on disk); the point is that max RSS does
# not grow with the size. The JSON is counted as it streams by (the document has one line per
# session, starting {"id":), not parsed whole.
#
# Environment:
#   BENCH_SHAPES=unanswered,a,b,c   which shapes
#   BENCH=...                    session counts for every shape (k = 1000); unset: 10k,30k,100k,300k
#                                for unanswered, BENCH_BUSY for a, b and c
#   BENCH_BUSY=100k,300k         the busy shapes' counts when BENCH is unset (at 10k the read
#                                floor is 0.04 s: noise)
#   BENCH_CONCURRENCY=5000       sessions open at once (unanswered)
#   BENCH_SOURCE=fixtures/pasv-private-leak-unanswered/client.pcap   unanswered's lab capture
#   BENCH_SESSION=0              which of its sessions (0 = first control connection)
#   BENCH_RUNS=3                 timed runs per tool and N (best is reported)
#   BENCH_TIME=cpu               the measure of ratios, goals and growth: cpu (user+sys, steady on a
#                                busy machine) or wall; both are shown
#   BENCH_STDIN=2.5G,10G         sizes for the standard-input check; empty skips it
#   BENCH_DIR=/tmp/ftpscope-bench   where captures go (reused while the generator is unchanged)
#   BENCH_RESULTS=bench/RESULTS.md  its "Many sessions" section is replaced; "-" prints only
#   FTPSCOPE=target/release/ftpscope   the binary measured (scripts/pgo.sh builds the PGO one:
#                                FTPSCOPE=target/pgo/release/ftpscope)
#
# Exit status: non-zero if a tool fails or a check fails (the results are written first).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHAPES=${BENCH_SHAPES:-unanswered,a,b,c}
BUSY_NS=${BENCH_BUSY:-100k,300k}
CONC=${BENCH_CONCURRENCY:-5000}
SOURCE=${BENCH_SOURCE:-fixtures/pasv-private-leak-unanswered/client.pcap}
SESSION=${BENCH_SESSION:-0}
RUNS=${BENCH_RUNS:-3}
MEASURE=${BENCH_TIME:-cpu}
STDIN_SIZES=${BENCH_STDIN-2.5G,10G}
DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/ftpscope-bench}
RESULTS=${BENCH_RESULTS:-$ROOT/bench/RESULTS.md}
# The busy shapes' lab session: vsftpd 3.0.3 behind NAT advertises 10.0.0.20:40002, lftp connects
# to the control address's port 40002 instead (two passive transfers, LIST and RETR).
WORKAROUND=fixtures/pasv-private-leak-workaround/client.pcap
# 100 ports whose 227 text is as long as the lab's "156,66": "99,100" to "99,199".
RANGE=25444-25543

cd "$ROOT"
# shellcheck source=bench/lib.sh
. bench/lib.sh
need tcpdump tcpdump
need jq jq
need_time
case $MEASURE in cpu | wall) ;; *) echo "bench: BENCH_TIME is cpu or wall, not $MEASURE" >&2; exit 2 ;; esac

# shape_args SHAPE: the generator's arguments for the shape (source, session, concurrency, range).
shape_args() {
    case $1 in
        unanswered) echo "--replicate $SOURCE --session $SESSION --concurrency $CONC" ;;
        a) echo "--replicate $WORKAROUND --session 1 --concurrency 5000" ;;
        b) echo "--replicate $WORKAROUND --session 1 --concurrency 50" ;;
        c) echo "--replicate $WORKAROUND --session 1 --concurrency 5000 --passive-ports $RANGE" ;;
        *) echo "bench: unknown shape $1 (unanswered, a, b, c)" >&2; exit 2 ;;
    esac
}
shape_sizes() { if [ -n "${BENCH+set}" ]; then echo "$BENCH"; elif [ "$1" = unanswered ]; then echo 10k,30k,100k,300k; else echo "$BUSY_NS"; fi; }
shape_story() {
    case $1 in
        unanswered) echo "vsftpd 3.0.3 advertises 10.0.0.20 in its 227, the data SYNs go there unanswered" ;;
        a) echo "vsftpd 3.0.3 behind NAT advertises 10.0.0.20:40002, the client connects to the control address's port 40002 instead (LIST and RETR): every copy on the one passive port" ;;
        b) echo "as a, 50 open at once" ;;
        c) echo "as a, copy i on passive port 25444 + i % 100 (its 227's text and its data connections)" ;;
    esac
}
IFS=', ' read -r -a SHAPE_LIST <<<"$SHAPES"
for shape in "${SHAPE_LIST[@]}"; do shape_args "$shape" >/dev/null; done

echo "== building (release)" >&2
cargo build --release --quiet --bin ftpscope --example gen_capture
FTPSCOPE=${FTPSCOPE:-$ROOT/target/release/ftpscope}
BUILD=$(build_name "$FTPSCOPE")
GEN=$ROOT/target/release/examples/gen_capture
mkdir -p "$DIR"
: >"$DIR/stderr.log"

if "$FTPSCOPE" analyze --help 2>/dev/null | grep -q -- '--ndjson'; then NDJSON=1; else NDJSON=0; fi
[ "$NDJSON" = 1 ] || echo "== this ftpscope has no --ndjson: reported as unavailable" >&2

GEN_SOURCES=$(cat examples/gen_capture.rs tests/common/replicate.rs tests/common/segment.rs src/capture/writer.rs | sha1sum | cut -c1-10)
count() { awk -v s="$1" 'BEGIN { m = 1; if (s ~ /[kK]$/) m = 1000; if (s ~ /[mM]$/) m = 1000000; sub(/[kKmM]$/, "", s); printf "%d", s * m }'; }

# replicate SHAPE N: prints the capture's path (with its manifest beside it). Named after what
# makes it: the generator's sources, the shape's arguments and its lab capture.
replicate() {
    local args hash f
    args=$(shape_args "$1")
    # shellcheck disable=SC2086 # the arguments are words
    hash=$( { echo "$GEN_SOURCES $args"; cat "$(set -- $args; echo "$2")"; } | sha1sum | cut -c1-10)
    f=$DIR/sessions-$1-$2-$hash.pcap
    if [ ! -s "$f" ] || [ ! -s "$f.manifest.json" ]; then
        rm -f "$DIR"/sessions-"$1"-"$2"-*.pcap "$DIR"/sessions-"$1"-"$2"-*.pcap.manifest.json
        echo "== generating $f" >&2
        # shellcheck disable=SC2086
        "$GEN" $args --sessions "$2" --manifest "$f.manifest.json" "$f.tmp" >&2
        mv "$f.tmp" "$f"
    else
        echo "== reusing $f" >&2
    fi
    echo "$f"
}

# What a JSON report says, in a few numbers, folded one session at a time: the document has one
# line per session, starting {"id":, and those lines are read as separate values (jq 1.6's
# --stream took 8 minutes for 10k of these sessions); the rest of the document, with an empty
# sessions array, is small and read whole. A layout that puts sessions elsewhere still works
# (they are then in the rest), only slower. Tolerant of ftpscope/1 (findings at the top, with a
# session id) and of a schema with findings inside each session.
#
# The tie check: a negotiation's data connection (and its earlier attempts) is tied to the
# session; in passive mode the client opened it, in active mode the server did, towards the
# client. Its client-side address must be the session client's: these captures have no NAT
# between the capture point and the clients, so the NAT rule of docs/schema.md never applies.
FOLD_JQ='
def host: sub(":[0-9]+$"; "");
def init: {sessions: 0, outcomes: {}, findings: {}, tied: 0, foreign: 0, example: null};
def fold($s):
  ($s.client | host) as $c
  | .sessions += 1
  | reduce ($s.negotiations // [])[] as $n (.;
      .outcomes[($n.data.outcome // $n.outcome // "none")] += 1
      | reduce ([$n.data.connection // $n.connection // empty] + ($n.data.earlier_attempts // []))[] as $k (.;
          .tied += 1
          | (if $n.mode == "active" then $k.server else $k.client end) as $from
          | if ($from | host) == $c then .
            else .foreign += 1 | .example //= "session \($s.id) of client \($s.client) holds the connection from \($from) (matched_by \($n.data.matched_by // "?"))"
            end))
  | reduce ($s.findings // [])[] as $f (.; .findings[$f.kind] += 1);
'
summarize() { # capture: ftpscope's JSON report on it, summarized (streamed, never stored whole)
    local rest codes
    rest=$(mktemp)
    set +e
    "$FTPSCOPE" analyze "$1" --json 2>>"$DIR/stderr.log" \
        | awk -v rest="$rest" '/^[{]"id":/ { sub(/,$/, ""); print; next } { print >rest }' \
        | jq -cn "$FOLD_JQ reduce inputs as \$s (init; fold(\$s))" >"$rest.sessions"
    codes=("${PIPESTATUS[@]}")
    set -e
    if [ "${codes[0]}" -gt 1 ] || [ "${codes[1]}" -ne 0 ] || [ "${codes[2]}" -ne 0 ]; then
        echo "bench: ftpscope, awk or jq failed on $1 (exit ${codes[*]}; see $DIR/stderr.log)" >&2
        exit 1
    fi
    jq -c --slurpfile streamed "$rest.sessions" "$FOLD_JQ"'
        (reduce (.sessions // [])[] as $s ($streamed[0]; fold($s))) as $f
        | { schema: (.schema // "?"), sessions: $f.sessions, frames: (.capture.frames // null),
            over_limit: (.capture.sessions_over_limit // 0), tied: $f.tied, foreign: $f.foreign,
            outcomes: $f.outcomes, findings: (reduce (.findings // [])[] as $x ($f.findings; .[$x.kind] += 1)),
            example: $f.example }' "$rest"
    rm -f "$rest" "$rest.sessions"
}

# check REF GOT N MANIFEST: "ok | ..." or "FAIL | ...", the tie check first.
check() {
    jq -rn --argjson r "$1" --argjson g "$2" --argjson n "$3" --slurpfile m "$4" '
        def times($k): with_entries(.value *= $k);
        ($m[0].data_connections // null) as $written
        | [ [($g.foreign == 0), "ties: \($g.foreign) of \($g.tied) data connections in another client'"'"'s session" + (if $g.example then " (first: \($g.example))" else "" end)],
            [($written == null or $g.tied == $written), "\($g.tied) tied / \($written) written"],
            [($g.sessions == $n), "sessions \($g.sessions) / \($n)" + (if $g.over_limit > 0 then " (\($g.over_limit) over the limit)" else "" end)],
            [($g.frames == null or $g.frames == $m[0].packets), "frames \($g.frames) / \($m[0].packets)"],
            [($g.outcomes == ($r.outcomes | times($n))), "outcomes \($g.outcomes | tostring)"],
            [($g.findings == ($r.findings | times($n))), "findings \($g.findings | tostring)"] ]
        | (if all(.[0]) then "ok" else "FAIL" end) + " | " + (map(.[1]) | join(", ")) + " | " + $g.schema'
}

T=$DIR/sessions-times
rm -rf "$T"
mkdir -p "$T"
FAILED=0
CHECK_ROWS=""
TIME_ROWS=""
GROWTH_ROWS=""
GOAL=""
SHAPE_LINES=""
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
# us FILE: the best time of the chosen measure, microseconds.
us() { if [ "$MEASURE" = cpu ]; then best_cpu "$1"; else best "$1"; fi; }
for shape in "${SHAPE_LIST[@]}"; do
    # ---------------------------------------------------------------- the reference: one copy
    REF_CAP=$(replicate "$shape" 1)
    REF=$(summarize "$REF_CAP")
    echo "== $shape: one copy: $REF" >&2
    REF_CHECK=$(check "$REF" "$REF" 1 "$REF_CAP.manifest.json")
    [[ $REF_CHECK == ok* ]] || { echo "bench: one copy of shape $shape should be one FTP session with its own ties: $REF_CHECK" >&2; exit 1; }
    SHAPE_LINES+="- shape $shape ($(shape_args "$shape")): "$(jq -r '"copies of session \(.source_session) of `\(.source)` (\(.session_packets) packets, \(.session_bytes) bytes, \(.session_duration_s) s, \(.session_data_connections) data connection(s))"' "$REF_CAP.manifest.json")": $(shape_story "$shape"); one copy analysed alone (the reference): $(jq -c 'del(.example)' <<<"$REF")"$'\n'

    IFS=', ' read -r -a NLIST <<<"$(shape_sizes "$shape")"
    FIRST_N=""
    LAST_N=""
    for n_arg in "${NLIST[@]}"; do
        [ -n "$n_arg" ] || continue
        n=$(count "$n_arg")
        CAP=$(replicate "$shape" "$n_arg")
        M=$CAP.manifest.json
        cat "$CAP" >/dev/null # warm the page cache

        echo "== $shape, $n sessions: checking ftpscope's JSON" >&2
        CHECK=$(check "$REF" "$(summarize "$CAP")" "$n" "$M")
        echo "   $CHECK" >&2
        [[ $CHECK == ok* ]] || FAILED=1
        CHECK_ROWS+="| $shape | $n | $CHECK |"$'\n'

        for r in $(seq 1 "$RUNS"); do
            echo "== $shape, $n sessions, round $r/$RUNS" >&2
            measure "$T/$shape.$n.tcpdump" tcpdump -r "$CAP" -w /dev/null
            measure "$T/$shape.$n.text" "$FTPSCOPE" analyze "$CAP"
            measure "$T/$shape.$n.json" "$FTPSCOPE" analyze "$CAP" --json
            [ "$NDJSON" = 0 ] || measure "$T/$shape.$n.ndjson" "$FTPSCOPE" analyze "$CAP" --ndjson
        done
        floor=$(best "$T/$shape.$n.tcpdump")
        floor_cpu=$(best_cpu "$T/$shape.$n.tcpdump")
        cell() { # file: "wall s (x floor) / cpu s (x floor), RSS MiB", or unavailable
            [ -s "$1" ] || { echo "unavailable"; return; }
            awk -v w="$(best "$1")" -v c="$(best_cpu "$1")" -v rss="$(maxrss "$1")" -v fw="$floor" -v fc="$floor_cpu" \
                'BEGIN { printf "%.2f (%s) / %.2f (%s), %.0f MiB", w / 1e6, x(w, fw), c / 1e6, x(c, fc), rss / 1024 }
                 function x(t, floor) { return floor > 0 ? sprintf("%.2fx", t / floor) : "-" }'
        }
        per() { [ -s "$1" ] && awk -v us="$(us "$1")" -v n="$n" 'BEGIN { printf "%.2f", us / n }' || echo "-"; }
        TIME_ROWS+=$(awk -v s="$shape" -v n="$n" -v mib="$(jq '.bytes / 1048576' "$M")" -v p="$(jq .packets "$M")" -v f="$floor" -v fc="$floor_cpu" -v rss="$(maxrss "$T/$shape.$n.tcpdump")" \
            'BEGIN { printf "| %s | %d | %.0f | %d | %.2f / %.2f (%.0f MiB) ", s, n, mib, p, f / 1e6, fc / 1e6, rss / 1024 }')
        TIME_ROWS+="| $(cell "$T/$shape.$n.text") | $(cell "$T/$shape.$n.json") | $(cell "$T/$shape.$n.ndjson") |"$'\n'
        GROWTH_ROWS+="| $shape | $n | $(per "$T/$shape.$n.tcpdump") | $(per "$T/$shape.$n.text") | $(per "$T/$shape.$n.json") | $(per "$T/$shape.$n.ndjson") |"$'\n'
        FIRST_N=${FIRST_N:-$n}
        LAST_N=$n
    done
    [ -n "$LAST_N" ] || continue
    for mode in text json ndjson; do
        f=$T/$shape.$LAST_N.$mode
        if [ ! -s "$f" ]; then
            GOAL+="- $shape, $mode: unavailable in this binary"$'\n'
            continue
        fi
        GOAL+=$(awk -v s="$shape" -v m="$mode" -v t="$(us "$f")" -v floor="$(us "$T/$shape.$LAST_N.tcpdump")" -v rss="$(maxrss "$f")" -v n="$LAST_N" \
            -v t0="$(us "$T/$shape.$FIRST_N.$mode")" -v n0="$FIRST_N" -v measure="$MEASURE" 'BEGIN {
            if (floor == 0) { # CPU times come in 10 ms steps
                printf "- %s, %s at %d sessions: the read floor is below the timer'"'"'s resolution: no ratio\n", s, m, n
                exit
            }
            ok = (t / floor <= 3 && rss / 1024 <= 256) ? "met" : "NOT met"
            printf "- %s, %s at %d sessions: %.2fx the read floor (%s time), %.0f MiB max RSS: goal (within 3x, at most 256 MiB) %s", s, m, n, t / floor, measure, rss / 1024, ok
            if (n > n0 && t0 > 0) {
                g = (t / n) / (t0 / n0)
                printf "; growth from %d: %.2fx the time for %.1fx the sessions, %.2f per session: goal (10x the sessions at most 11x the time, 1.10) %s", n0, t / t0, n / n0, g, (g <= 1.1 ? "met" : "NOT met")
            }
            printf "\n" }')$'\n'
    done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

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
    # shellcheck disable=SC2046 # the arguments are words
    "$GEN" $(shape_args unanswered) --size "$size" --manifest "$m" - 2>>"$DIR/stderr.log" \
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
    echo "Generated by \`bench/sessions.sh\` (BENCH_SHAPES=$SHAPES, BENCH=${BENCH-unset: 10k,30k,100k,300k for unanswered, $BUSY_NS for the busy shapes}, BENCH_RUNS=$RUNS, BENCH_TIME=$MEASURE, BENCH_STDIN=$STDIN_SIZES). See bench/README.md."
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) CPUs, $CPU, $MEM RAM; load average before $LOAD_BEFORE, after $LOAD_AFTER"
    echo "- ftpscope: git $REV$DIRTY, $BUILD; $(tcpdump --version 2>&1 | head -n 1); --ndjson $([ "$NDJSON" = 1 ] && echo available || echo "not in this binary")"
    echo "- clients 172.16.0.1 and up, one per copy"
    printf '%s' "$SHAPE_LINES"
    echo
    echo "### Times (best of $RUNS: wall s (ratio to tcpdump's wall) / CPU user+sys s (ratio to tcpdump's CPU), max RSS)"
    echo
    echo "The goals and the growth below use $MEASURE time (BENCH_TIME)."
    echo
    echo "| shape | sessions | MiB | packets | tcpdump wall / CPU s | text | --json | --ndjson |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    printf '%s' "$TIME_ROWS"
    echo
    printf '%s' "$GOAL"
    echo
    echo "### Growth: microseconds per session, $MEASURE time (flat = linear)"
    echo
    echo "| shape | sessions | tcpdump | text | --json | --ndjson |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: |"
    printf '%s' "$GROWTH_ROWS"
    echo
    echo "### Checks of the JSON report (ties first: every data connection in its own client's session, as many as written)"
    echo
    echo "| shape | sessions | result | ties, report / written | schema |"
    echo "| --- | ---: | --- | --- | --- |"
    printf '%s' "$CHECK_ROWS"
    if [ -n "$STDIN_ROWS" ]; then
        echo
        echo "### Standard input: \`gen_capture --replicate ... - | ftpscope analyze - --json\` (shape unanswered, nothing on disk)"
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
