#!/usr/bin/env bash
# Runs every test of the project: Rust (fmt, clippy, unit + integration tests against the emulator),
# the C ABI (header freshness, exported symbols, C tests plain / valgrind / ASan), the Go, Java,
# Node and Python bindings, the release artifacts of every platform with their consumer tests (packaging), and
# a quick benchmark smoke run. Each stage prints its duration.
#
# Usage: scripts/test-all.sh            (everything)
#        STAGES="rust c" scripts/test-all.sh   (a subset: lint docs supply rust fuzz c go java node python packaging bench)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TERM_COLOR=never
# Cargo.lock must not drift: every cargo build and test runs with --locked (here, and through
# CARGO_FLAGS in the Makefiles of the C ABI and the bindings, and in scripts/bench.sh).
export CARGO_FLAGS=--locked
STAGES=${STAGES:-"lint docs supply rust fuzz c go java node python packaging bench"}
T0=$(date +%s)
stage() { printf '\n=== %s (%ss elapsed)\n' "$1" "$(( $(date +%s) - T0 ))"; }
want() { [[ " $STAGES " == *" $1 "* ]]; }

# Every tool the stages need beyond the machine's base toolchains is installed here (and said so);
# SETUP=0 skips it.
if [ "${SETUP:-1}" != 0 ]; then
  stage "tools (scripts/setup-tools.sh)"
  scripts/setup-tools.sh
fi

if want lint; then
  stage "rustfmt + clippy"
  cargo fmt --all -- --check
  cargo clippy --locked --workspace --all-targets --all-features -- -D warnings
fi

if want docs; then
  stage "docs and contract: references resolve in docs/; the JSON Schema and the bindings' generated files are current; deploy/ manifests are well-formed"
  scripts/check-doc-refs.sh
  scripts/check-doc-paths.py
  cargo test --locked -q -p idaas --features json-schema --test contract
  python3 scripts/gen-contract.py --check
  python3 scripts/check-deploy.py
fi

if want supply; then
  stage "supply chain (cargo-deny: licenses, bans, sources, advisories against the offline snapshot)"
  scripts/supply-chain.sh
fi

if want rust; then
  stage "cargo test (workspace)"
  # Build first (the emulator and CLI binaries the tests start are built with them), with exactly
  # the units `cargo test` uses: a `cargo build --workspace --bins` resolves features without the
  # dev-dependencies, and its build of the idaas library (a cdylib/staticlib: one cargo
  # fingerprint and one deps/libidaas.{a,so} per profile whatever the features) was redone by
  # `cargo test`, which then relinked every test.
  # (The Python extension is tested by pytest in the python stage: it has no Rust tests.)
  cargo test --locked --workspace --exclude idaas-python --no-run
  cargo test --locked --workspace --exclude idaas-python
fi

if want fuzz; then
  # The property-based fuzz targets (tests/prop_*.rs) already ran above at their quick, CI-sized
  # case counts; here each target runs again with a case count sized to ~60 s on a 2-core machine
  # (FUZZ_SCALE=0.5 halves them, 2 doubles them). Failures are persisted to tests/proptest-regressions/.
  stage "fuzzing: property targets, ~60 s each"
  scale=${FUZZ_SCALE:-1}
  for spec in prop_config:30000 prop_token:8000 prop_devapi:120000 prop_keys:50000 prop_emulator_jwt:120000; do
    target=${spec%%:*}
    n=$(python3 -c "print(max(1, int(${spec##*:} * $scale)))")
    t=$(date +%s)
    PROPTEST_CASES=$n cargo test --locked -q --test "$target"
    echo "fuzz target $target: $n cases per property, $(( $(date +%s) - t )) s"
  done
fi

if want c && [ -d idaas-ffi/tests/c ]; then
  stage "C ABI: header, symbols, C tests (plain, valgrind, ASan)"
  make check-header check-symbols
  make c-test
  make c-test-valgrind
  make c-test-asan
fi

if want go && [ -d bindings/go ]; then
  stage "Go binding"
  make -C bindings/go test
fi

if want java && [ -d bindings/java ]; then
  stage "Java binding"
  make -C bindings/java test
fi

if want node && [ -d bindings/node ]; then
  stage "Node binding"
  make -C bindings/node test
fi

if want python; then
  stage "Python binding (maturin build, pytest against the emulator, stubtest + mypy --strict)"
  make -C bindings/python test
fi

if want packaging; then
  stage "packaging: release artifacts of every platform (scripts/dist.sh), then their consumer tests"
  scripts/dist.sh
  scripts/packaging-test.sh
  # The crates as crates.io receives them: packaged, then built from the package alone.
  # (--allow-dirty: a developer runs the tests before committing; CI's clone is clean anyway.)
  # cargo verifies each crate against the others as packaged, through a local overlay registry.
  # It treats those packages like any registry's: their extracted sources (under
  # $CARGO_HOME/registry/src/-<hash>/, keyed by the checkout's path; only the overlay's names
  # start with '-') and their builds are reused by the next run of the same version, and are then
  # stale. Both are removed first: the verification builds in a target directory of its own.
  rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/ target/package-verify
  CARGO_TARGET_DIR=$ROOT/target/package-verify \
    cargo package --locked --workspace --exclude idaas-emulator --exclude idaas-python --allow-dirty
fi

if want bench && [ -x scripts/bench.sh ]; then
  stage "benchmark smoke run (figures, not assertions)"
  # The bindings' and the C benchmarks run; the Rust benches are compiled by clippy --all-targets
  # (lint stage) and run by scripts/bench.sh: building them needs their own profile directory
  # (minutes on 2 cores) for a smoke run of seconds. BENCH_ONLY="rust c go java node python" runs all.
  BENCH_ONLY=${BENCH_ONLY:-"c go java node python"} scripts/bench.sh --quick
fi

stage "all stages passed"
