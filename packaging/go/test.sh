#!/usr/bin/env bash
# Consumer test of the Go module proxy directory ($DIST/goproxy, packaging/go/build.sh): a new
# module in a temporary directory outside the repository, with its own GOPATH, module cache and
# build cache, gets github.com/idaas-sdk/idaas/bindings/go@v<version> from the file proxy only
# (GOPROXY=file://..., no fallback) and builds packaging/go/consumer/main.go for every platform of
# packaging/platforms.json (GOOS/GOARCH, the platform's build tag, its C compiler as CC), each run
# against the emulator (aarch64 under qemu). The musl platform is also linked fully static. The
# go command runs with a PATH of go and the platform's C toolchain only (cgo needs a C compiler,
# and the host gcc its assembler and linker; no cargo, no rustc). Then `go mod vendor` must carry the prebuilt libraries, and the zip must stay within
# 60 MiB.
#
#   packaging/go/test.sh [TRIPLE...]        (default: every triple of packaging/platforms.json)
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
triples=${*:-$(all_triples)}
module=$(sed -n 's/^module //p' "$PKG_ROOT/bindings/go/go.mod")
version=v$VERSION
proxy=$DIST/goproxy
zip=$proxy/$module/@v/$version.zip
[ -f "$zip" ] || { echo "packaging/go/test.sh: $zip missing (run packaging/go/build.sh)" >&2; exit 1; }
max_zip=$((60 * 1024 * 1024))

work=$(mktemp -d)
trap 'stop_emulator; rm -rf "$work"' EXIT
start_emulator "$work"

fail() { echo "FAIL $*" >&2; exit 1; }

b=$(stat -c %s "$zip")
[ "$b" -le $max_zip ] || fail "module zip is $b bytes (> 60 MiB)"
echo "ok   module zip $b bytes ($(awk -v b="$b" 'BEGIN { printf "%.2f", b / 1048576 }') MiB, limit 60 MiB)"

# The go command's own environment, all of it in $work: nothing from this machine's Go setup.
export GOENV=off GOTOOLCHAIN=local GOPATH=$work/gopath GOMODCACHE=$work/gopath/pkg/mod \
  GOCACHE=$work/gocache GOPROXY=file://$proxy GONOSUMDB=$module GOFLAGS=-mod=mod CGO_ENABLED=1
unset GOROOT GOOS GOARCH CC CGO_CFLAGS CGO_LDFLAGS
go_bin=$(command -v go)

app=$work/app
mkdir -p "$app"
cp "$PKG_ROOT/packaging/go/consumer/main.go" "$app/"
(
  cd "$app"
  PATH=$(user_path "$work/path-go" go)
  go mod init example.com/idaas-consumer >/dev/null 2>&1
  go get "$module@$version" >"$work/get.log" 2>&1 || { cat "$work/get.log" >&2; exit 1; }
) || fail "go get $module@$version"
grep -Eq "^(require)?[[:space:]]*$module $version( // indirect)?$" "$app/go.mod" || fail "go.mod: $(cat "$app/go.mod")"
echo "ok   go get $module@$version (GOPROXY=file://$proxy)"

check_output() { # check_output LABEL OUTPUT
  grep -Eq "^idaas $VERSION: token for the default scope: .{12}\.\.\. \([0-9]+ bytes\)$" <<<"$2" \
    || fail "$1: $2"
  echo "ok   $1: $2"
}

for triple in $triples; do
  goos=$(platform_field "$triple" go.goos)
  goarch=$(platform_field "$triple" go.goarch)
  tag=$(platform_field "$triple" go.tag)
  cc=$(platform_field "$triple" cc)
  libc=$(platform_field "$triple" node.libc)
  read -r -a run <<<"$(platform_field "$triple" run)"
  [ ${#run[@]} -gt 0 ] && run[0]=$(command -v "${run[0]}")
  # The C toolchain cgo drives: the compiler and the binutils the host gcc looks up on PATH.
  upath=$(user_path "$work/path-$triple" go "$cc" as ld)
  # musl-gcc is a wrapper script that execs the host gcc (REALGCC, default named in the script).
  if [ "$cc" = musl-gcc ]; then
    real=$(sed -n 's/.*REALGCC:-\([^}]*\)}.*/\1/p' "$(command -v musl-gcc)")
    user_path "$upath" "${real:-gcc}" >/dev/null
  fi
  for t in cargo rustc cc; do
    [ "$t" = "$cc" ] && continue
    if PATH=$upath command -v "$t" >/dev/null; then fail "$t on the consumer's PATH"; fi
  done
  flags=()
  [ -n "$tag" ] && flags+=(-tags "$tag")
  env=(PATH="$upath" GOOS="$goos" GOARCH="$goarch" CC="$cc")

  links=(dynamic)
  # musl's usual deployment: one static executable (the go command links externally through CC).
  [ "$libc" = musl ] && links+=(static)
  for link in "${links[@]}"; do
    exe=$work/consumer-$triple-$link
    lflags=()
    [ "$link" = static ] && lflags=(-ldflags "-linkmode external -extldflags -static")
    (cd "$app" && env "${env[@]}" go build "${flags[@]}" "${lflags[@]}" -o "$exe" . >"$work/build.log" 2>&1) \
      || { cat "$work/build.log" >&2; fail "$triple $link: go build"; }
    if [ "$link" = static ]; then
      file "$exe" | grep -q "statically linked" || fail "$triple static: $(file "$exe")"
    elif [ "$libc" = musl ]; then
      # Linked against musl indeed (its loader), not the host's glibc.
      file "$exe" | grep -q "interpreter /lib/ld-musl" || fail "$triple: $(file "$exe")"
    fi
    out=$(PATH=$upath "${run[@]}" "$exe" 2>&1) || fail "$triple $link: $out"
    check_output "$triple $link (${env[*]:1}${flags[*]:+ ${flags[*]}}${run[*]:+; run: ${run[0]##*/}})" "$out"
  done
  # The host platform also through `go run`, the way a user tries a program out.
  if [ "$goos/$goarch" = "$("$go_bin" env GOHOSTOS)/$("$go_bin" env GOHOSTARCH)" ] && [ -z "$tag" ]; then
    out=$(cd "$app" && env "${env[@]}" go run . 2>&1) || fail "$triple go run: $out"
    check_output "$triple go run" "$out"
  fi
done

# `go mod vendor` copies the header and the prebuilt libraries (vendor_libs.go imports their
# directories), and the vendored build links.
(
  cd "$app"
  PATH=$(user_path "$work/path-vendor" go gcc as ld)
  go mod vendor >"$work/vendor.log" 2>&1 || { cat "$work/vendor.log" >&2; exit 1; }
  GOFLAGS=-mod=vendor go build -o "$work/consumer-vendored" . >>"$work/vendor.log" 2>&1 \
    || { cat "$work/vendor.log" >&2; exit 1; }
) || fail "go mod vendor"
n=$(find "$app/vendor/$module/lib" -name libidaas.a | wc -l)
[ -f "$app/vendor/$module/include/idaas.h" ] && [ "$n" -eq "$(all_triples | wc -w)" ] \
  || fail "vendor/ lacks the header or a library ($n libraries)"
out=$("$work/consumer-vendored" 2>&1) || fail "vendored build: $out"
check_output "go mod vendor; go build -mod=vendor" "$out"
echo "packaging/go/test.sh: every Go consumer test passed ($triples)"
