# shellcheck shell=bash disable=SC2034  # VERSION, STRIP, BUNDLE_UNWIND: for the scripts that source this
# Shell helpers of the packaging tests (sourced by scripts/packaging-test.sh and the per-language
# scripts under packaging/): the platform list, the emulator a consumer runs against, and a PATH
# without a compiler or cargo (what a user of a prebuilt package has).

PKG_ROOT=${PKG_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
DIST=${DIST:-$PKG_ROOT/dist}
VERSION=$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$PKG_ROOT/Cargo.toml" | head -n1)

# platform_field TRIPLE FIELD (a dotted path into packaging/platforms.json, e.g. go.goarch)
platform_field() {
  python3 - "$PKG_ROOT/packaging/platforms.json" "$1" "$2" <<'PY'
import json, sys
plats = {p["triple"]: p for p in json.load(open(sys.argv[1]))["platforms"]}
v = plats[sys.argv[2]]
for k in sys.argv[3].split("."):
    v = v[k]
print(v)
PY
}

# Every triple of packaging/platforms.json, in order.
all_triples() {
  python3 -c 'import json,sys; print(" ".join(p["triple"] for p in json.load(open(sys.argv[1]))["platforms"]))' \
    "$PKG_ROOT/packaging/platforms.json"
}

# triple_env TRIPLE (in a subshell: it exports): the C toolchain of a triple, from
# packaging/platforms.json, for cargo and the cc crate: its C compiler links and compiles ring's C
# and assembly (with the matching binutils' ar when there is one); sets STRIP, and BUNDLE_UNWIND
# for musl (below).
triple_env() {
  local cc up low
  cc=$(platform_field "$1" cc)
  STRIP=$(platform_field "$1" strip)
  BUNDLE_UNWIND=""
  up=$(echo "$1" | tr 'a-z-' 'A-Z_')
  low=${1//-/_}
  if [ "$1" != "$(rustc -vV | sed -n 's/^host: //p')" ]; then
    export "CARGO_TARGET_${up}_LINKER=$cc" "CC_${low}=$cc"
    if command -v "${cc%gcc}ar" >/dev/null 2>&1; then export "AR_${low}=${cc%gcc}ar"; fi
  fi
  case "$1" in
    *-linux-musl)
      # rustc links a musl cdylib with -lgcc_s, the shared unwinder: Debian's musl-tools has no
      # musl build of it (GCC's libgcc_eh.a needs glibc's _dl_find_object), and Alpine has it only
      # with the libgcc package. The Rust toolchain ships LLVM's libunwind built for musl: a linker
      # script named libgcc_s.so, in a directory searched first, links it statically instead, and
      # the static library carries it too (BUNDLE_UNWIND), so that both need nothing but musl's
      # libc (D-53).
      BUNDLE_UNWIND=$(rustc --print sysroot)/lib/rustlib/$1/lib/self-contained/libunwind.a
      [ -f "$BUNDLE_UNWIND" ] || { echo "triple_env: $BUNDLE_UNWIND missing (rustup target add $1)" >&2; exit 1; }
      local shim=${CARGO_TARGET_DIR:-$PKG_ROOT/target}/musl-unwind-shim/$1
      mkdir -p "$shim"
      echo "INPUT($BUNDLE_UNWIND)" > "$shim/libgcc_s.so"
      export "CARGO_TARGET_${up}_RUSTFLAGS=-C target-feature=-crt-static -L native=$shim" ;;
  esac
}

# record_size LABEL FILE: prints the file's size and records it in $DIST/sizes.txt under LABEL,
# replacing the line an earlier run wrote for that label.
record_size() {
  local b line
  b=$(stat -c %s "$2")
  line=$(awk -v l="$1" -v b="$b" 'BEGIN { printf "%-58s %10d bytes  %6.2f MiB", l, b, b / 1048576 }')
  mkdir -p "$DIST"
  touch "$DIST/sizes.txt"
  { grep -vF "$(printf '%-58s ' "$1")" "$DIST/sizes.txt" || true; echo "$line"; } > "$DIST/sizes.txt.new"
  mv "$DIST/sizes.txt.new" "$DIST/sizes.txt"
  echo "$line"
}

# start_emulator DIR: starts the emulator (IDAAS_EMULATOR_BIN, else the workspace's debug build) on
# a free loopback port; writes DIR/client-config.json (CLIENT_SECRET_POST) and exports
# CLOUD_IDAAS_CONFIG_PATH and IDAAS_CLIENT_SECRET. The caller's EXIT trap calls stop_emulator.
start_emulator() {
  local dir=$1 bin=${IDAAS_EMULATOR_BIN:-${CARGO_TARGET_DIR:-$PKG_ROOT/target}/debug/idaas-emulator}
  if [ ! -x "$bin" ]; then
    (cd "$PKG_ROOT" && cargo build ${CARGO_FLAGS:-} -q -p idaas-emulator)
    bin=${CARGO_TARGET_DIR:-$PKG_ROOT/target}/debug/idaas-emulator
  fi
  "$bin" --port 0 --ready-file "$dir/ready.json" >"$dir/emulator.log" 2>&1 &
  EMULATOR_PID=$!
  local i=0
  while [ ! -s "$dir/ready.json" ]; do
    i=$((i + 1))
    if [ $i -ge 600 ]; then echo "packaging: emulator not ready" >&2; cat "$dir/emulator.log" >&2; return 1; fi
    sleep 0.1
  done
  IDAAS_CLIENT_SECRET=$(python3 - "$dir/ready.json" "$dir/client-config.json" <<'PY'
import json, sys
ready = json.load(open(sys.argv[1]))
json.dump(ready["clientConfigs"]["CLIENT_SECRET_POST"], open(sys.argv[2], "w"))
print(ready["clientSecret"])
PY
)
  export IDAAS_CLIENT_SECRET CLOUD_IDAAS_CONFIG_PATH=$dir/client-config.json
}

stop_emulator() {
  if [ -n "${EMULATOR_PID:-}" ]; then kill "$EMULATOR_PID" 2>/dev/null || true; wait "$EMULATOR_PID" 2>/dev/null || true; fi
  EMULATOR_PID=
}

# A directory of symlinks to the given tools only: a consumer's PATH then has the ecosystem's own
# tool and nothing else (no cc, gcc, cargo, rustc), as on a user's machine.
# user_path DIR TOOL...
user_path() {
  local dir=$1; shift
  mkdir -p "$dir"
  local t
  for t in "$@"; do
    ln -sf "$(command -v "$t")" "$dir/$t"
  done
  echo "$dir"
}
