#!/usr/bin/env bash
# Builds the Go module github.com/idaas-sdk/idaas/bindings/go at v<workspace version> as a Go
# module proxy directory (D-57):
#
#   $DIST/goproxy/github.com/idaas-sdk/idaas/bindings/go/@v/{list,v0.1.0.info,v0.1.0.mod,v0.1.0.zip}
#
# served with GOPROXY=file://$DIST/goproxy (or any static web server, or uploaded to a module
# proxy). The module is bindings/go as git tracks it (symlinks dereferenced: include/idaas.h),
# without its repository-only Makefile, plus the prebuilt static library of every platform of
# packaging/platforms.json in lib/<goos>_<goarch>[_<tag>]/libidaas.a, taken from
# $DIST/<triple>/lib/ (scripts/dist.sh). The per-platform cgo files must match $DIST's
# native-static-libs (packaging/go/gen_cgo.py --check). The zip is made by golang.org/x/mod/zip
# (packaging/go/modzip).
#
#   packaging/go/build.sh            DIST defaults to <repo>/dist
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
GO=${GO:-go}
go_dir=$PKG_ROOT/bindings/go
module=$(sed -n 's/^module //p' "$go_dir/go.mod")
version=v$VERSION

for triple in $(all_triples); do
  for f in "$DIST/$triple/lib/libidaas.a" "$DIST/native-static-libs.$triple"; do
    [ -f "$f" ] || { echo "packaging/go/build.sh: $f missing (run scripts/dist.sh for $triple)" >&2; exit 1; }
  done
done
# The committed link flags are the ones the release build reports: what the repository tests is
# what ships.
python3 "$PKG_ROOT/packaging/go/gen_cgo.py" --dist "$DIST" --check

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/module
mkdir -p "$stage"
(cd "$PKG_ROOT" && git ls-files bindings/go) | while read -r f; do
  rel=${f#bindings/go/}
  [ "$rel" = Makefile ] && continue
  mkdir -p "$stage/$(dirname "$rel")"
  cp -L "$PKG_ROOT/$f" "$stage/$rel"
done
for triple in $(all_triples); do
  goos=$(platform_field "$triple" go.goos)
  goarch=$(platform_field "$triple" go.goarch)
  tag=$(platform_field "$triple" go.tag)
  d=lib/${goos}_${goarch}${tag:+_$tag}
  [ -f "$stage/$d/lib.go" ] || { echo "packaging/go/build.sh: $d/lib.go not tracked (run packaging/go/gen_cgo.py, commit)" >&2; exit 1; }
  cp "$DIST/$triple/lib/libidaas.a" "$stage/$d/libidaas.a"
done

# The version's time: the release commit's (reproducible), unless SOURCE_DATE_EPOCH says otherwise.
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
  when=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
else
  when=$(cd "$PKG_ROOT" && TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ)
fi
# The proxy directory holds this build's module only (no stale version from an earlier run).
rm -rf "$DIST/goproxy"
(cd "$PKG_ROOT/packaging/go/modzip" && GOFLAGS=-mod=readonly "$GO" run . \
  -dir "$stage" -version "$version" -time "$when" -out "$DIST/goproxy") | tee "$work/sums"

zip=$DIST/goproxy/$module/@v/$version.zip
record_size "Go module zip ${module#github.com/idaas-sdk/idaas/}@$version" "$zip"
echo "packaging/go/build.sh: GOPROXY=file://$DIST/goproxy go get $module@$version"
