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
  local dir=$1 bin=${IDAAS_EMULATOR_BIN:-$PKG_ROOT/target/debug/idaas-emulator}
  if [ ! -x "$bin" ]; then
    (cd "$PKG_ROOT" && cargo build ${CARGO_FLAGS:-} -q -p idaas-emulator)
    bin=$PKG_ROOT/target/debug/idaas-emulator
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
