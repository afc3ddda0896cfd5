#!/usr/bin/env bash
# Live capture under load: traffic through a veth pair between two network namespaces, as fast
# as this machine pushes it, with `ftpscope live` and `tcpdump -w /dev/null` capturing the same
# interface at the same time, with the same filter and the same kernel buffer (ftpscope's
# default 32 MiB, then libpcap's default 2 MiB). Two loads (BENCH_LIVE_LOADS):
#   iperf3  bulk TCP, one stream, for BENCH_LIVE_SECONDS: big packets, the most bytes
#   replay  bench/sessions.sh's shape b (copies of a real lab session, each a different client,
#           50 open at once, all on the server's one passive port: gen_capture --replicate),
#           BENCH_LIVE_SESSIONS of them sent by tcpreplay --topspeed: small packets, many
#           sessions, the most work per packet (the frames keep the lab's addresses and MACs, so
#           the receiving namespace drops them after the captures saw them: nothing answers)
# Packets received and dropped by each, per run, as a table in bench/RESULTS.md (its own marked
# section; the other scripts keep it).
#
#   bash bench/live.sh                 # root; builds the live binary (needs libpcap-dev)
#   BENCH_LIVE_LOADS=replay BENCH_LIVE_SESSIONS=2k BENCH_LIVE_RUNS=1 BENCH_LIVE_BUFFERS=32 BENCH_RESULTS=- bash bench/live.sh
#                                      # a quick try: a few seconds
#
#   BENCH_LIVE_LOADS="iperf3 replay"   BENCH_LIVE_SESSIONS=100k  shape b's sessions replayed
#   BENCH_LIVE_SECONDS=10  length of each iperf3 run   BENCH_LIVE_RUNS=3  runs per load and buffer size
#   BENCH_LIVE_BUFFERS="32 2"  kernel buffer sizes in MiB: ftpscope's default, then libpcap's
#   BENCH_RESULTS=bench/RESULTS.md  where the table goes; "-" prints it only
#   BENCH_LIVE_TARGET_DIR=target/live  cargo's target directory for the live build (kept apart so
#                          that it does not replace target/release's binary; "target" reuses the
#                          release dependencies already built there)
#
# Offloads (TSO, GSO, GRO) are off on the veth ends, as in the lab: every segment is a packet on
# the wire (1500-byte MTU), which is what a capture on a real interface sees, and the most
# packets per second this machine can make. All traffic stays in the two namespaces this script
# creates and removes; every step is bounded by `timeout`.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECS=${BENCH_LIVE_SECONDS:-10}
LOADS=${BENCH_LIVE_LOADS:-iperf3 replay}
REPLAY_SESSIONS=${BENCH_LIVE_SESSIONS:-100k}
RUNS=${BENCH_LIVE_RUNS:-3}
BUFFERS=${BENCH_LIVE_BUFFERS:-32 2}
RESULTS=${BENCH_RESULTS:-$ROOT/bench/RESULTS.md}
BEGIN='<!-- bench/live.sh: begin -->'
END='<!-- bench/live.sh: end -->'
FILTER='tcp or icmp or icmp6 or (vlan and (tcp or icmp or icmp6))'

[[ $(id -u) -eq 0 ]] || { echo "bench/live.sh: run as root (network namespaces, capture)" >&2; exit 2; }
export DEBIAN_FRONTEND=noninteractive
for load in $LOADS; do
  [[ $load == iperf3 || $load == replay ]] || { echo "bench/live.sh: unknown load $load (iperf3, replay)" >&2; exit 2; }
done
for p in iperf3 tcpdump tcpreplay iproute2 ethtool libpcap-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
    { apt-get install -y -qq --no-install-recommends "$p" >/dev/null 2>&1 ||
      { apt-get update -qq && apt-get install -y -qq --no-install-recommends "$p" >/dev/null; }; }
done
TARGET_DIR=${BENCH_LIVE_TARGET_DIR:-target/live}
(cd "$ROOT" && timeout 1200 cargo build --release --quiet --features live --target-dir "$TARGET_DIR" --bins --example gen_capture)
[[ $TARGET_DIR == /* ]] || TARGET_DIR=$ROOT/$TARGET_DIR
BIN=$TARGET_DIR/release/ftpscope
GEN=$TARGET_DIR/release/examples/gen_capture

P="fsbench$$"
DIR=$(mktemp -d /tmp/ftpscope-bench-live.XXXXXX)
cleanup() {
  local ns pid
  for ns in "$P-a" "$P-b"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$P-a"; ip netns add "$P-b"
ip -n "$P-a" link add va type veth peer name vb netns "$P-b"
for side in a b; do
  ifc=v$side
  ip -n "$P-$side" link set dev lo up
  ip netns exec "$P-$side" ethtool -K "$ifc" tso off gso off gro off >/dev/null 2>&1 || true
  ip -n "$P-$side" link set dev "$ifc" up
done
ip -n "$P-a" addr add 10.99.0.1/24 dev va
ip -n "$P-b" addr add 10.99.0.2/24 dev vb

# Shape b of bench/sessions.sh, written here and removed with the rest.
if [[ " $LOADS " == *" replay "* ]]; then
  timeout 600 "$GEN" --replicate "$ROOT/fixtures/pasv-private-leak-workaround/client.pcap" --session 1 --concurrency 50 \
    --sessions "$REPLAY_SESSIONS" --manifest "$DIR/replay.manifest.json" "$DIR/replay.pcap" 2>/dev/null
  REPLAY_PACKETS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["packets"])' "$DIR/replay.manifest.json")
fi

wait_for() { # wait_for FILE TEXT: bounded
  local i
  for i in $(seq 1 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  echo "bench/live.sh: no '$2' in $1: $(cat "$1")" >&2; exit 1
}

rows=()
pkill_ns() { local pid; for pid in $(ip netns pids "$P-b"); do [[ $(cat /proc/$pid/comm 2>/dev/null) == "$1" ]] && kill "-$2" "$pid" 2>/dev/null; done; true; }
for load in $LOADS; do
for mib in $BUFFERS; do
for run in $(seq 1 "$RUNS"); do
  if [[ $load == iperf3 ]]; then ip netns exec "$P-b" iperf3 -s -D -1 >/dev/null 2>&1 || true; fi
  sleep 0.2
  ip netns exec "$P-b" timeout -s KILL $((SECS + 600)) "$BIN" live -i vb --json -Z root --buffer-size "${mib}M" >"$DIR/ftpscope.json" 2>"$DIR/ftpscope.err" &
  fpid=$!
  ip netns exec "$P-b" timeout -s KILL $((SECS + 600)) tcpdump -n -B $((mib * 1024)) -i vb -w /dev/null "$FILTER" 2>"$DIR/tcpdump.err" &
  tpid=$!
  wait_for "$DIR/ftpscope.err" 'listening on'
  wait_for "$DIR/tcpdump.err" 'listening on'
  if [[ $load == iperf3 ]]; then
    ip netns exec "$P-a" timeout $((SECS + 15)) iperf3 -c 10.99.0.2 -t "$SECS" -J >"$DIR/iperf.json" 2>/dev/null || true
    rate=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.2f Gbit/s" % (d["end"]["sum_received"]["bits_per_second"]/1e9))' "$DIR/iperf.json" 2>/dev/null || echo "?")
  else
    # --preload-pcap: read from memory, so the disk does not set the pace.
    ip netns exec "$P-a" timeout 300 tcpreplay -i va --topspeed --preload-pcap "$DIR/replay.pcap" >"$DIR/tcpreplay.out" 2>&1 || true
    rate=$(awk '/Rated:/ { gsub(",", "", $0); for (i = 1; i <= NF; i++) if ($i ~ /pps/) { printf "%.0fk pps", $(i - 1) / 1000 } }' "$DIR/tcpreplay.out")
    sent=$(awk '/Actual:/ { print $2 }' "$DIR/tcpreplay.out")
    rate="$REPLAY_SESSIONS sessions, ${sent:-?}/$REPLAY_PACKETS packets sent, ${rate:-?}"
  fi
  sleep 0.5
  pkill_ns ftpscope INT; pkill_ns tcpdump INT
  wait "$fpid" || true; wait "$tpid" || true
  read -r f_frames f_recv f_drop f_ifdrop < <(python3 -c 'import json,sys
d=json.load(open(sys.argv[1])); c=d["capture"]; l=c["inputs"][0]["live"]
print(c["frames"], l["received"], l["dropped"], l["interface_dropped"])' "$DIR/ftpscope.json")
  t_capt=$(awk '/packets captured/ {print $1}' "$DIR/tcpdump.err")
  t_recv=$(awk '/packets received by filter/ {print $1}' "$DIR/tcpdump.err")
  t_drop=$(awk '/packets dropped by kernel/ {print $1}' "$DIR/tcpdump.err")
  verdict=$([[ $f_drop -le $t_drop ]] && echo "yes" || echo "NO")
  echo "bench/live.sh: $load, ${mib} MiB run $run: $rate; ftpscope $f_frames analysed, $f_recv received, $f_drop dropped; tcpdump $t_capt captured, $t_recv received, $t_drop dropped" >&2
  rows+=("| $load: $rate | ${mib} MiB | $run | $f_recv | $f_frames | $f_drop | $t_recv | $t_capt | $t_drop | $verdict |")
done
done
done

section=$DIR/section.md
{
  echo "$BEGIN"
  echo "## Live capture under load (\`bench/live.sh\`)"
  echo
  echo "Generated by \`bench/live.sh\` (BENCH_LIVE_LOADS=\"$LOADS\", BENCH_LIVE_SECONDS=$SECS, BENCH_LIVE_SESSIONS=$REPLAY_SESSIONS, BENCH_LIVE_RUNS=$RUNS, BENCH_LIVE_BUFFERS=\"$BUFFERS\"). See bench/README.md."
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//' | cut -c1-40), Linux $(uname -r)"
  echo "- ftpscope: git $(git -C "$ROOT" describe --always --dirty), release, --features live; $(tcpdump --version 2>&1 | head -n1); $(iperf3 --version | head -n1 | cut -d' ' -f1-2)"
  [[ " $LOADS " != *" iperf3 "* ]] || echo "- iperf3: one TCP stream for $SECS s through a veth pair between two namespaces, offloads off (1500-byte packets)"
  [[ " $LOADS " != *" replay "* ]] || echo "- replay: bench/sessions.sh's shape b ($REPLAY_SESSIONS copies of session 1 of fixtures/pasv-private-leak-workaround/client.pcap, each a different client, 50 open at once, one passive port), \`tcpreplay --topspeed --preload-pcap\` into the veth ($(tcpreplay --version 2>&1 | head -n1 | cut -d' ' -f1-3))"
  echo "- \`ftpscope live -i vb --json\` and \`tcpdump -w /dev/null\` on the receiving end at the same time,"
  echo "  same filter (ftpscope's default) and the same kernel buffer for both (\`--buffer-size\`, tcpdump \`-B\`):"
  echo "  ftpscope's default 32 MiB, then libpcap's default 2 MiB"
  echo
  echo "| load | kernel buffer | run | ftpscope received | ftpscope analysed | ftpscope dropped | tcpdump received | tcpdump captured | tcpdump dropped | ftpscope drops no more |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "received: libpcap's count of packets that passed the filter (Linux counts the dropped ones in it too);"
  echo "analysed/captured: what reached the program; dropped: the kernel's drops for want of buffer room."
  echo "$END"
} >"$section"

if [[ $RESULTS == - ]]; then
  cat "$section"
else
  tmp=$DIR/results.md
  if [[ -f $RESULTS ]] && grep -qF "$BEGIN" "$RESULTS"; then
    awk -v b="$BEGIN" -v e="$END" -v f="$section" '
      $0 == b { while ((getline line < f) > 0) print line; skip = 1; next }
      $0 == e { skip = 0; next }
      !skip' "$RESULTS" >"$tmp"
  else
    { [[ -f $RESULTS ]] && cat "$RESULTS" && echo; cat "$section"; } >"$tmp"
  fi
  cat "$tmp" >"$RESULTS"
  echo "bench/live.sh: results in $RESULTS" >&2
fi
