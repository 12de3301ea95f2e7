#!/usr/bin/env bash
# The consumer tests of the release artifacts in dist/ (scripts/dist.sh builds them): for each
# language a new project outside the repository installs the artifact with that ecosystem's own
# tools — no compiler or cargo on PATH where users have none — and runs it against the emulator.
#
#   scripts/packaging-test.sh              c go java node python
#   scripts/packaging-test.sh c go         a subset
#
# C and Go run on every platform of packaging/platforms.json (aarch64 under qemu, musl natively);
# the jar's and the npm packages' other platforms are checked by loading their libraries, the
# Python wheels' other platforms by their own dynamic loaders (see each packaging/<language>/test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
langs=${*:-c go java node python}
for lang in $langs; do
  t=$(date +%s)
  echo "--- packaging/$lang/test.sh"
  "packaging/$lang/test.sh"
  echo "packaging: $lang consumer tests passed in $(( $(date +%s) - t )) s"
done
