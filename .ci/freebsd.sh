#!/bin/sh
# freebsd.sh - CI on a FreeBSD 14 or 15 machine, as root: a Rust the project
# builds with, `cargo test`, then the differential conformance command
# (README: "Conformance on FreeBSD"), its report kept in
# conformance-report.txt. Run by .github/workflows/freebsd.yml (in a
# vmactions/freebsd-vm VM) and .cirrus.yml (a Cirrus FreeBSD instance).
#
# Rust: FreeBSD's package when it is at least Cargo.toml's rust-version,
# else rustup (pkg's rustup-init, no download script). The build goes to
# CARGO_TARGET_DIR outside the checkout, so a VM action that copies the
# checkout back copies the report, not gigabytes of target/.
#
# It writes its exit status to ci-status and exits 0 when CI_KEEP_GOING is
# set, so a VM step that copies files back only on success still brings the
# report home; the workflow fails on ci-status afterwards.
set -u
cd "$(dirname "$0")/.."

want=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)
# At least $2 >= $1, as dotted numbers.
at_least() {
  [ "$(printf '%s\n%s\n' "$1" "$2" | sort -t. -k1,1n -k2,2n -k3,3n | head -n 1)" = "$1" ]
}

status=0
run() {
  echo "== $*"
  "$@" || status=$?
}

export ASSUME_ALWAYS_YES=yes
pkg install -y rust >/dev/null || true
have=$(rustc --version 2>/dev/null | awk '{print $2}')
if [ -z "$have" ] || ! at_least "$want" "${have%%-*}"; then
  echo "== pkg's rust is ${have:-missing}, older than rust-version $want: rustup"
  pkg install -y rustup-init >/dev/null
  rustup-init -y --profile minimal --default-toolchain stable >/dev/null
  PATH="$HOME/.cargo/bin:$PATH"
  export PATH
fi
echo "== $(rustc --version), $(cargo --version), $(freebsd-version -k) $(uname -m)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/lagghook-target}"

run cargo test --locked
# The conformance command (README): exits 1 when anything differed.
run cargo run --locked --example conformance -- --report conformance-report.txt --brief
[ -f conformance-report.txt ] || echo "no report was written" >conformance-report.txt

echo "$status" >ci-status
echo "== status $status"
if [ -n "${CI_KEEP_GOING:-}" ]; then
  exit 0
fi
exit "$status"
