#!/usr/bin/env bash
# The benchmark suite, one command: builds what it needs, runs every benchmark (Rust API, C ABI, the
# Go/Java/Node/Python bindings — Python beside the reference Python SDK, installed from PyPI —,
# network calls against the emulator, refresh storm, start-up, RSS, library sizes; the host agent
# and the fleet simulation), collects their `BENCH {json}` lines and writes
#   bench-results/bench.json   every figure (median, p99, throughput, extra fields) + machine + targets
#   BENCHMARKS.md              the table with targets and met/missed (full runs only)
#
# Usage: scripts/bench.sh            full run (~5-8 min on 2 cores incl. builds)
#        scripts/bench.sh --quick    reduced iterations (CI smoke run): figures printed, written to
#                                    bench-results/bench-quick.json; no timed assertions and
#                                    BENCHMARKS.md is left alone
#        BENCH_ONLY="rust c" scripts/bench.sh   a subset of: rust c go java node python agent
#
# Uses CARGO_TARGET_DIR when set, else ./target (the same build as `make lib` and the bindings: the
# C and binding figures are of $CARGO_TARGET_DIR/release/libidaas.a as `make lib` builds it). The Rust
# benchmarks are built with the `bench-suite` profile (Cargo.toml: the `bench` settings, own directory
# target/bench-suite), see the build step.
# Exit status: non-zero when a benchmark program failed (not when a figure misses its target).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
QUICK=0
for a in "$@"; do
  case "$a" in
    --quick) QUICK=1 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown argument $a" >&2; exit 2 ;;
  esac
done
ONLY=${BENCH_ONLY:-"rust c go java node python agent"}
want() { [[ " $ONLY " == *" $1 "* ]]; }

TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
[[ "$TARGET" = /* ]] || TARGET=$ROOT/$TARGET
export CARGO_TARGET_DIR=$TARGET CARGO_TERM_COLOR=never
OUT=$ROOT/bench-results
RAW=$OUT/raw
rm -rf "$RAW"
mkdir -p "$RAW"
if [ $QUICK = 1 ]; then export IDAAS_BENCH_QUICK=1; else unset IDAAS_BENCH_QUICK; fi
EMU_BIN=$TARGET/release/idaas-emulator
export IDAAS_EMULATOR_BIN=$EMU_BIN
STATIC_LIBS="-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"

T0=$(date +%s)
FAILED=()
{
  echo "start $(date -u +%FT%TZ)"; echo "quick $QUICK"; echo "loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "commit $(git rev-parse --short HEAD 2>/dev/null)"
  echo "dirty $(git diff --quiet HEAD -- idaas idaas-ffi emulator examples bindings include 2>/dev/null && echo 0 || echo 1)"
} > "$RAW/run.txt"
step() { printf '\n=== %s (%ss elapsed)\n' "$1" "$(( $(date +%s) - T0 ))"; }
# run NAME CMD...: runs CMD, output to the terminal and $RAW/NAME.log; records a failure.
run() {
  local name=$1; shift
  local s; s=$(date +%s)
  "$@" 2>&1 | tee -a "$RAW/$name.log"
  local rc=${PIPESTATUS[0]}
  echo "step $name rc=$rc seconds=$(( $(date +%s) - s ))" >> "$RAW/run.txt"
  if [ "$rc" != 0 ]; then echo "bench.sh: $name failed (exit $rc)" >&2; FAILED+=("$name"); fi
  return "$rc"
}

step "build (release library, emulator, benchmark programs)"
# The library is built exactly as `make lib` (which the bindings call) builds it, one package per
# command (building both in one command unifies dependency features differently).
#
# The benchmark programs use their own profile directory (--profile bench-suite, target/bench-suite).
# `cargo bench` resolves features with the dev-dependencies (emulator, criterion ...), so its build
# of the idaas library differs from `make lib`'s; as the library is also a cdylib/staticlib, cargo
# keeps the two builds under ONE fingerprint (target/release/.fingerprint/idaas-<hash>, and the
# same deps/libidaas.{a,so}): each build overwrote the other's and the next `cargo bench` (~80 s)
# and `make lib` rebuilt idaas on every run (fingerprint: "dirty: UnitDependencyInfoChanged").
# The bench targets are named (`--benches` would also build the library's unit-test harness).
BENCHES="cached_token pam storm startup"
BENCH_ARGS=(-p idaas --profile bench-suite)
run build cargo build --locked --release -p idaas-ffi || { echo "build failed" >&2; exit 1; }
run build cargo build --locked --release -p idaas-emulator || { echo "build failed" >&2; exit 1; }
if want rust; then
  # shellcheck disable=SC2046
  run build cargo bench --locked "${BENCH_ARGS[@]}" $(printf -- '--bench %s ' $BENCHES) --no-run || { echo "build failed" >&2; exit 1; }
fi
# The agent's benchmarks (cli/benches/agent.rs, fleet_sim.rs): the same profile; cargo builds the
# `idaas` binary they start (CARGO_BIN_EXE_idaas) with it — the release settings.
AGENT_BENCH_ARGS=(-p idaas-cli --profile bench-suite)
if want agent; then
  run build cargo bench --locked "${AGENT_BENCH_ARGS[@]}" --bench agent --bench fleet_sim --no-run || { echo "build failed" >&2; exit 1; }
fi

if want rust; then
  for b in $BENCHES; do
    step "Rust: benches/$b.rs"
    run "rust_$b" cargo bench --locked -q "${BENCH_ARGS[@]}" --bench "$b"
  done
fi

EMU_PID=
stop_emulator() { if [ -n "$EMU_PID" ]; then exec 9>&-; kill "$EMU_PID" 2>/dev/null; wait "$EMU_PID" 2>/dev/null; EMU_PID=; fi; }
trap stop_emulator EXIT

if want c; then
  step "C ABI: cached token read, start-up, RSS, library sizes"
  CB=$TARGET/bench-c
  mkdir -p "$CB"
  run build_c cc -std=c11 -Wall -Wextra -Werror -O2 -Iinclude examples/c/bench.c -o "$CB/bench" \
    "$TARGET/release/libidaas.a" $STATIC_LIBS -lpthread &&
  run build_c cc -std=c11 -Wall -Wextra -Werror -O2 -Iinclude idaas-ffi/benches/c/startup_rss.c -o "$CB/startup_rss" \
    "$TARGET/release/libidaas.a" $STATIC_LIBS
  ITER=$([ $QUICK = 1 ] && echo 300000 || echo 3000000)
  run c_cached "$CB/bench" "$ITER" 1
  run c_cached "$CB/bench" "$ITER" 8

  # The emulator binary for the C process (exits when our fd 9 closes).
  rm -f "$RAW/emu.fifo" "$RAW/emu.json"; mkfifo "$RAW/emu.fifo"
  "$EMU_BIN" --ready-file "$RAW/emu.json" --exit-on-stdin-eof < "$RAW/emu.fifo" 2> "$RAW/emulator.log" &
  EMU_PID=$!
  exec 9> "$RAW/emu.fifo"
  for _ in $(seq 100); do [ -s "$RAW/emu.json" ] && break; sleep 0.1; done
  if python3 - "$RAW/emu.json" "$RAW/client-config.json" "$RAW/client-secret" <<'EOF'
import json, sys
info = json.load(open(sys.argv[1]))
json.dump(info["clientConfigs"]["CLIENT_SECRET_POST"], open(sys.argv[2], "w"), indent=2)
open(sys.argv[3], "w").write(info["clientSecret"])
EOF
  then
    SECRET=$(cat "$RAW/client-secret")
    STARTS=$([ $QUICK = 1 ] && echo 3 || echo 15)
    CALLS=$([ $QUICK = 1 ] && echo 2000 || echo 10000)
    for _ in $(seq "$STARTS"); do
      IDAAS_CLIENT_SECRET=$SECRET run c_startup "$CB/startup_rss" "$RAW/client-config.json" 0 --startup-only || break
    done
    IDAAS_CLIENT_SECRET=$SECRET run c_rss "$CB/startup_rss" "$RAW/client-config.json" "$CALLS"
  else
    echo "bench.sh: the emulator did not start" >&2; FAILED+=("emulator")
  fi
  stop_emulator

  # Library sizes: the shared library stripped of all symbols, the static library as built.
  SO=$TARGET/release/libidaas.so A=$TARGET/release/libidaas.a
  strip --strip-all -o "$RAW/libidaas.stripped.so" "$SO"
  strip --strip-debug -o "$RAW/libidaas.stripped-debug.a" "$A"
  size_line() { printf 'BENCH {"name":"size","impl":"c","variant":"%s","threads":1,"value":%s,"unit":"MiB","bytes":%s}\n' \
    "$1" "$(awk "BEGIN{printf \"%.2f\", $2/1048576}")" "$2"; }
  {
    size_line "libidaas.so (strip --strip-all)" "$(stat -c %s "$RAW/libidaas.stripped.so")"
    size_line "libidaas.so (as built, profile.release strip=debuginfo)" "$(stat -c %s "$SO")"
    size_line "libidaas.a (as built)" "$(stat -c %s "$A")"
    size_line "libidaas.a (strip --strip-debug)" "$(stat -c %s "$RAW/libidaas.stripped-debug.a")"
  } | tee "$RAW/c_size.log"
fi

if want go && [ -f bindings/go/Makefile ]; then
  step "Go binding: make -C bindings/go bench"
  # -cpu 1,8: the RunParallel rows with GOMAXPROCS=8 (8 goroutines) as the 8-thread figure.
  # BENCHCOUNT=3 (full runs): the report takes the median of the 3 runs of each row — with 8
  # goroutines on 2 cores one run's per-goroutine median swung from 91 to 240 ns run to run.
  GOFLAGS="${GOFLAGS:-} -cpu=1,8" run go make --no-print-directory -C bindings/go bench \
    BENCHTIME="$([ $QUICK = 1 ] && echo 300000x || echo 2000000x)" BENCHCOUNT="$([ $QUICK = 1 ] && echo 1 || echo 3)"
fi

if want java && [ -f bindings/java/Makefile ]; then
  step "Java binding: make -C bindings/java bench"
  run java make --no-print-directory -C bindings/java bench
fi

if want node && [ -f bindings/node/Makefile ]; then
  step "Node binding: make -C bindings/node bench"
  IDAAS_BENCH_JSON=$RAW/node.json run node make --no-print-directory -C bindings/node bench
fi

if want python && [ -f bindings/python/pyproject.toml ]; then
  step "Python binding (and the reference Python SDK): bindings/python/bench.py"
  # Under $TARGET/bench-python, kept between runs: tools/ (maturin), venv-ours/ (the wheel installed),
  # venv-ref/ (cloud-idaas-core + cloud-idaas-pam-client from PyPI, pinned: the versions the issue
  # quotes). The wheel is built by maturin (cargo: a no-op when nothing changed) and reinstalled
  # only when its bytes changed.
  PYB=$TARGET/bench-python PY=${PYTHON:-python3}
  mkdir -p "$PYB"
  py_venv() { [ -x "$1/bin/python" ] || "$PY" -m venv "$1"; }
  build_python() {
    py_venv "$PYB/tools" && { [ -x "$PYB/tools/bin/maturin" ] ||
      "$PYB/tools/bin/pip" install -q --disable-pip-version-check maturin==1.9.6; } || return 1
    rm -rf "$PYB/wheels"
    (cd bindings/python && VIRTUAL_ENV=$PYB/tools PATH=$PYB/tools/bin:$PATH \
      maturin build --release --locked -i "$PY" -o "$PYB/wheels") || return 1
    local whl sum; whl=$(ls "$PYB"/wheels/idaas-*.whl) && sum=$(sha256sum "$whl" | cut -d' ' -f1)
    py_venv "$PYB/venv-ours" || return 1
    if [ "$(cat "$PYB/venv-ours/.wheel-sha256" 2>/dev/null)" != "$sum" ]; then
      "$PYB/venv-ours/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps "$whl" &&
        echo "$sum" > "$PYB/venv-ours/.wheel-sha256"
    fi
  }
  PY_ARGS=()
  REF_PKGS="cloud-idaas-core==0.0.5b0 cloud-idaas-pam-client==0.0.3b0"
  # shellcheck disable=SC2086
  if [ -f "$PYB/venv-ref/.installed" ] || { { py_venv "$PYB/venv-ref" &&
      "$PYB/venv-ref/bin/pip" install -q --disable-pip-version-check --retries 1 --timeout 15 $REF_PKGS
      } > "$RAW/python_ref_install.txt" 2>&1 && touch "$PYB/venv-ref/.installed"; }; then
    PY_ARGS=(--ref "$PYB/venv-ref/bin/python")
  else
    echo "bench.sh: the reference Python SDK is not installable here (see $RAW/python_ref_install.txt)" >&2
    PY_ARGS=(--ref-missing "not installable here: pip install $REF_PKGS failed")
  fi
  [ $QUICK = 1 ] && PY_ARGS+=(--quick)
  run build_python build_python &&
    run python "$PY" bindings/python/bench.py --ours "$PYB/venv-ours/bin/python" "${PY_ARGS[@]}"
fi

if want agent; then
  # 64 client processes x 8 threads through one agent over a few token lifetimes (30 s; --quick:
  # 8 s), cached-read latency over the Unix socket and loopback HTTP, RSS with 1,000 entries.
  step "Host agent: cli/benches/agent.rs"
  run agent cargo bench --locked -q "${AGENT_BENCH_ARGS[@]}" --bench agent
  step "Fleet simulation: cli/benches/fleet_sim.rs"
  run fleet_sim cargo bench --locked -q "${AGENT_BENCH_ARGS[@]}" --bench fleet_sim
fi

step "report"
echo "end $(date -u +%FT%TZ) seconds $(( $(date +%s) - T0 ))" >> "$RAW/run.txt"
if [ $QUICK = 1 ]; then
  python3 scripts/bench_report.py --raw "$RAW" --json "$OUT/bench-quick.json" --quick
else
  python3 scripts/bench_report.py --raw "$RAW" --json "$OUT/bench.json" --md "$ROOT/BENCHMARKS.md"
fi || FAILED+=("report")
step "done"
if [ ${#FAILED[@]} -gt 0 ]; then
  echo "bench.sh: failed steps: ${FAILED[*]}" >&2
  exit 1
fi
