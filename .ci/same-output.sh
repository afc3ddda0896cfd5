#!/usr/bin/env bash
# same-output.sh A B: two builds of ftpscope (the plain release and the PGO one, scripts/pgo.sh)
# write the same reports, byte for byte, on every fixture and corpus capture: analyze's text,
# JSON and NDJSON, and explain's JSON, with the same exit status. A build flag must never change
# what the operator reads.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
a=$1 b=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
n=0
differ=0
while IFS= read -r capture; do
  for view in "analyze -q" "analyze -q --json" "analyze -q --ndjson" "explain -q --json"; do
    # shellcheck disable=SC2086 # the view's words are separate arguments
    for side in a b; do
      bin=$a
      [ "$side" = b ] && bin=$b
      status=0
      NO_COLOR=1 timeout 120 "$bin" $view "$capture" >"$out/$side" 2>&1 || status=$?
      echo "exit $status" >>"$out/$side"
    done
    n=$((n + 1))
    if ! cmp -s "$out/a" "$out/b"; then
      differ=$((differ + 1))
      echo "same-output.sh: $view $capture differs between $a and $b:" >&2
      diff "$out/a" "$out/b" | head -n 20 >&2 || true
    fi
  done
done < <( (find fixtures -name '*.pcap' -o -name '*.pcapng'; [ -d ../shared/corpus ] && find ../shared/corpus -name '*.pcap' -o -name '*.pcapng' -o -name '*.trace') | sort)
echo "same-output.sh: $n reports compared, $differ differ" >&2
[ "$differ" = 0 ] && [ "$n" -gt 0 ]
