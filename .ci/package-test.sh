#!/usr/bin/env bash
# The package test (issue 24), run by .ci/run and not by a user's `cargo test`: it installs a
# package on the machine, adds two users and removes them again, so it wants root and a machine
# that may be changed. It builds the .deb (debian/build-deb.sh, from the live release build that
# tests/live.rs made, or makes it), installs it (dpkg, then apt for its dependencies), and checks:
#   - the files' owners, modes and capabilities: ftpscope 0755 with none, the helper
#     root:ftpscope 0750 with cap_net_raw,cap_net_admin=eip;
#   - a user in the group ftpscope captures on loopback without sudo (`live -i lo --duration 1
#     --json`: a report of schema ftpscope/3 that counts the packets made meanwhile) and
#     analyses a fixture;
#   - a user outside it gets one line (join the group, or run as root) and exit status 2, and
#     still analyses the fixture;
#   - ftpscope given capabilities (setcap on a copy) drops them before analysing;
#   - the opt-out (README, "Install"): with a dpkg-statoverride and the capabilities removed, a
#     member is told that the helper has none;
#   - after `dpkg --purge`, none of the package's files is left (the group stays, as in Debian).
# Every step is bounded by timeout; the users and the package go whatever happens.
set -Eeuo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" = 0 ] || { echo "package-test.sh: needs root (it installs the package)" >&2; exit 1; }

member=fs-pkg-member
outsider=fs-pkg-outsider
work=$(mktemp -d /tmp/ftpscope-package-test.XXXXXX)
chmod 0755 "$work"

cleanup() {
  timeout 120 dpkg --purge ftpscope >/dev/null 2>&1 || true
  for user in "$member" "$outsider"; do
    userdel "$user" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "package-test.sh: FAILED: $*" >&2
  exit 1
}

step() {
  echo "package-test.sh: $*"
}

# The tools: cargo-deb builds the package, dpkg-dev finds its library dependencies.
command -v cargo-deb >/dev/null || timeout 1800 cargo install cargo-deb --locked --quiet
command -v dpkg-shlibdeps >/dev/null || timeout 600 apt-get install -y -qq --no-install-recommends dpkg-dev >/dev/null \
  || { timeout 600 apt-get update -qq && timeout 600 apt-get install -y -qq --no-install-recommends dpkg-dev >/dev/null; }

step "building the package"
deb=$(debian/build-deb.sh)
step "built $deb ($(stat -c %s "$deb") bytes)"

step "installing it"
timeout 300 dpkg -i "$deb" >/dev/null 2>&1 || true
timeout 600 apt-get -f install -y -qq >/dev/null \
  || { timeout 600 apt-get update -qq && timeout 600 apt-get -f install -y -qq >/dev/null; }
[ "$(dpkg-query -W -f '${Status}' ftpscope)" = "install ok installed" ] || fail "ftpscope is not installed"
files=$(dpkg-query -L ftpscope)

helper=/usr/lib/ftpscope/ftpscope-capture
for f in /usr/bin/ftpscope "$helper" /usr/share/man/man1/ftpscope.1.gz /usr/share/bash-completion/completions/ftpscope \
  /usr/share/zsh/vendor-completions/_ftpscope /usr/share/fish/vendor_completions.d/ftpscope.fish \
  /usr/share/doc/ftpscope/README.md /usr/share/doc/ftpscope/copyright; do
  [ -s "$f" ] || fail "$f is not installed"
done
getent group ftpscope >/dev/null || fail "no group ftpscope"
[ "$(stat -c '%U:%G %a' /usr/bin/ftpscope)" = "root:root 755" ] || fail "ftpscope: $(stat -c '%U:%G %a' /usr/bin/ftpscope)"
[ -z "$(getcap /usr/bin/ftpscope)" ] || fail "ftpscope has capabilities: $(getcap /usr/bin/ftpscope)"
[ "$(stat -c '%U:%G %a' "$helper")" = "root:ftpscope 750" ] || fail "the helper: $(stat -c '%U:%G %a' "$helper")"
case "$(getcap "$helper")" in
  *cap_net_admin,cap_net_raw=eip*) ;;
  *) fail "the helper's capabilities: $(getcap "$helper")" ;;
esac
dpkg-query -W -f '${Depends}\n' ftpscope | grep -q libpcap0.8 || fail "no libpcap in Depends: $(dpkg-query -W -f '${Depends}' ftpscope)"

useradd --no-create-home --shell /bin/sh --groups ftpscope "$member"
useradd --no-create-home --shell /bin/sh "$outsider"
fixture="$work/client.pcap"
cp fixtures/pasv-private-leak-workaround/client.pcap "$fixture"
chmod 0644 "$fixture"
as() {
  local user=$1
  shift
  (cd "$work" && timeout -s KILL 60 runuser -u "$user" -- "$@")
}

# Connections refused on loopback, while a capture runs: a SYN and a RST each.
refused_connections() {
  sleep 0.4
  for port in 9 13 17; do
    (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null || true
  done
}

# The report of `live --json`, checked: schema, interface, why it ended, the packets seen.
check_live_report() {
  python3 - "$1" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
assert report["schema"] == "ftpscope/3", report["schema"]
for key in ("sessions", "findings", "servers", "capture"):
    assert key in report, key
live = report["capture"]["inputs"][0]["live"]
assert live["interface"] == "lo" and live["ended"] == "duration", live
frames = report["capture"]["frames"]
assert frames >= 6 and report["capture"]["tcp_connections"] >= 3, report["capture"]
assert live["received"] >= frames, live
print(f"{frames} frames, {report['capture']['tcp_connections']} TCP connections, libpcap: {live['received']} received, {live['dropped']} dropped")
PY
}

check_analysis() {
  python3 - "$1" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
assert report["schema"] == "ftpscope/3", report["schema"]
assert len(report["sessions"]) >= 1 and report["capture"]["frames"] > 0, report["capture"]
print(f"{len(report['sessions'])} session(s), {report['capture']['frames']} frames")
PY
}

step "a member of the group captures on lo"
refused_connections &
as "$member" ftpscope live -i lo --duration 1 --json >"$work/member-live.json" 2>"$work/member-live.err" \
  || fail "live as a member: $(cat "$work/member-live.err")"
wait
grep -q "captured by $helper" "$work/member-live.err" || fail "not through the helper: $(cat "$work/member-live.err")"
step "  $(check_live_report "$work/member-live.json")" || fail "the member's live report"

step "a member analyses a fixture"
status=0
as "$member" ftpscope analyze --json "$fixture" >"$work/member-analyze.json" || status=$?
[ "$status" -le 1 ] || fail "analyze as a member: exit $status"
step "  $(check_analysis "$work/member-analyze.json")"

step "someone outside the group is refused in one line"
status=0
as "$outsider" ftpscope live -i lo --duration 1 --json >"$work/outsider.json" 2>"$work/outsider.err" || status=$?
[ "$status" = 2 ] || fail "outsider's exit status $status: $(cat "$work/outsider.err")"
[ "$(wc -l <"$work/outsider.err")" = 1 ] || fail "outsider's message is not one line: $(cat "$work/outsider.err")"
grep -q "join the group ftpscope" "$work/outsider.err" && grep -q "or run as root" "$work/outsider.err" \
  || fail "outsider's message: $(cat "$work/outsider.err")"
step "  $(cat "$work/outsider.err")"
status=0
as "$outsider" ftpscope analyze --json "$fixture" >"$work/outsider-analyze.json" || status=$?
[ "$status" -le 1 ] || fail "analyze as an outsider: exit $status"
step "  and analyses: $(check_analysis "$work/outsider-analyze.json")"

step "ftpscope given capabilities drops them to analyse"
cp /usr/bin/ftpscope "$work/ftpscope-with-caps"
setcap cap_net_raw,cap_net_admin=eip "$work/ftpscope-with-caps"
mkfifo "$work/slow.pcap"
chmod 0666 "$work/slow.pcap"
(cd "$work" && timeout -s KILL 60 runuser -u "$member" -- "$work/ftpscope-with-caps" analyze --json "$work/slow.pcap" >/dev/null) &
analyser=$!
pid=
# (pgrep sees the first 15 characters of its name.)
for _ in $(seq 50); do
  pid=$(pgrep -u "$member" -x ftpscope-with-c || true)
  [ -n "$pid" ] && break
  sleep 0.1
done
[ -n "$pid" ] || fail "the analyser with capabilities did not start"
# It waits on the FIFO for its input: its capabilities are read while it waits.
sleep 0.3
caps=$(grep -E '^Cap(Prm|Eff):' "/proc/$pid/status" | tr -s '\t\n' '  ')
cat "$fixture" >"$work/slow.pcap"
wait "$analyser" || true
case "$caps" in
  "CapPrm: 0000000000000000 CapEff: 0000000000000000 ") step "  $caps" ;;
  *) fail "the analyser kept capabilities: $caps" ;;
esac

step "the opt-out: a statoverride and no capabilities"
dpkg-statoverride --update --add root ftpscope 0750 "$helper"
setcap -r "$helper" 2>/dev/null || true
status=0
as "$member" ftpscope live -i lo --duration 1 >/dev/null 2>"$work/optout.err" || status=$?
[ "$status" = 2 ] && grep -q "has no capture capabilities" "$work/optout.err" || fail "after the opt-out: exit $status, $(cat "$work/optout.err")"
step "  $(cat "$work/optout.err")"
timeout 300 dpkg -i "$deb" >/dev/null
[ -z "$(getcap "$helper")" ] || fail "reinstalling gave the opted-out helper capabilities: $(getcap "$helper")"
step "  reinstalled: the helper stays without capabilities"
dpkg-statoverride --remove "$helper"

step "purging the package"
timeout 120 dpkg --purge ftpscope >/dev/null
left=0
while IFS= read -r path; do
  if [ -f "$path" ] || [ -L "$path" ]; then
    echo "package-test.sh: left after purge: $path" >&2
    left=1
  fi
done <<<"$files"
[ "$left" = 0 ] || fail "files left after the purge"
[ ! -e /usr/lib/ftpscope ] || fail "/usr/lib/ftpscope left after the purge"
step "  no file of the package is left; the group ftpscope stays: $(getent group ftpscope)"
step "passed"
