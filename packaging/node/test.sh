#!/usr/bin/env bash
# Consumer tests of the npm packages in $DIST/npm (packaging/node/build.sh; docs/decisions.md D-56):
#
#   1. every platform package, structurally: its package.json's os/cpu/libc are its entry of
#      packaging/platforms.json, its addon is built for that machine and C library (file(1),
#      NEEDED entries, glibc symbol versions; for musl, every symbol it imports is in musl's
#      libc), exports the Node-API entry points only, fits the 3 MiB budget; the main package
#      lists them all as optionalDependencies at the exact version; both carry the Apache-2.0
#      license.
#   2. new projects in a temporary directory outside the repository, installed with
#      `npm install --offline` from the tarballs (npm cache: a temporary one seeded with them),
#      run with a PATH holding only node, npm, npx and sh (no cc, gcc, cargo, rustc):
#      - "registry": only the main tarball is asked for; the platform packages are offered to npm
#        (overrides → the tarballs) and npm itself picks by os/cpu/libc, as it does from a
#        registry. CommonJS require, ESM import, and a typed .mts file (tsc --noEmit, then run
#        compiled) each get a token from the emulator (the default config lookup:
#        CLOUD_IDAAS_CONFIG_PATH) and check it;
#      - "offline": the main tarball and this machine's platform tarball by path (what an
#        air-gapped user does, README "Install");
#      - "omitted": --omit=optional: require fails naming the package it needs.
#   The addons of the other platforms cannot run here (no aarch64 or musl node): step 1 only.
#
#   packaging/node/test.sh [TRIPLE...]    (default: every triple of packaging/platforms.json)
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
NODE_DIR=$PKG_ROOT/bindings/node
NPM_DIR=$DIST/npm
MAX_PLATFORM_BYTES=$((3 * 1024 * 1024))
triples=${*:-$(all_triples)}
main_tgz=$NPM_DIR/idaas-node-$VERSION.tgz

fail() { echo "FAIL $*" >&2; exit 1; }
ok() { echo "ok   $*"; }
[ -f "$main_tgz" ] || fail "$main_tgz missing (run packaging/node/build.sh)"

# TypeScript and @types/node for the typed consumer, packed from the binding's dev dependencies
# (npm ci from its lockfile when missing: the only step that may use the network).
[ -d "$NODE_DIR/node_modules/typescript" ] || make -s -C "$NODE_DIR" node_modules >/dev/null
work=$(mktemp -d)
trap 'stop_emulator; rm -rf "$work"' EXIT
mkdir -p "$work/deps" "$work/home"
export HOME=$work/home npm_config_cache=$work/npm-cache npm_config_update_notifier=false \
  npm_config_fund=false npm_config_audit=false npm_config_loglevel=error
(cd "$work/deps" && npm pack --silent --ignore-scripts \
  "$NODE_DIR/node_modules/typescript" "$NODE_DIR/node_modules/@types/node" \
  "$NODE_DIR/node_modules/undici-types" >/dev/null)

# ---- 1. the packages, structurally ----------------------------------------------------------------
elf_machine() { # the file(1) name of a triple's CPU
  case ${1%%-*} in
    x86_64) echo "x86-64" ;;
    aarch64) echo "ARM aarch64" ;;
    *) fail "packaging/node/test.sh: add the file(1) machine name of ${1%%-*}" ;;
  esac
}
tar -xzf "$main_tgz" -C "$work" && mv "$work/package" "$work/main-pkg"
[ -f "$work/main-pkg/LICENSE" ] && grep -q "Apache License" "$work/main-pkg/LICENSE" || fail "main package: no LICENSE"
for triple in $triples; do
  suffix=$(platform_field "$triple" node.suffix)
  libc=$(platform_field "$triple" node.libc)
  tgz=$NPM_DIR/idaas-node-$suffix-$VERSION.tgz
  [ -f "$tgz" ] || fail "$tgz missing (run packaging/node/build.sh)"
  b=$(stat -c %s "$tgz")
  [ "$b" -le $MAX_PLATFORM_BYTES ] || fail "$(basename "$tgz"): $b bytes, over 3 MiB"
  d=$work/pkg-$suffix
  mkdir -p "$d" && tar -xzf "$tgz" -C "$d"
  grep -q "Apache License" "$d/package/LICENSE" || fail "$suffix: no LICENSE"
  # package.json: name, version, os/cpu/libc as platforms.json says; the main package depends on it.
  node - "$PKG_ROOT/packaging/platforms.json" "$triple" "$d/package/package.json" \
    "$work/main-pkg/package.json" "$VERSION" <<'JS' || fail "$suffix: package.json"
const fs = require('node:fs');
const assert = require('node:assert/strict');
const [plats, triple, pkgFile, mainFile, version] = process.argv.slice(2);
const n = JSON.parse(fs.readFileSync(plats, 'utf8')).platforms.find((p) => p.triple === triple).node;
const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8'));
const main = JSON.parse(fs.readFileSync(mainFile, 'utf8'));
assert.equal(pkg.name, `${main.name}-${n.suffix}`);
assert.equal(pkg.version, version);
assert.equal(main.version, version);
assert.deepEqual([pkg.os, pkg.cpu, pkg.libc], [[n.os], [n.cpu], [n.libc]]);
assert.equal(pkg.license, 'Apache-2.0');
assert.equal(main.license, 'Apache-2.0');
assert.ok(fs.existsSync(require('node:path').join(pkgFile, '..', pkg.main)), pkg.main);
assert.equal(main.optionalDependencies[pkg.name], version); // exact, not a range
JS
  addon=$d/package/idaas.$suffix.node
  desc=$(file -b "$addon")
  grep -q "ELF 64-bit LSB shared object, $(elf_machine "$triple")," <<<"$desc" || fail "$suffix: $desc"
  needed=$(readelf -d "$addon" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  glibc_refs=$(objdump -T "$addon" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n1 || true)
  case $libc in
    glibc)
      grep -qx 'libc\.so\.6' <<<"$needed" || fail "$suffix: NEEDED" $needed "(no libc.so.6)"
      [ -n "$glibc_refs" ] || fail "$suffix: no glibc symbol version"
      note="symbols up to $glibc_refs" ;;
    musl)
      # musl's libc (libc.so, or Alpine's libc.musl-<arch>.so.1), and nothing of glibc.
      grep -Eqx 'libc\.so|libc\.musl-[a-z0-9_]+\.so\.1' <<<"$needed" || fail "$suffix: NEEDED" $needed "(no musl libc)"
      ! grep -Eq '^(libc\.so\.6|ld-linux.*)$' <<<"$needed" || fail "$suffix: NEEDED" $needed "(glibc)"
      [ -z "$glibc_refs" ] || fail "$suffix: needs $glibc_refs"
      # Every symbol it needs (but Node-API's, which node provides) is in musl's libc: no glibc-only
      # name (__memcpy_chk, __fprintf_chk ...). musl's libc.so: the one the triple's cc links.
      cc=$(platform_field "$triple" cc)
      musl_libc=$(echo 'int main(void) { return 0; }' |
        "$cc" -x c - -o "$work/probe" -Wl,-t 2>&1 | grep -m1 '/libc\.so$' || true)
      [ -f "$musl_libc" ] || fail "$suffix: musl's libc.so not found through $cc"
      missing=$(comm -23 \
        <(nm -D --undefined-only "$addon" | awk '$1 == "U" { print $2 }' | grep -Ev '^(napi|node_api)_' | sort -u) \
        <(nm -D --defined-only "$musl_libc" | awk '{ print $NF }' | sort -u) | paste -sd' ' -)
      [ -z "$missing" ] || fail "$suffix: not in musl's libc: $missing"
      note="every import in musl's libc" ;;
    *) fail "$suffix: unknown libc $libc" ;;
  esac
  # Exports: the Node-API entry points and nothing of libidaas (musl's crti.o adds _init/_fini).
  exports=$(readelf --dyn-syms -W "$addon" | awk '$5 == "GLOBAL" && $7 != "UND" { print $8 }' |
    grep -Evx '_init|_fini' | sort | paste -sd' ' -)
  [ "$exports" = "napi_register_module_v1 node_api_module_get_api_version_v1" ] ||
    fail "$suffix: exports $exports"
  ok "$suffix package: $b bytes gzipped, $(elf_machine "$triple"), NEEDED $(paste -sd' ' - <<<"$needed"), $note, exports napi_register_module_v1"
done
# Every platform the main package names has its tarball.
node -e '
  const fs = require("node:fs");
  const [main, dir, version] = process.argv.slice(1);
  for (const name of Object.keys(JSON.parse(fs.readFileSync(main, "utf8")).optionalDependencies)) {
    const f = `${dir}/${name.replace(/^@/, "").replace("/", "-")}-${version}.tgz`;
    if (!fs.existsSync(f)) { console.error(`${name}: ${f} missing`); process.exit(1); }
  }' "$work/main-pkg/package.json" "$NPM_DIR" "$VERSION" || fail "main package: optionalDependencies"
ok "main package: Apache-2.0, optionalDependencies = $(node -p 'Object.keys(require(process.argv[1]).optionalDependencies).join(" ")' "$work/main-pkg/package.json")"

# ---- 2. consumers ---------------------------------------------------------------------------------
# This machine's platform, by the rule npm applies to os/cpu/libc (independent of loader.js).
host_suffix=$(node - "$PKG_ROOT/packaging/platforms.json" <<'JS'
const libc = process.report.getReport().header.glibcVersionRuntime ? 'glibc' : 'musl';
const p = require(process.argv[2]).platforms.map((x) => x.node)
  .find((n) => n.os === process.platform && n.cpu === process.arch && n.libc === libc);
console.log(p ? p.suffix : '');
JS
)
[ -n "$host_suffix" ] || fail "this machine ($(node -p 'process.platform + "-" + process.arch')) has no platform package"
host_tgz=$NPM_DIR/idaas-node-$host_suffix-$VERSION.tgz
[ -f "$host_tgz" ] || fail "$host_tgz missing"

for f in "$NPM_DIR"/*.tgz "$work"/deps/*.tgz; do npm cache add "$f" >/dev/null; done
start_emulator "$work"
# sh: npx runs package binaries through it (every user has one; it compiles nothing).
userbin=$(user_path "$work/bin" node npm npx sh)
for t in cc gcc cargo rustc; do
  ! PATH=$userbin command -v "$t" >/dev/null || fail "$t on the consumer's PATH"
done
as_user() { PATH=$userbin "$@"; }

new_project() { # new_project DIR [overrides JSON]
  mkdir -p "$1"
  printf '{ "name": "consumer", "version": "1.0.0", "private": true%s }\n' "${2:+, \"overrides\": $2}" >"$1/package.json"
}

# The programs: each loads @idaas/node its own way, gets a token with the default config lookup,
# checks it against the configuration, and prints which addon file node loaded (no token text).
cat >"$work/check.cjs" <<'JS'
// Shared by the consumers: is this the emulator's token for the configured client?
const fs = require('node:fs');
module.exports = function check(label, token, addon) {
  const config = JSON.parse(fs.readFileSync(process.env.CLOUD_IDAAS_CONFIG_PATH, 'utf8'));
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error(`${label}: not a JWT`);
  const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
  if (claims.iss !== config.issuer) throw new Error(`${label}: iss ${claims.iss}, want ${config.issuer}`);
  if (![claims.sub, claims.client_id, claims.azp].includes(config.clientId)) {
    throw new Error(`${label}: token not for ${config.clientId}: ${JSON.stringify(Object.keys(claims))}`);
  }
  console.log(`${label}: token for ${config.clientId} from ${require('node:path').relative(process.cwd(), addon)}`);
};
JS
cat >"$work/cjs.cjs" <<'JS'
const idaas = require('@idaas/node');
const check = require('./check.cjs');
(async () => {
  const client = await idaas.init(); // CLOUD_IDAAS_CONFIG_PATH
  try {
    const token = await client.getBearerToken();
    if (client.getBearerTokenSync() !== token) throw new Error('the cached token differs');
    check(`require ${idaas.version()}`, token, Object.keys(require.cache).find((f) => f.endsWith('.node')));
  } finally {
    client.close();
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
JS
cat >"$work/esm.mjs" <<'JS'
import idaas, { init, version } from '@idaas/node';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const check = require('./check.cjs');
if (idaas.init !== init) throw new Error('the default export is not the module');
const client = await init();
try {
  check(`import ${version()}`, await client.getBearerToken(), Object.keys(require.cache).find((f) => f.endsWith('.node')));
} finally {
  client.close();
}
JS
cat >"$work/typed.mts" <<'JS'
import { init, version, IdaasError, type Client, type Credential } from '@idaas/node';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const check: (label: string, token: string, addon?: string) => void = require('../check.cjs');

const client: Client = await init();
try {
  const token: string = await client.getBearerToken();
  const cred: Credential = await client.exchangeToken({
    subjectToken: token,
    subjectTokenType: 'urn:ietf:params:oauth:token-type:access_token',
  });
  if (typeof cred !== 'object') throw new Error('no credential');
  check(`typescript ${version()}`, token, Object.keys(require.cache).find((f) => f.endsWith('.node')));
} catch (e) {
  if (e instanceof IdaasError) console.error(e.code, e.httpStatus);
  throw e;
} finally {
  client.close();
}
JS
# What tsc must reject: proof that the types are read, not `any`.
cat >"$work/wrong.mts" <<'JS'
import { init } from '@idaas/node';
const n: number = await (await init()).getBearerToken();
export { n };
JS

run_checked() { # run_checked LABEL DIR CMD...: the program's line must name this platform's addon
  local label=$1 dir=$2; shift 2
  local out
  out=$(cd "$dir" && as_user "$@" 2>&1) || fail "$label: $out"
  grep -q "token for .* from node_modules/@idaas/node-$host_suffix/idaas.$host_suffix.node\$" <<<"$out" ||
    fail "$label: $out"
  ok "$label ($host_suffix): $out"
}

# "registry": npm chooses the platform package.
p=$work/registry
overrides=$(node -e '
  const [dir, version] = process.argv.slice(1);
  const deps = JSON.parse(require("node:fs").readFileSync(process.argv[3], "utf8")).optionalDependencies;
  const o = {};
  for (const name of Object.keys(deps)) o[name] = `file:${dir}/${name.replace(/^@/, "").replace("/", "-")}-${version}.tgz`;
  console.log(JSON.stringify(o));' "$NPM_DIR" "$VERSION" "$work/main-pkg/package.json")
new_project "$p" "$overrides"
(cd "$p" && as_user npm install --offline "$main_tgz" >/dev/null && as_user npm install --offline --save-dev "$work"/deps/*.tgz >/dev/null) ||
  fail "npm install --offline (registry-like)"
installed=$(cd "$p/node_modules/@idaas" && ls -d node-* | paste -sd' ' -)
[ "$installed" = "node-$host_suffix" ] || fail "npm installed @idaas/{$installed}, want node-$host_suffix only"
ok "npm install --offline @idaas/node: npm picked @idaas/node-$host_suffix (of $(grep -c '"node_modules/@idaas/node-' "$p/package-lock.json") in the lockfile)"
cp "$work"/check.cjs "$work"/cjs.cjs "$work"/esm.mjs "$work"/typed.mts "$work"/wrong.mts "$p/"
cat >"$p/tsconfig.json" <<'JSON'
{
  "compilerOptions": {
    "target": "ES2022", "module": "node16", "moduleResolution": "node16",
    "strict": true, "skipLibCheck": false, "types": ["node"], "outDir": "out"
  },
  "files": ["typed.mts"]
}
JSON
echo '{ "extends": "./tsconfig.json", "files": ["wrong.mts"] }' >"$p/tsconfig.wrong.json"
run_checked "CommonJS require" "$p" node cjs.cjs
run_checked "ESM import" "$p" node esm.mjs
(cd "$p" && as_user npx --offline tsc --noEmit -p tsconfig.json) || fail "tsc --noEmit typed.mts"
ok "tsc --noEmit typed.mts (strict, skipLibCheck false)"
out=$(cd "$p" && as_user npx --offline tsc --noEmit -p tsconfig.wrong.json 2>&1) && fail "tsc accepted wrong.mts"
grep -q "TS2322" <<<"$out" || fail "tsc on wrong.mts: $out"
ok "tsc --noEmit rejects a string assigned to a number (TS2322)"
(cd "$p" && as_user npx --offline tsc -p tsconfig.json) || fail "tsc typed.mts"
run_checked "TypeScript (compiled typed.mts)" "$p" node out/typed.mjs

# "offline": the two tarballs by path.
p=$work/offline
new_project "$p"
(cd "$p" && as_user npm install --offline "$main_tgz" "$host_tgz" >/dev/null) || fail "npm install --offline main + $host_suffix"
cp "$work"/check.cjs "$work"/cjs.cjs "$p/"
run_checked "CommonJS require after npm install of the two tarballs" "$p" node cjs.cjs

# "omitted": no platform package; the error says which one is needed.
p=$work/omitted
new_project "$p" "$overrides"
(cd "$p" && as_user npm install --offline --omit=optional "$main_tgz" >/dev/null) || fail "npm install --omit=optional"
out=$(cd "$p" && as_user node -e 'require("@idaas/node")' 2>&1) && fail "require without a platform package succeeded"
grep -q "is the package @idaas/node-$host_suffix, which is not installed" <<<"$out" || fail "require error: $out"
ok "without its platform package, require names it: $(grep -o "@idaas/node: the addon.*not installed" <<<"$out")"

echo "packaging/node/test.sh: every npm consumer test passed ($triples)"
