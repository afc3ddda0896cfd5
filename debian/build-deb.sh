#!/usr/bin/env bash
# Builds ftpscope's Debian package with cargo-deb, from the live release build: ftpscope and its
# capture helper, the man page and the bash, zsh and fish completions, which ftpscope generates
# from its own command line (`ftpscope man`, `ftpscope completions SHELL`) so that they never
# drift from it. Prints the .deb's path on stdout.
#
#   debian/build-deb.sh              build (cargo build --release --features live), then package
#   debian/build-deb.sh --no-build   package what the last build left (CI: one build for all)
#
# The build goes to target/live, the directory tests/live.rs builds the live binary in, so that
# CI builds it once. Needs cargo-deb (cargo install cargo-deb --locked), libpcap's headers for the
# build (libpcap-dev) and dpkg-dev for the dependencies ($auto in Cargo.toml).
# FTPSCOPE_ASSETS_FROM names another program to generate the man page and completions with.
set -Eeuo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target/live}
if [ "${1:-}" != --no-build ]; then
  timeout 1800 cargo build --release --features live >&2
fi
ftpscope=${FTPSCOPE_ASSETS_FROM:-$CARGO_TARGET_DIR/release/ftpscope}

# Where Cargo.toml's assets expect them.
assets=target/assets
mkdir -p "$assets"
timeout 60 "$ftpscope" man | gzip -9n > "$assets/ftpscope.1.gz"
timeout 60 "$ftpscope" completions bash > "$assets/ftpscope.bash"
timeout 60 "$ftpscope" completions zsh > "$assets/_ftpscope"
timeout 60 "$ftpscope" completions fish > "$assets/ftpscope.fish"
for file in ftpscope.1.gz ftpscope.bash _ftpscope ftpscope.fish; do
  [ -s "$assets/$file" ] || { echo "build-deb.sh: $ftpscope wrote nothing for $file" >&2; exit 1; }
done

timeout 600 cargo deb --no-build --output target/debian >&2
ls -t target/debian/ftpscope_*.deb | head -n 1
