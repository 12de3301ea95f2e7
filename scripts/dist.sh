#!/usr/bin/env bash
# Builds the release artifacts into dist/ — one command for every ecosystem:
#
#   dist/idaas-<version>-<triple>.tar.gz   C/C++: include/, lib/ (libidaas.so.<version> with its
#                                          SONAME symlinks, libidaas.a), lib/pkgconfig/idaas.pc,
#                                          lib/cmake/idaas/ (config + version; imported targets
#                                          idaas::idaas and idaas::idaas_static), LICENSE
#   dist/<triple>/                         the same, unpacked (what the bindings package)
#   dist/native-static-libs.<triple>       the system libraries the static library needs
#   dist/sizes.txt                         the artifact sizes (also printed)
#   dist/goproxy/, dist/npm/, dist/maven-repo/  the Go module, npm and Maven packages
#   dist/python/                           the Python wheels (built from the sources by maturin)
#                                          (packaging/<language>/build.sh, when every triple is built)
#
# Usage: scripts/dist.sh                  every platform of packaging/platforms.json, then the packages
#        TRIPLES="x86_64-unknown-linux-gnu" scripts/dist.sh   (those native builds only)
#        scripts/dist.sh --check-tools    say which cross tools are missing, then exit
#
# Cross toolchains (installed by scripts/setup-tools.sh): rustup targets for each triple; Debian's
# gcc-aarch64-linux-gnu + libc6-dev-arm64-cross (aarch64 linker and C compiler for ring), musl-tools
# (musl-gcc). The musl libraries are built against musl's libc dynamically (-crt-static off) so that
# the shared library and Node's addon load on Alpine; a static musl program links libidaas.a.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# DIST, VERSION, all_triples (packaging/platforms.json: the one list every packaging script reads),
# triple_env (a triple's C toolchain for cargo), record_size.
. packaging/lib.sh
TRIPLES_GIVEN=${TRIPLES:-}
TRIPLES=${TRIPLES:-$(all_triples)}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
export CARGO_TERM_COLOR=never
MAJOR=${VERSION%%.*}
MINOR=$(echo "$VERSION" | cut -d. -f2)
HOST=$(rustc -vV | sed -n 's/^host: //p')
URL=$(sed -n 's/^repository *= *"\(.*\)"/\1/p' Cargo.toml | head -n1)

check_tools() {
  local missing=0
  for t in $TRIPLES; do
    if ! rustup target list --installed 2>/dev/null | grep -qx "$t"; then
      echo "missing: rust target $t (rustup target add $t)"; missing=1
    fi
    if ! command -v "$(platform_field "$t" cc)" >/dev/null 2>&1; then
      echo "missing: $(platform_field "$t" cc) for $t"; missing=1
    fi
  done
  return $missing
}

if [ "${1:-}" = "--check-tools" ]; then
  check_tools && echo "dist.sh: every tool is present"
  exit $?
fi
check_tools || { echo "dist.sh: install the missing tools (scripts/setup-tools.sh)" >&2; exit 1; }
[ -f include/idaas.h ] || { echo "dist.sh: include/idaas.h missing" >&2; exit 1; }

mkdir -p "$DIST"

for triple in $TRIPLES; do
  echo "=== $triple"
  (
    triple_env "$triple"
    # The host's triple builds where `make lib` and the bindings' builds do (target/release,
    # no --target): CI builds it once for the tests and the release.
    if [ "$triple" = "$HOST" ]; then target_flag=(); built=$CARGO_TARGET_DIR/release
    else target_flag=(--target "$triple"); built=$CARGO_TARGET_DIR/$triple/release; fi
    cargo build --locked --release -p idaas-ffi "${target_flag[@]}"
    # The system libraries the static library needs, as rustc says (the one source of link flags
    # for pkg-config, CMake, cgo and the other bindings). Only idaas-ffi is recompiled for this.
    cargo rustc --locked --release -p idaas-ffi "${target_flag[@]}" --crate-type staticlib \
        -- --print native-static-libs 2>&1 \
      | sed -n 's/.*native-static-libs: //p' | tail -n1 \
      | if [ -n "$BUNDLE_UNWIND" ]; then sed -e 's/-lgcc_s //' -e 's/-lunwind //'; else cat; fi \
      > "$DIST/native-static-libs.$triple"
    [ -s "$DIST/native-static-libs.$triple" ] || { echo "dist.sh: no native-static-libs for $triple" >&2; exit 1; }

    out=$DIST/$triple
    rm -rf "$out"
    mkdir -p "$out/include" "$out/lib/pkgconfig" "$out/lib/cmake/idaas"
    cp include/idaas.h "$out/include/"
    cp LICENSE "$out/"
    cp "$built/libidaas.so" "$out/lib/libidaas.so.$VERSION"
    "$STRIP" --strip-unneeded "$out/lib/libidaas.so.$VERSION"
    ln -sf "libidaas.so.$VERSION" "$out/lib/libidaas.so.$MAJOR"
    ln -sf "libidaas.so.$MAJOR" "$out/lib/libidaas.so"
    if [ -n "$BUNDLE_UNWIND" ]; then
      # One archive holding the library and the unwinder (an MRI script: members of both, as is).
      printf 'create %s\naddlib %s\naddlib %s\nsave\nend\n' "$out/lib/libidaas.a" \
        "$built/libidaas.a" "$BUNDLE_UNWIND" | ar -M
    else
      cp "$built/libidaas.a" "$out/lib/libidaas.a"
    fi
    "$STRIP" --strip-debug "$out/lib/libidaas.a"
    libs=$(cat "$DIST/native-static-libs.$triple")
    sed -e 's|@PREFIX@|${pcfiledir}/../..|' -e 's|@LIBDIR@|${prefix}/lib|' \
        -e 's|@INCLUDEDIR@|${prefix}/include|' -e "s|@VERSION@|$VERSION|" -e "s|@URL@|$URL|" \
        -e "s|@STATIC_LIBS@|$libs|" idaas-ffi/pkg/idaas.pc.in > "$out/lib/pkgconfig/idaas.pc"
    cmake_libs=$(echo "$libs" | tr ' ' '\n' | sed -n 's/^-l//p' | paste -sd';' -)
    for f in idaas-config idaas-config-version; do
      sed -e "s|@VERSION@|$VERSION|g" -e "s|@MAJOR@|$MAJOR|g" -e "s|@MINOR@|$MINOR|g" \
          -e "s|@CMAKE_STATIC_LIBS@|$cmake_libs|g" "idaas-ffi/pkg/$f.cmake.in" > "$out/lib/cmake/idaas/$f.cmake"
    done
    tar -C "$DIST" --owner=0 --group=0 --numeric-owner --sort=name \
        --transform "s|^$triple|idaas-$VERSION-$triple|" \
        -czf "$DIST/idaas-$VERSION-$triple.tar.gz" "$triple"
  )
  record_size "libidaas.so (stripped) $triple" "$DIST/$triple/lib/libidaas.so.$VERSION"
  record_size "libidaas.a (strip --strip-debug) $triple" "$DIST/$triple/lib/libidaas.a"
  record_size "idaas-$VERSION-$triple.tar.gz" "$DIST/idaas-$VERSION-$triple.tar.gz"
done

# The language packages, from the native builds above (each reads packaging/platforms.json).
# Only when every platform was built (TRIPLES not narrowed): each package carries them all.
if [ -z "${TRIPLES_GIVEN:-}" ]; then
  for lang in go java node python; do
    if [ -x "packaging/$lang/build.sh" ]; then
      echo "=== $lang packages"
      DIST=$DIST "packaging/$lang/build.sh"
    fi
  done
fi

echo "dist.sh: artifacts in $DIST (sizes in $DIST/sizes.txt)"
