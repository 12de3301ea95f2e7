#!/usr/bin/env bash
# The Python wheels (docs/decisions.md D-76), one per platform of packaging/platforms.json:
#
#   $DIST/python/idaas-<version>-cp39-abi3-<tag>.whl
#
# <tag> is the platform's `python` field (manylinux_2_34_x86_64, manylinux_2_34_aarch64,
# musllinux_1_2_x86_64). cp39-abi3: PyO3's abi3-py39 feature builds against CPython's stable ABI,
# so one wheel per platform serves every CPython >= 3.9 and cross builds need no target Python.
# maturin (pinned, installed with pip into a cached venv) builds bindings/python with
# `--target <triple>` and the triple's C toolchain (packaging/lib.sh triple_env: cross linker, CC
# and AR; for musl the dynamic C runtime and the bundled unwinder of D-53), strips the extension
# module, and checks the platform tag itself (`--auditwheel check`): it fails when the module
# needs a glibc symbol version newer than the tag says, or any library outside the manylinux /
# musllinux policy — nothing is bundled (no auditwheel repair), because nothing but the C
# library (and on glibc libgcc_s) is linked. Wheels only, no sdist (D-76): on a platform without
# a wheel pip says so instead of trying to compile Rust.
#
# The wheels are built from the sources (not from $DIST/<triple>): the extension module links
# the idaas crate directly, not libidaas. The time stamps inside a wheel are then set to
# SOURCE_DATE_EPOCH (default: the last commit's time), so a rebuild of the same commit is
# byte-identical. Not by exporting it to maturin: the cc crate reruns ring's build script whenever
# SOURCE_DATE_EPOCH changes, so every commit would rebuild everything, and dist.sh's builds of the
# same triples (without it) would rebuild again.
#
#   packaging/python/build.sh [TRIPLE...]   (default: every triple of packaging/platforms.json)
#   MATURIN_VENV=DIR                        where maturin is installed (default:
#                                           $CARGO_HOME/idaas-tools/maturin-<version>, cached
#                                           with the Rust toolchain like setup-tools.sh's tools)
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
MATURIN_VERSION=1.9.6
PY_DIR=$PKG_ROOT/bindings/python
triples=${*:-$(all_triples)}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PKG_ROOT/target}
export CARGO_TERM_COLOR=never
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$PKG_ROOT" log -1 --format=%ct 2>/dev/null || date +%s)}

fail() { echo "packaging/python/build.sh: $*" >&2; exit 1; }

# The wheel's version comes from Cargo.toml (pyproject: dynamic = ["version"]); its license file
# is found by maturin in the project directory.
if [ ! -L "$PY_DIR/LICENSE" ] || [ ! -f "$PY_DIR/LICENSE" ]; then
  fail "bindings/python/LICENSE (a symlink to ../../LICENSE: the wheel's dist-info/licenses) missing"
fi

# maturin from PyPI, pinned, in its own venv (never the user's or the system's site-packages).
venv=${MATURIN_VENV:-${CARGO_HOME:-$HOME/.cargo}/idaas-tools/maturin-$MATURIN_VERSION}
if ! "$venv/bin/maturin" --version 2>/dev/null | grep -qx "maturin $MATURIN_VERSION"; then
  echo "packaging/python/build.sh: installing maturin $MATURIN_VERSION into $venv (pip, once)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "maturin==$MATURIN_VERSION"
fi
maturin=$venv/bin/maturin

# Every platform: a fresh directory (no wheel of a platform dropped from the list stays behind).
[ $# -gt 0 ] || rm -rf "$DIST/python"
mkdir -p "$DIST/python"

for triple in $triples; do
  tag=$(platform_field "$triple" python) || fail "$triple has no python field in packaging/platforms.json"
  arch=${triple%%-*}
  # maturin's --compatibility is the tag without its architecture (manylinux_2_34, musllinux_1_2).
  compat=${tag%_"$arch"}
  [ "$compat" != "$tag" ] || fail "$triple: python tag $tag does not end in _$arch"
  rustup target list --installed 2>/dev/null | grep -qx "$triple" ||
    fail "rust target $triple missing (scripts/setup-tools.sh)"
  whl=idaas-$VERSION-cp39-abi3-$tag.whl
  echo "=== python wheel $triple ($tag)"
  out=$DIST/python/.build-$triple
  rm -rf "$out"
  (
    triple_env "$triple"
    # No interpreter is named: abi3 needs none (PyO3 takes the ABI from the feature), so the same
    # command builds the host's and the cross wheels.
    "$maturin" build --release --locked --strip --quiet \
      --manifest-path "$PY_DIR/Cargo.toml" --target "$triple" \
      --compatibility "$compat" --auditwheel check --out "$out"
  )
  built=$(cd "$out" && ls)
  [ "$built" = "$whl" ] || fail "$triple: maturin wrote '$built', want $whl"
  # The same members, in the same order and compression, with the time stamp of $epoch (RECORD
  # holds hashes of the contents only, so it stays valid).
  python3 - "$out/$whl" "$DIST/python/$whl" "$epoch" <<'PY'
import sys, time, zipfile
src, dst, epoch = sys.argv[1], sys.argv[2], int(sys.argv[3])
stamp = time.gmtime(max(epoch, 315532800))[:6]  # a zip time stamp starts in 1980
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
    for info in zin.infolist():
        out = zipfile.ZipInfo(info.filename, stamp)
        out.compress_type, out.external_attr, out.create_system = info.compress_type, info.external_attr, info.create_system
        zout.writestr(out, zin.read(info.filename), compresslevel=9 if info.compress_type == zipfile.ZIP_DEFLATED else None)
PY
  rm "$out/$whl"
  rmdir "$out"
  record_size "python $whl" "$DIST/python/$whl"
done
echo "packaging/python/build.sh: wheels in $DIST/python"
