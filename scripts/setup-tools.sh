#!/usr/bin/env bash
# Installs what the tests and the release build need beyond the machine's base toolchains (Rust,
# Go, a JDK with Maven, Node, Python, gcc), and says what it installs. Idempotent: anything already
# present in the right version is left alone, so a second run (or a CI machine with a warm cache)
# costs seconds.
#
#   Rust components   rustfmt, clippy
#   Rust targets      aarch64-unknown-linux-gnu, x86_64-unknown-linux-musl (scripts/dist.sh)
#   cargo tools       cbindgen 0.29.4 (header check), cargo-deny 0.20.2 (supply chain),
#                     pinned, built from crates.io with --locked into $CARGO_HOME/bin
#   Debian packages   gcc-aarch64-linux-gnu, libc6-dev-arm64-cross (aarch64 linker/libc),
#                     musl-tools (musl-gcc), qemu-user (runs aarch64 programs), pkg-config, cmake
#
# Usage: scripts/setup-tools.sh            everything
#        SETUP_SKIP="apt cross" scripts/setup-tools.sh   skip groups: components targets cargo apt
set -euo pipefail
cd "$(dirname "$0")/.."

CBINDGEN_VERSION=0.29.4
CARGO_DENY_VERSION=0.20.2
TARGETS="aarch64-unknown-linux-gnu x86_64-unknown-linux-musl"
APT_PACKAGES="gcc-aarch64-linux-gnu libc6-dev-arm64-cross musl-tools qemu-user pkg-config cmake"
skip() { [[ " ${SETUP_SKIP:-} " == *" $1 "* ]]; }
say() { printf 'setup-tools: %s\n' "$*"; }
t0=$(date +%s)

if ! skip components; then
  for c in rustfmt clippy; do
    if ! rustup component list --installed 2>/dev/null | grep -q "^$c"; then
      say "installing Rust component $c"
      rustup component add "$c"
    fi
  done
fi

if ! skip targets; then
  for t in $TARGETS; do
    if ! rustup target list --installed 2>/dev/null | grep -qx "$t"; then
      say "installing Rust target $t"
      rustup target add "$t"
    fi
  done
fi

if ! skip cargo; then
  # Pinned versions from the Rust package registry, checksum-verified by cargo (--locked: the
  # tool's own lock file). Kept in $CARGO_HOME/bin, so CI caches them with the toolchain.
  if ! command -v cbindgen >/dev/null 2>&1 || ! cbindgen --version | grep -q " $CBINDGEN_VERSION\$"; then
    say "installing cbindgen $CBINDGEN_VERSION (cargo install --locked; a few minutes, once)"
    cargo install cbindgen --version "$CBINDGEN_VERSION" --locked --force --quiet
  fi
  if ! command -v cargo-deny >/dev/null 2>&1 || ! cargo-deny --version | grep -q " $CARGO_DENY_VERSION\$"; then
    say "installing cargo-deny $CARGO_DENY_VERSION (cargo install --locked; several minutes, once)"
    cargo install cargo-deny --version "$CARGO_DENY_VERSION" --locked --force --quiet
  fi
fi

if ! skip apt; then
  missing=""
  for p in $APT_PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    if ! command -v apt-get >/dev/null 2>&1; then
      say "cannot install$missing: no apt-get on this machine (install them with your package manager)"
      exit 1
    fi
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    say "installing Debian packages:$missing"
    $SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null \
      || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null; }
  fi
fi

say "ready ($(( $(date +%s) - t0 )) s)"
