#!/usr/bin/env bash
# Throughput and memory benchmark: ftpscope against the read floor (tcpdump) and tshark.
#
# Builds release, generates a large synthetic capture (examples/gen_capture.rs: thousands of
# interleaved FTP sessions with bulk data, failing sessions, background traffic), checks that
# ftpscope's JSON accounts for everything the generator wrote, then times in one run, best of
# BENCH_RUNS (rounds interleaved so a change in machine load hits every tool alike):
#   tcpdump -r F -w /dev/null                   the read floor: parse every record, write nothing
#   ftpscope analyze F --json > /dev/null       the full analysis and report
#   ftpscope analyze F --json --hash            the same, every data stream in order and hashed
#   ftpscope analyze F --json --extract D       the same, every data stream written to a file in D
#                                               (in BENCH_DIR: the capture's data bytes on disk)
#   tshark -r F -q                              tshark reading only (no filter, no tap: it skips
#                                               most dissection, so it is another floor)
#   tshark -r F -q -Y "ftp || ftp-data"         tshark dissecting every frame through TCP, FTP and
#                                               the FTP data connections (PASV/PORT tracking): the
#                                               comparable work. The ratio to tshark uses this one.
# Then, for memory, ftpscope on a capture twice the size (twice the sessions) and on one twice
# the size with about as many sessions (bulk transfers twice as large).
#
# Environment:
#   BENCH_SIZE=1G           capture size (K/M/G suffixes, binary)
#   BENCH_RUNS=3            timed runs per tool (best is reported)
#   BENCH_TSHARK_RUNS=1     timed runs of the slow tshark -Y (about 15 s per GB)
#   BENCH_DIR=/tmp/ftpscope-bench   where captures go (reused when the generator is unchanged)
#   BENCH_SCALING=1         0 skips the 2x captures
#   BENCH_RESULTS=bench/RESULTS.md  where the results go; "-" prints them only (the many-sessions
#                                   section that bench/sessions.sh writes there is kept)
#   FTPSCOPE=target/release/ftpscope   the binary measured (scripts/pgo.sh builds the PGO one:
#                                      FTPSCOPE=target/pgo/release/ftpscope)
#
# Timing is on a warm page cache (the file is read once first): it measures the programs, not
# the disk. Exit status: non-zero if a tool fails or a check of ftpscope's report fails.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SIZE=${BENCH_SIZE:-1G}
RUNS=${BENCH_RUNS:-3}
TSHARK_RUNS=${BENCH_TSHARK_RUNS:-1}
DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/ftpscope-bench}
SCALING=${BENCH_SCALING:-1}
RESULTS=${BENCH_RESULTS:-$ROOT/bench/RESULTS.md}

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
need tcpdump tcpdump
need tshark tshark
need jq jq
need_time

cd "$ROOT"
echo "== building (release)" >&2
cargo build --release --quiet --bin ftpscope --example gen_capture
FTPSCOPE=${FTPSCOPE:-$ROOT/target/release/ftpscope}
BUILD=$(build_name "$FTPSCOPE")
GEN=$ROOT/target/release/examples/gen_capture
mkdir -p "$DIR"

# Captures are named after the generator's source, so a changed generator makes new ones.
GEN_HASH=$(cat examples/gen_capture.rs tests/common/segment.rs src/capture/writer.rs | sha1sum | cut -c1-10)

# generate NAME SIZE [generator args...]: prints the capture's path.
generate() {
    local name=$1 size=$2
    shift 2
    local f=$DIR/$name-$size-$GEN_HASH.pcap
    if [ ! -s "$f" ] || [ ! -s "$f.manifest.json" ]; then
        rm -f "$DIR"/"$name"-"$size"-*.pcap "$DIR"/"$name"-"$size"-*.pcap.manifest.json
        echo "== generating $f" >&2
        "$GEN" "$f.tmp" --size "$size" --manifest "$f.manifest.json" "$@" >&2
        mv "$f.tmp" "$f"
    else
        echo "== reusing $f" >&2
    fi
    echo "$f"
}

CAP=$(generate capture "$SIZE")
MANIFEST=$CAP.manifest.json
BYTES=$(stat -c %s "$CAP")
cat "$CAP" >/dev/null # warm the page cache

# ------------------------------------------------------------------ correctness of the work
echo "== checking ftpscope's report against the generator's manifest" >&2
JSON=$DIR/report.json
set +e
"$FTPSCOPE" analyze "$CAP" --json >"$JSON"
rc=$?
set -e
[ "$rc" -le 1 ] || { echo "bench: ftpscope exited $rc" >&2; exit 1; }
CHECKS=$(jq -r --slurpfile m "$MANIFEST" '
  ($m[0]) as $m
  | . as $r
  | ([.sessions[] | {key: .client, value: .id}] | from_entries) as $by_client
  | def ids(kind): [($r.sessions[].findings // [])[], $r.findings[] | select(.kind == kind) | .session] | unique;
  (ids("data_connection_failed")) as $failed
  | (ids("private_address_leak")) as $leak
  | [
      ["frames read = packets written", ($r.capture.frames == $m.packets), "\($r.capture.frames) / \($m.packets)"],
      ["FTP sessions found = sessions written", (($r.sessions | length) == $m.sessions), "\($r.sessions | length) / \($m.sessions)"],
      ["no session over the limit, no undecodable frame", ($r.capture.sessions_over_limit == 0 and $r.capture.undecodable_frames == 0), "\($r.capture.sessions_over_limit), \($r.capture.undecodable_frames)"],
      ["transfers established = transfers written", ([$r.sessions[].negotiations[] | select(.data.outcome == "established")] | length) == $m.transfers, "\([$r.sessions[].negotiations[] | select(.data.outcome == "established")] | length) / \($m.transfers)"],
      ["data bytes counted = data bytes written", ([$r.sessions[].negotiations[].data.bytes // 0] | add) == $m.data_bytes, "\([$r.sessions[].negotiations[].data.bytes // 0] | add) / \($m.data_bytes)"],
      ["pasv_private sessions: data_connection_failed + private_address_leak", ([$m.failing_clients.pasv_private[] | $by_client[.] as $id | ($id != null and ($failed | index($id)) != null and ($leak | index($id)) != null)] | all), "\($m.failing.pasv_private) sessions"],
      ["port_refused sessions: data_connection_failed", ([$m.failing_clients.port_refused[] | $by_client[.] as $id | ($id != null and ($failed | index($id)) != null)] | all), "\($m.failing.port_refused) sessions"],
      ["no data_connection_failed elsewhere", (($failed | length) == ($m.failing.pasv_private + $m.failing.port_refused)), "\($failed | length) sessions with it"]
    ]
  | .[] | "\(if .[1] then "ok  " else "FAIL" end) | \(.[0]) | \(.[2])"' "$JSON")
echo "$CHECKS" >&2
# With --hash, every transfer the generator wrote whole is hashed whole.
HASHED=$("$FTPSCOPE" analyze "$CAP" --json --hash | jq --slurpfile m "$MANIFEST" -r '
  [.sessions[].negotiations[] | select(.data.outcome == "established") | .data.content.complete] as $c
  | "\(if ($c | all) and ($c | length) == $m[0].transfers then "ok  " else "FAIL" end) | --hash: every established transfer hashed complete | \([$c[] | select(.)] | length) / \($m[0].transfers)"' || true)
CHECKS=$(printf '%s\n%s' "$CHECKS" "${HASHED:-FAIL | --hash: the report could not be read | -}")
echo "$HASHED" >&2
if grep -q '^FAIL' <<<"$CHECKS"; then
    echo "bench: ftpscope's report does not match the capture" >&2
    exit 1
fi

# ------------------------------------------------------------------ timing
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
T=$DIR/times
rm -rf "$T"
mkdir -p "$T"
for r in $(seq 1 "$RUNS"); do
    echo "== round $r/$RUNS" >&2
    measure "$T/tcpdump" tcpdump -r "$CAP" -w /dev/null
    measure "$T/ftpscope" "$FTPSCOPE" analyze "$CAP" --json
    # In directories of their own: measure tells ftpscope's runs by the file's name.
    mkdir -p "$T/hash" "$T/extract"
    measure "$T/hash/ftpscope" "$FTPSCOPE" analyze "$CAP" --json --hash
    rm -rf "$DIR/extracted"
    measure "$T/extract/ftpscope" "$FTPSCOPE" analyze "$CAP" --json --extract "$DIR/extracted"
    rm -rf "$DIR/extracted"
    measure "$T/tshark_q" tshark -r "$CAP" -q
done
for r in $(seq 1 "$TSHARK_RUNS"); do
    echo "== tshark -Y, run $r/$TSHARK_RUNS" >&2
    measure "$T/tshark_y" tshark -r "$CAP" -q -Y "ftp || ftp-data"
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

FLOOR=$(best "$T/tcpdump")
TSHARK_Y=$(best "$T/tshark_y")

row() { # name command file
    local us rss
    us=$(best "$3")
    rss=$(maxrss "$3")
    awk -v name="$1" -v cmd="$2" -v us="$us" -v rss="$rss" -v bytes="$BYTES" -v floor="$FLOOR" -v all="$(all "$3")" 'BEGIN {
        printf "| %s | `%s` | %.2f | %s | %.0f | %.1f | %.2fx |\n", name, cmd, us / 1e6, all, bytes / 1e6 / (us / 1e6), rss / 1024, us / floor
    }'
}
TABLE=$(
    echo "| tool | command | best s | all runs s | MB/s | max RSS MiB | vs tcpdump |"
    echo "| --- | --- | ---: | --- | ---: | ---: | ---: |"
    row tcpdump "tcpdump -r F -w /dev/null" "$T/tcpdump"
    row ftpscope "ftpscope analyze F --json > /dev/null" "$T/ftpscope"
    row "ftpscope --hash" "ftpscope analyze F --json --hash" "$T/hash/ftpscope"
    row "ftpscope --extract" "ftpscope analyze F --json --extract D" "$T/extract/ftpscope"
    row "tshark (read only)" "tshark -r F -q" "$T/tshark_q"
    row "tshark (FTP dissection)" "tshark -r F -q -Y \"ftp || ftp-data\"" "$T/tshark_y"
)
FTP_US=$(best "$T/ftpscope")
SUMMARY=$(awk -v f="$FTP_US" -v floor="$FLOOR" -v ty="$TSHARK_Y" 'BEGIN {
    printf "ftpscope: %.2fx the tcpdump read floor (goal: within 1.5x); %.1fx faster than tshark dissecting FTP (%.3fx its time).", f / floor, ty / f, f / ty }')
echo "$TABLE" >&2
echo "$SUMMARY" >&2

# ------------------------------------------------------------------ memory against capture size
SCALE_TABLE=""
if [ "$SCALING" != 0 ]; then
    num=${SIZE%[KkMmGg]}
    unit=${SIZE#"$num"}
    SIZE2=$(awk -v n="$num" 'BEGIN { print n * 2 }')$unit
    CAP2=$(generate capture "$SIZE2")
    CAP2B=$(generate same-sessions "$SIZE2" --bulk-scale 2)
    scale_row() { # label capture
        local f=$2 m=$2.manifest.json out
        cat "$f" >/dev/null
        out=$DIR/scale.$$
        rm -f "$out"
        for _ in $(seq 1 "$RUNS"); do measure "$out" "$FTPSCOPE" analyze "$f" --json; done
        awk -v label="$1" -v bytes="$(stat -c %s "$f")" -v s="$(jq .sessions "$m")" -v c="$(jq '.sessions + .transfers + .failing.pasv_private + .failing.port_refused + .background_connections' "$m")" \
            -v us="$(best "$out")" -v rss="$(maxrss "$out")" 'BEGIN {
            printf "| %s | %.0f | %d | %d | %.2f | %.1f |\n", label, bytes / 1048576, s, c, us / 1e6, rss / 1024 }'
        rm -f "$out"
    }
    SCALE_TABLE=$(
        echo "| capture | MiB | FTP sessions | TCP connections | ftpscope best s | max RSS MiB |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: |"
        scale_row "$SIZE (the capture above)" "$CAP"
        scale_row "$SIZE2, twice the sessions" "$CAP2"
        scale_row "$SIZE2, about as many sessions (transfers twice as large)" "$CAP2B"
    )
    echo "$SCALE_TABLE" >&2
fi

# ------------------------------------------------------------------ results
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
MEM=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
REV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null | grep -q . && echo " (src modified)" || true)
{
    echo "# Benchmark results"
    echo
    echo "Generated by \`bench/run.sh\` (BENCH_SIZE=$SIZE, BENCH_RUNS=$RUNS, BENCH_TSHARK_RUNS=$TSHARK_RUNS). See bench/README.md."
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- machine: $(nproc) CPUs, $CPU, $MEM RAM, Linux $(uname -r)"
    echo "- load average (1, 5, 15 min): before timing $LOAD_BEFORE, after $LOAD_AFTER"
    echo "- ftpscope: git $REV$DIRTY, $BUILD; $(tcpdump --version 2>&1 | head -n 1); $(tshark --version 2>/dev/null | head -n 1)"
    echo "- warm page cache: the programs are measured, not the disk"
    echo
    echo "## Capture"
    echo
    jq -r --arg hash "$GEN_HASH" '"- \(.bytes) bytes (\(.bytes / 1048576 | floor) MiB), \(.packets) packets, \(.duration_s) s of traffic; generator examples/gen_capture.rs (sha1 \($hash) of it, tests/common/segment.rs and src/capture/writer.rs), seed \(.seed), \(.concurrency) sessions at once\n- \(.sessions) FTP sessions, \(.transfers) data transfers carrying \(.data_bytes) bytes; failing sessions: \(.failing.pasv_private) with a private 227 address (SYNs unanswered), \(.failing.port_refused) with the active data connection refused (RST, 425)\n- \(.background_connections) background TCP connections (HTTP, TLS-like), one DNS lookup per session"' "$MANIFEST"
    echo
    echo "## Checks of ftpscope's report (the benchmark measures real work)"
    echo
    echo "| result | check | report / written |"
    echo "| --- | --- | --- |"
    sed 's/^/| /; s/$/ |/' <<<"$CHECKS"
    echo
    echo "## Throughput"
    echo
    echo "$TABLE"
    echo
    echo "$SUMMARY"
    if [ -n "$SCALE_TABLE" ]; then
        echo
        echo "## Memory against capture size"
        echo
        echo "$SCALE_TABLE"
    fi
} >"$DIR/RESULTS.md"
# bench/sessions.sh's section of the results stays.
if [ "$RESULTS" != - ] && [ -n "$(sessions_section "$RESULTS")" ]; then
    { echo; sessions_section "$RESULTS"; } >>"$DIR/RESULTS.md"
fi
# bench/live.sh's section is kept too.
if [ "$RESULTS" != - ] && grep -qF '<!-- bench/live.sh: begin -->' "$RESULTS"; then
    { echo; awk '$0 == "<!-- bench/live.sh: begin -->" { on = 1 } on { print } $0 == "<!-- bench/live.sh: end -->" { on = 0 }' "$RESULTS"; } >>"$DIR/RESULTS.md"
fi
if [ "$RESULTS" = - ]; then
    cat "$DIR/RESULTS.md"
else
    cp "$DIR/RESULTS.md" "$RESULTS"
    echo "== results written to $RESULTS" >&2
fi
