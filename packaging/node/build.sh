#!/usr/bin/env bash
# The npm packages (docs/decisions.md D-54), from the native builds in $DIST/<triple>/:
#
#   $DIST/npm/idaas-node-<version>.tgz            @idaas/node: the JS API, the loader, the types;
#                                                 optionalDependencies = one package per platform
#   $DIST/npm/idaas-node-<suffix>-<version>.tgz   @idaas/node-<suffix>: the prebuilt addon
#                                                 (idaas.<suffix>.node) with os/cpu/libc fields
#
# Every platform comes from packaging/platforms.json (node.suffix/os/cpu/libc, cc, strip). The addon
# is compiled by bindings/node/Makefile (the flags of the dev build) with the triple's C compiler
# against $DIST/<triple>/lib/libidaas.a and the system libraries rustc named for it.
#
#   packaging/node/build.sh [TRIPLE...]     (default: every triple of packaging/platforms.json)
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
NODE_DIR=$PKG_ROOT/bindings/node
MAX_PLATFORM_BYTES=$((3 * 1024 * 1024)) # per platform package, gzipped (issue 16)
triples=${*:-$(all_triples)}

pkg_version=$(node -p 'require(process.argv[1]).version' "$NODE_DIR/package.json")
[ "$pkg_version" = "$VERSION" ] || {
  echo "packaging/node/build.sh: bindings/node/package.json has version $pkg_version, Cargo.toml $VERSION" >&2
  exit 1
}
for triple in $triples; do
  for f in "$DIST/$triple/lib/libidaas.a" "$DIST/native-static-libs.$triple"; do
    [ -f "$f" ] || { echo "packaging/node/build.sh: $f missing (run scripts/dist.sh)" >&2; exit 1; }
  done
  command -v "$(platform_field "$triple" cc)" >/dev/null ||
    { echo "packaging/node/build.sh: $(platform_field "$triple" cc) (C compiler of $triple) not found" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=$DIST/npm
rm -rf "$out"
mkdir -p "$out"

pack() { # pack DIR: npm pack into $out, prints the tarball's file name
  (cd "$1" && npm pack --silent --pack-destination "$out" --cache "$work/npm-cache")
}

# package.json of a platform package, and of the main package (the committed one plus the
# optionalDependencies of the platforms built now, at this exact version; without the dev-only
# scripts and devDependencies). Generated here rather than committed: platforms.json stays the one
# list, and npm in the repository never tries to fetch the unpublished platform packages.
gen() { # gen platform TRIPLE DIR | gen main DIR TRIPLE...
  python3 - "$PKG_ROOT/packaging/platforms.json" "$NODE_DIR/package.json" "$@" <<'PY'
import json, sys
plats = {p["triple"]: p for p in json.load(open(sys.argv[1]))["platforms"]}
main = json.load(open(sys.argv[2]))
kind = sys.argv[3]
def write(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
if kind == "platform":
    triple, d = sys.argv[4], sys.argv[5]
    n = plats[triple]["node"]
    addon = f"idaas.{n['suffix']}.node"
    pkg = {
        "name": f"{main['name']}-{n['suffix']}",
        "version": main["version"],
        "description": f"The prebuilt native addon of {main['name']} for {n['os']}-{n['cpu']} ({n['libc']}, {triple}); installed by {main['name']}, not used directly",
        "license": main["license"],
        "repository": main.get("repository"),
        "os": [n["os"]],
        "cpu": [n["cpu"]],
        "libc": [n["libc"]] if n.get("libc") else None,
        "main": addon,
        "files": [addon],
        "engines": main["engines"],
    }
    write(f"{d}/package.json", {k: v for k, v in pkg.items() if v is not None})
else:
    d, triples = sys.argv[4], sys.argv[5:]
    for k in ("scripts", "devDependencies"):
        main.pop(k, None)
    main["optionalDependencies"] = {f"{main['name']}-{plats[t]['node']['suffix']}": main["version"] for t in triples}
    main["files"] = main["files"] + ["platforms.json"]
    write(f"{d}/package.json", main)
    # The loader's platform list: the node part of platforms.json, for the platforms built now.
    write(f"{d}/platforms.json", {"platforms": [{"triple": t, "node": plats[t]["node"]} for t in triples]})
PY
}

for triple in $triples; do
  suffix=$(platform_field "$triple" node.suffix)
  d=$work/$suffix
  mkdir -p "$d"
  addon=$d/idaas.$suffix.node
  make -s -C "$NODE_DIR" --no-print-directory "$addon" ADDON="$addon" \
    CC="$(platform_field "$triple" cc)" \
    LIBIDAAS="$DIST/$triple/lib/libidaas.a" \
    STATIC_LIBS="$(cat "$DIST/native-static-libs.$triple")"
  # The addon's own debug info goes (libidaas.a had it stripped already); its one dynamic export,
  # napi_register_module_v1, stays.
  "$(platform_field "$triple" strip)" --strip-unneeded "$addon"
  cp "$PKG_ROOT/LICENSE" "$d/"
  gen platform "$triple" "$d"
  tgz=$out/$(pack "$d")
  record_size "npm $(basename "$tgz")" "$tgz"
  b=$(stat -c %s "$tgz")
  [ "$b" -le $MAX_PLATFORM_BYTES ] ||
    { echo "packaging/node/build.sh: $(basename "$tgz") is $b bytes, over the 3 MiB budget" >&2; exit 1; }
done

m=$work/main
mkdir -p "$m"
# The files the committed package.json ships ("files"), plus the license.
node -e 'for (const f of require(process.argv[1]).files) console.log(f)' "$NODE_DIR/package.json" |
  while read -r f; do cp "$NODE_DIR/$f" "$m/"; done
cp "$PKG_ROOT/LICENSE" "$m/"
# shellcheck disable=SC2086
gen main "$m" $triples
tgz=$out/$(pack "$m")
record_size "npm $(basename "$tgz")" "$tgz"
echo "packaging/node/build.sh: npm packages in $out"
