# Shared by bench/run.sh and bench/sessions.sh (sourced, not run). Expects DIR (where stderr.log
# goes) to be set before measure is called.

TIME=/usr/bin/time

# build_name BIN: which build is measured, for the results' header.
build_name() {
    case "$1" in
        */target/pgo/*) echo "release profile with PGO (scripts/pgo.sh)" ;;
        */target/release/*) echo "release profile" ;;
        *) echo "$1" ;;
    esac
}

need() { command -v "$1" >/dev/null || { echo "bench: $1 is missing (apt-get install $2)" >&2; exit 2; }; }
need_time() { [ -x "$TIME" ] || { echo "bench: /usr/bin/time is missing (apt-get install time)" >&2; exit 2; }; }

# measure OUT CMD...: runs CMD once, stdout to /dev/null; appends "microseconds max_rss_kb
# cpu_microseconds" to OUT (wall time, then user+sys: CPU time does not grow when other work on a
# busy machine makes the run wait for a core). Exit 1 from ftpscope (error findings present) is
# success here; anything else fails the benchmark.
measure() {
    local out=$1
    shift
    local tf start end rc
    tf=$(mktemp)
    start=$(date +%s%N)
    set +e
    "$TIME" -f "%M %U %S" -o "$tf" "$@" >/dev/null 2>>"$DIR/stderr.log"
    rc=$?
    set -e
    end=$(date +%s%N)
    if [ "$rc" -ne 0 ] && ! { [ "$rc" -eq 1 ] && [ "$(basename "$1")" = ftpscope ]; }; then
        echo "bench: '$*' exited $rc (see $DIR/stderr.log)" >&2
        exit 1
    fi
    echo "$(( (end - start) / 1000 )) $(tail -n 1 "$tf" | awk '{ printf "%d %d", $1, ($2 + $3) * 1e6 }')" >>"$out"
    rm -f "$tf"
}

best() { sort -n "$1" | head -n 1 | cut -d' ' -f1; }      # microseconds
best_cpu() { sort -n -k3 "$1" | head -n 1 | cut -d' ' -f3; } # microseconds of CPU (user+sys)
maxrss() { sort -n -k2 "$1" | tail -n 1 | cut -d' ' -f2; } # KB
all() { awk '{printf "%s%.2f", (NR > 1 ? ", " : ""), $1 / 1e6}' "$1"; }

# RESULTS.md holds run.sh's results, then sessions.sh's section between these markers; each
# script replaces only its own part.
SESSIONS_BEGIN='<!-- bench/sessions.sh: begin -->'
SESSIONS_END='<!-- bench/sessions.sh: end -->'

# replace_section RESULTS SECTION: puts SECTION (markers included) in place of the old one in
# RESULTS, or at its end.
replace_section() {
    local results=$1 section=$2 tmp
    tmp=$(mktemp)
    if [ -f "$results" ] && grep -qF "$SESSIONS_BEGIN" "$results"; then
        awk -v b="$SESSIONS_BEGIN" -v e="$SESSIONS_END" -v f="$section" '
            $0 == b { while ((getline line < f) > 0) print line; skip = 1; next }
            $0 == e { skip = 0; next }
            !skip' "$results" >"$tmp"
    else
        { [ -f "$results" ] && cat "$results" && echo; cat "$section"; } >"$tmp"
    fi
    cat "$tmp" >"$results"
    rm -f "$tmp"
}

# sessions_section RESULTS: prints sessions.sh's section of RESULTS (nothing if there is none).
sessions_section() {
    [ -f "$1" ] || return 0
    awk -v b="$SESSIONS_BEGIN" -v e="$SESSIONS_END" '$0 == b { on = 1 } on { print } $0 == e { on = 0 }' "$1"
}
