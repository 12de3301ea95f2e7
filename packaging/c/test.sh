#!/usr/bin/env bash
# Consumer tests of the C/C++ release tarballs: for each triple, the tarball unpacked in a
# temporary directory outside the repository, then two user projects built against it — CMake
# (find_package(idaas 0.1 REQUIRED); the shared and the static imported targets) and a Makefile
# with pkg-config (shared, and static) — and every program run against the emulator (aarch64
# under qemu).
#
#   packaging/c/test.sh [TRIPLE...]        (default: every triple of packaging/platforms.json)
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
triples=${*:-$(all_triples)}
work=$(mktemp -d)
trap 'stop_emulator; rm -rf "$work"' EXIT
start_emulator "$work"

run_checked() { # run_checked LABEL CMD...: the program must print a token line
  local label=$1; shift
  local out
  out=$("$@" "$CLOUD_IDAAS_CONFIG_PATH" 2>&1) || { echo "FAIL $label: $out" >&2; exit 1; }
  grep -q "token for the default scope" <<<"$out" || { echo "FAIL $label: $out" >&2; exit 1; }
  echo "ok   $label"
}

for triple in $triples; do
  tarball=$DIST/idaas-$VERSION-$triple.tar.gz
  [ -f "$tarball" ] || { echo "packaging/c/test.sh: $tarball missing (run scripts/dist.sh)" >&2; exit 1; }
  cc=$(platform_field "$triple" cc)
  run=$(platform_field "$triple" run)
  t=$work/$triple
  mkdir -p "$t"
  tar -C "$t" -xzf "$tarball"
  prefix=$t/idaas-$VERSION-$triple
  # The SONAME chain a dynamic loader follows.
  [ "$(readlink "$prefix/lib/libidaas.so.${VERSION%%.*}")" = "libidaas.so.$VERSION" ]

  for kind in cmake pkgconfig; do
    p=$t/$kind
    cp -r "$PKG_ROOT/packaging/c/$kind-project" "$p"
    cp "$PKG_ROOT/examples/c/get_token.c" "$p/"
  done

  cmake -S "$t/cmake" -B "$t/cmake/build" -DCMAKE_C_COMPILER="$cc" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_BUILD_TYPE=Release >"$t/cmake.log" 2>&1 || { cat "$t/cmake.log" >&2; exit 1; }
  cmake --build "$t/cmake/build" >>"$t/cmake.log" 2>&1 || { cat "$t/cmake.log" >&2; exit 1; }
  for v in shared static; do
    # shellcheck disable=SC2086
    run_checked "$triple cmake $v" $run "$t/cmake/build/get_token_$v"
  done

  for static in 0 1; do
    rm -f "$t/pkgconfig/get_token"
    PKG_CONFIG_PATH="" PKG_CONFIG_LIBDIR="$prefix/lib/pkgconfig" \
      make -s -C "$t/pkgconfig" CC="$cc" STATIC=$static >"$t/make.log" 2>&1 || { cat "$t/make.log" >&2; exit 1; }
    # shellcheck disable=SC2086
    run_checked "$triple pkg-config $([ $static = 1 ] && echo static || echo shared)" $run "$t/pkgconfig/get_token"
  done

  if [ "$triple" = x86_64-unknown-linux-musl ]; then
    # Alpine's usual build: one fully static executable, no dynamic loader at all.
    rm -f "$t/pkgconfig/get_token"
    PKG_CONFIG_PATH="" PKG_CONFIG_LIBDIR="$prefix/lib/pkgconfig" \
      make -s -C "$t/pkgconfig" CC="$cc" STATIC=1 STATIC_EXTRA=-static >"$t/make.log" 2>&1 || { cat "$t/make.log" >&2; exit 1; }
    file "$t/pkgconfig/get_token" | grep -q "statically linked" || { file "$t/pkgconfig/get_token" >&2; exit 1; }
    run_checked "$triple pkg-config fully static" "$t/pkgconfig/get_token"
  fi
done
echo "packaging/c/test.sh: every C consumer test passed ($triples)"
