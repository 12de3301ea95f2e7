#!/usr/bin/env bash
# Consumer tests of the Python wheels in $DIST/python (packaging/python/build.sh; docs/decisions.md
# D-76, D-77):
#
#   1. every wheel, structurally: its file name is idaas-<version>-cp39-abi3-<tag> with the tag of
#      its packaging/platforms.json entry; it holds exactly the package's Python files (identical
#      to bindings/python/python/idaas), the extension module idaas/_native.abi3.so and the
#      dist-info (METADATA: name, version, Requires-Python, license; WHEEL: not purelib, the one
#      tag; RECORD: every file with its sha256 and size; licenses/LICENSE: the Apache-2.0 text);
#      no sdist is next to them (wheels only, D-76). The module is a stripped ELF shared object of
#      the platform's machine with no program interpreter, exporting PyInit__native only; NEEDED
#      names only the C library family (glibc: libc, libm, libdl, libpthread, librt, libgcc_s, the
#      loader; never libpython — the interpreter provides the Py* symbols), its glibc symbol
#      versions are no newer than the tag's manylinux glibc, a musl module needs musl's libc only.
#      The platform's own dynamic loader (aarch64: under qemu, with the cross sysroot; musl: musl's
#      ld-musl) loads it with every symbol bound now: every library is found, and the only symbols
#      left undefined are the interpreter's (Py*), the same set for every platform.
#   2. this machine's wheel, as a user installs it: for each CPython found here (the python3 on
#      PATH and, when present, the oldest and newest of pyenv's >= 3.9: one abi3 wheel serves them
#      all), a new virtual environment in a temporary directory outside the repository, created
#      and used with a PATH holding that python3 only and then the venv's bin (no cc, gcc, cargo,
#      rustc); `pip debug --verbose` must accept the tag of exactly one wheel (this machine's);
#      `pip install --no-index --find-links $DIST/python idaas` (offline, pip choosing among all
#      the wheels by tag) must install that wheel without building anything; a wheel of another
#      platform given by path is refused ("not a supported wheel"). A consumer script outside the
#      repository then imports idaas from the venv, gets a token (the default config lookup:
#      CLOUD_IDAAS_CONFIG_PATH) and checks its issuer and client, fetches the emulator's API key
#      `openai_prod_key` (sync and asyncio), and gets idaas.AuthError (401 invalid_client) for a
#      wrong client secret.
#   The aarch64 and musl wheels cannot be installed or imported here: no aarch64 or musl CPython
#   runs on this machine (step 1 only, where their loaders do run).
#
#   packaging/python/test.sh [TRIPLE...]    (default: every triple of packaging/platforms.json)
#   IDAAS_TEST_PYTHONS="/path/python3.9 ..."  the interpreters of step 2 (default: found as above)
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
WHEELS=$DIST/python
PY_SRC=$PKG_ROOT/bindings/python/python/idaas
API_KEY=sk-EXAMPLE0123456789abcdef
triples=${*:-$(all_triples)}

fail() { echo "FAIL $*" >&2; exit 1; }
ok() { echo "ok   $*"; }
[ -d "$WHEELS" ] || fail "$WHEELS missing (run packaging/python/build.sh)"

work=$(mktemp -d)
trap 'stop_emulator; rm -rf "$work"' EXIT

# ---- 1. the wheels, structurally ------------------------------------------------------------------
elf_machine() { # the file(1) name of a triple's CPU
  case ${1%%-*} in
    x86_64) echo "x86-64" ;;
    aarch64) echo "ARM aarch64" ;;
    *) fail "packaging/python/test.sh: add the file(1) machine name of ${1%%-*}" ;;
  esac
}
# The platform's dynamic loader, as a command: glibc's ld-linux (in the qemu sysroot of the "run"
# field for a cross platform), musl's ld-musl.
loader_of() {
  local triple=$1 arch=${1%%-*} run sysroot="" f
  run=$(platform_field "$triple" run)
  if [[ $run == *" -L "* ]]; then sysroot=${run##*-L }; sysroot=${sysroot%% *}; fi
  case $triple in
    *-musl) f=/lib/ld-musl-$arch.so.1 ;;
    *) f=$(ls "$sysroot"/lib{,64}/ld-linux-"${arch//_/-}".so.* 2>/dev/null | head -n1 || true) ;;
  esac
  [ -n "$f" ] && [ -x "$f" ] || fail "$triple: no dynamic loader (${f:-ld-linux-${arch//_/-}.so.* under ${sysroot:-/}})"
  echo "$run $f"
}
# Where the Python sources are, relative to the package directory (no caches, no dev build's .so).
src_files=$(cd "$PY_SRC" && find . -type f ! -path '*/__pycache__/*' ! -name '*.so' | sed 's|^\./||' | sort)
py_imports_ref=""
[ -z "$(find "$WHEELS" -maxdepth 1 -type f ! -name '*.whl' -print -quit)" ] ||
  fail "$WHEELS holds more than wheels: $(ls "$WHEELS")"

for triple in $triples; do
  tag=$(platform_field "$triple" python)
  whl=$WHEELS/idaas-$VERSION-cp39-abi3-$tag.whl
  [ -f "$whl" ] || fail "$whl missing (run packaging/python/build.sh)"
  d=$work/wheel-$triple
  mkdir -p "$d" && (cd "$d" && unzip -q "$whl")
  di=idaas-$VERSION.dist-info
  # Layout: the Python files, the extension module, the dist-info; nothing else.
  want=$( { sed 's|^|idaas/|' <<<"$src_files"; echo idaas/_native.abi3.so
            printf '%s\n' "$di/METADATA" "$di/WHEEL" "$di/RECORD" "$di/licenses/LICENSE"; } | sort)
  have=$(unzip -Z1 "$whl" | sort)
  [ "$have" = "$want" ] || fail "$tag: layout differs: $(diff <(echo "$want") <(echo "$have") | grep '^[<>]' | paste -sd' ' -)"
  while read -r f; do cmp -s "$PY_SRC/$f" "$d/idaas/$f" || fail "$tag: idaas/$f differs from the sources"; done <<<"$src_files"
  cmp -s "$PKG_ROOT/LICENSE" "$d/$di/licenses/LICENSE" || fail "$tag: licenses/LICENSE is not the repository's LICENSE"
  python3 - "$d" "$di" "$tag" "$VERSION" <<'PY' || fail "$tag: dist-info"
import base64, csv, hashlib, os, sys
from email.parser import Parser
d, di, tag, version = sys.argv[1:]
wheel = Parser().parsestr(open(f"{d}/{di}/WHEEL").read())
assert wheel["Wheel-Version"] == "1.0", wheel["Wheel-Version"]
assert wheel["Root-Is-Purelib"] == "false", "Root-Is-Purelib"
assert wheel.get_all("Tag") == [f"cp39-abi3-{tag}"], wheel.get_all("Tag")
meta = Parser().parsestr(open(f"{d}/{di}/METADATA").read())
for k, v in (("Name", "idaas"), ("Version", version), ("Requires-Python", ">=3.9"),
             ("License", "Apache-2.0"), ("License-File", "LICENSE")):
    assert meta[k] == v, f"METADATA {k}: {meta[k]!r}, want {v!r}"
assert not meta.get_all("Requires-Dist"), f"dependencies: {meta.get_all('Requires-Dist')}"
rows = {r[0]: r[1:] for r in csv.reader(open(f"{d}/{di}/RECORD"))}
files = {os.path.relpath(os.path.join(r, f), d) for r, _, fs in os.walk(d) for f in fs}
assert set(rows) == files, f"RECORD lists {sorted(set(rows) ^ files)} wrongly"
for path, (h, size) in rows.items():
    if path == f"{di}/RECORD":
        assert h == "" and size == "", "RECORD's own line"
        continue
    data = open(os.path.join(d, path), "rb").read()
    algo, digest = h.split("=", 1)
    assert algo == "sha256", path
    assert base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode() == digest, f"{path}: hash"
    assert int(size) == len(data), f"{path}: size"
PY
  so=$d/idaas/_native.abi3.so
  desc=$(file -b "$so")
  grep -q "^ELF 64-bit LSB shared object, $(elf_machine "$triple")," <<<"$desc" || fail "$tag: $desc"
  grep -q ", stripped$" <<<"$desc" || fail "$tag: not stripped: $desc"
  ! readelf -lW "$so" | grep -q 'INTERP' || fail "$tag: has a program interpreter"
  needed=$(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | paste -sd' ' -)
  glibc_max=$(objdump -T "$so" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n1 || true)
  case $tag in
    manylinux_*)
      # The manylinux policy's libraries (PEP 600 / auditwheel's list) that ours can need.
      for n in $needed; do
        grep -Eqx 'libc\.so\.6|libm\.so\.6|libdl\.so\.2|libpthread\.so\.0|librt\.so\.1|libgcc_s\.so\.1|ld-linux-[a-z0-9_-]+\.so\.[12]' <<<"$n" ||
          fail "$tag: NEEDED $n (outside the manylinux policy)"
      done
      grep -qw 'libc\.so\.6' <<<"$needed" || fail "$tag: NEEDED $needed (no libc.so.6)"
      floor=$(sed -E 's/^manylinux_([0-9]+)_([0-9]+)_.*/\1.\2/' <<<"$tag")
      [ -n "$glibc_max" ] || fail "$tag: no glibc symbol version"
      [ "$(printf '%s\n' "$glibc_max" "$floor" | sort -V | tail -n1)" = "$floor" ] ||
        fail "$tag: needs GLIBC_$glibc_max, newer than the tag's $floor"
      note="glibc symbols up to $glibc_max (tag: $floor)" ;;
    musllinux_*)
      [ "$needed" = "libc.so" ] || grep -Eqx 'libc\.musl-[a-z0-9_]+\.so\.1' <<<"$needed" ||
        fail "$tag: NEEDED $needed (want musl's libc only)"
      [ -z "$glibc_max" ] || fail "$tag: needs GLIBC_$glibc_max"
      note="no glibc symbol" ;;
    *) fail "$triple: unknown python tag $tag" ;;
  esac
  exports=$(readelf --dyn-syms -W "$so" | awk '$5 == "GLOBAL" && $7 != "UND" { print $8 }' |
    grep -Evx '_init|_fini' | sort | paste -sd' ' -)
  [ "$exports" = "PyInit__native" ] || fail "$tag: exports $exports"
  # The platform's loader binds every symbol now (glibc: ldd -r's variables; musl: --list): every
  # library resolves, and what stays undefined is the interpreter's.
  read -ra loader <<<"$(loader_of "$triple")"
  case $tag in
    musllinux_*) trace=$("${loader[@]}" --list "$so" 2>&1 || true)
                 undefined=$(sed -n 's/^Error relocating [^:]*: \([^:]*\): symbol not found$/\1/p' <<<"$trace") ;;
    *) # The variables are the guest's: qemu passes its own environment to it (-E), the host's
       # loader would trace qemu itself.
       vars=(LD_TRACE_LOADED_OBJECTS=1 LD_WARN=yes LD_BIND_NOW=yes)
       if [[ ${loader[0]} == qemu-* ]]; then
         qenv=(); for x in "${vars[@]}"; do qenv+=(-E "$x"); done
         trace=$("${loader[0]}" "${qenv[@]}" "${loader[@]:1}" "$so" 2>&1 || true)
       else
         trace=$(env "${vars[@]}" "${loader[@]}" "$so" 2>&1 || true)
       fi
       undefined=$(sed -n 's/^undefined symbol: \([^[:space:]]*\).*/\1/p' <<<"$trace") ;;
  esac
  ! grep -Eq 'not found|No such file|Error loading' <<<"$(grep -v 'symbol not found' <<<"$trace")" ||
    fail "$tag: the loader misses a library: $trace"
  grep -Eq 'libc' <<<"$trace" || fail "$tag: the loader did not list libc: $trace"
  other=$(grep -Ev '^_?Py' <<<"$undefined" | paste -sd' ' - || true)
  [ -z "$other" ] || fail "$tag: undefined after loading: $other"
  py_imports=$(sort -u <<<"$undefined")
  [ -n "$py_imports" ] || fail "$tag: no Py* import reported by the loader: $trace"
  if [ -z "$py_imports_ref" ]; then py_imports_ref=$py_imports; ref_tag=$tag
  else [ "$py_imports" = "$py_imports_ref" ] || fail "$tag: imports other Py* symbols than $ref_tag: $(diff <(echo "$py_imports_ref") <(echo "$py_imports") | grep '^[<>]' | paste -sd' ' -)"
  fi
  ok "$(basename "$whl"): $(stat -c %s "$whl") bytes, layout + RECORD hashes, $(elf_machine "$triple") stripped, no interpreter, NEEDED $needed, $note, exports PyInit__native, loaded by ${loader[-1]##*/}$([ ${#loader[@]} -eq 1 ] || echo " under ${loader[0]}") with $(wc -l <<<"$py_imports") Py* symbols left to the interpreter"
done

# ---- 2. this machine's wheel, installed and used ----------------------------------------------------
start_emulator "$work"
secret_var=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["authnConfiguration"]["clientSecretEnvVarName"])' "$CLOUD_IDAAS_CONFIG_PATH")
export "$secret_var=$IDAAS_CLIENT_SECRET"

# The interpreters: IDAAS_TEST_PYTHONS, else python3 plus the oldest and newest CPython >= 3.9 that
# pyenv has (each by its real path: a pyenv shim is a shell script needing pyenv on PATH).
pythons=${IDAAS_TEST_PYTHONS:-$(python3 - <<'PY'
import glob, os, subprocess, sys
found = {sys.version_info[:2]: os.path.realpath(sys.executable)}
root = subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip() if any(
    os.access(os.path.join(p, "pyenv"), os.X_OK) for p in os.environ["PATH"].split(os.pathsep)) else ""
for exe in glob.glob(os.path.join(root, "versions", "*", "bin", "python3")) if root else []:
    r = subprocess.run([exe, "-c", "import sys, venv, ensurepip; print(sys.version_info[0], sys.version_info[1], sys.implementation.name)"],
                       capture_output=True, text=True)
    if r.returncode == 0:
        major, minor, impl = r.stdout.split()
        if impl == "cpython" and (int(major), int(minor)) >= (3, 9):
            found.setdefault((int(major), int(minor)), os.path.realpath(exe))
keys = sorted(found)
want = {keys[0], keys[-1], sys.version_info[:2]}
print(" ".join(found[k] for k in sorted(want)))
PY
)}

cat >"$work/consumer.py" <<'PY'
"""A user's program: the installed idaas, a token, an API key, an exception."""
import asyncio, base64, json, os, sys

import idaas
import idaas.aio

here = os.path.dirname(os.path.abspath(idaas.__file__))
assert here.startswith(os.path.realpath(sys.prefix)) and "site-packages" in here, f"idaas from {here}"
assert idaas.__version__ == sys.argv[1], idaas.__version__
config = json.load(open(os.environ["CLOUD_IDAAS_CONFIG_PATH"]))

with idaas.Client() as client:  # the default lookup: CLOUD_IDAAS_CONFIG_PATH
    token = client.bearer_token()
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["iss"] == config["issuer"], claims["iss"]
    assert config["clientId"] in (claims.get("sub"), claims.get("client_id"), claims.get("azp")), list(claims)
    assert client.bearer_token() == token, "the cached token differs"
    with client.pam() as pam:
        assert pam.get_api_key("openai_prod_key") == sys.argv[2], "API key"


async def main() -> None:
    async with idaas.aio.AsyncClient() as client:
        assert (await client.bearer_token()).count(".") == 2
        async with client.pam() as pam:
            assert await pam.get_api_key("openai_prod_key") == sys.argv[2], "API key (asyncio)"

asyncio.run(main())

secret_var = config["authnConfiguration"]["clientSecretEnvVarName"]
os.environ[secret_var] = "not-the-secret"
try:
    with idaas.Client() as client:
        client.bearer_token()
    raise SystemExit("a wrong client secret got a token")
except idaas.AuthError as e:
    assert isinstance(e, idaas.AuthenticationError) and isinstance(e, idaas.IDaaSError)
    assert (e.http_status, e.server_code, e.error_class) == (401, "invalid_client", "AUTHENTICATION"), repr(e)
    err = f"{type(e).__name__} {e.http_status} {e.server_code}"
print(f"CPython {sys.version.split()[0]}: idaas {idaas.__version__} from {os.path.relpath(here, sys.prefix)},"
      f" token for {config['clientId']}, API key, asyncio, {err}")
PY
mkdir -p "$work/consumer" "$work/home"
cp "$work/consumer.py" "$work/consumer/app.py"

first=1
for py in $pythons; do
  v=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  userbin=$work/bin-$v
  mkdir -p "$userbin" && ln -sf "$py" "$userbin/python3"
  venv=$work/venv-$v
  for t in cc gcc cargo rustc; do
    ! PATH=$userbin command -v "$t" >/dev/null || fail "$t on the consumer's PATH"
    ! PATH=$venv/bin:$userbin command -v "$t" >/dev/null || fail "$t on the consumer's PATH"
  done
  # The user's environment: no pip configuration, cache, user site or PYTHONPATH of this machine.
  as_user() {
    env -u PYTHONPATH -u PYTHONHOME -u VIRTUAL_ENV -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL \
      HOME="$work/home" PIP_CONFIG_FILE=/dev/null PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
      PYTHONNOUSERSITE=1 PATH="$venv/bin:$userbin" "$@"
  }
  (cd "$work/consumer" && as_user python3 -m venv "$venv") || fail "python $v: python3 -m venv"
  # The tags pip accepts here: exactly one wheel's.
  tags=$(cd "$work/consumer" && as_user pip debug --verbose 2>/dev/null | sed -n 's/^ *\([a-z0-9_.]*-[a-z0-9_]*-[a-z0-9_.]*\)$/\1/p')
  [ "$(wc -l <<<"$tags")" -gt 10 ] || fail "python $v: pip debug --verbose listed no tags"
  accepted=""
  for w in "$WHEELS"/*.whl; do
    t=$(basename "$w" .whl); t=${t#idaas-"$VERSION"-}
    if grep -qx "$t" <<<"$tags"; then accepted="$accepted $(basename "$w")"; fi
  done
  accepted=${accepted# }
  [ -n "$accepted" ] && [ "${accepted// /}" = "$accepted" ] || fail "python $v: pip accepts [$accepted], want exactly one wheel"
  out=$(cd "$work/consumer" && as_user pip install --no-index --find-links "$WHEELS" idaas 2>&1) ||
    fail "python $v: pip install --no-index --find-links: $out"
  ! grep -Eiq 'building wheel|preparing metadata|setup\.py|running command|build backend|\.tar\.gz' <<<"$out" ||
    fail "python $v: pip built something: $out"
  grep -q "Successfully installed idaas-$VERSION" <<<"$out" || fail "python $v: $out"
  site=$(as_user python3 -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')
  inst_tag=$(sed -n 's/^Tag: //p' "$site/idaas-$VERSION.dist-info/WHEEL")
  [ "idaas-$VERSION-$inst_tag.whl" = "$accepted" ] || fail "python $v: installed $inst_tag, pip accepts $accepted"
  ok "python $v: pip accepts only $accepted; pip install --no-index --find-links $WHEELS idaas installed it (no build, no compiler on PATH)"
  if [ -n "$first" ]; then
    for w in "$WHEELS"/*.whl; do
      [ "$(basename "$w")" != "$accepted" ] || continue
      out=$(as_user pip install --no-index "$w" 2>&1) && fail "python $v: pip installed $(basename "$w")"
      grep -q "is not a supported wheel on this platform" <<<"$out" || fail "python $v: $(basename "$w"): $out"
      ok "python $v: pip refuses $(basename "$w") (not a supported wheel on this platform)"
    done
    first=
  fi
  out=$(cd "$work/consumer" && as_user python3 app.py "$VERSION" "$API_KEY" 2>&1) || fail "python $v: consumer: $out"
  ok "$out"
done
echo "packaging/python/test.sh: every Python wheel test passed ($triples; installed and run with CPython $(for py in $pythons; do "$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])'; done | paste -sd' ' -))"
