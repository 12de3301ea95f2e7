#!/usr/bin/env python3
"""Fails when a repository path cited in the project's documents (`idaas/src/cache.rs`,
`emulator/src/router.rs` ...) does not exist: code moves, and docs must follow.

Usage: scripts/check-doc-paths.py   (run by the `docs` stage of scripts/test-all.sh)
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = [*ROOT.glob("docs/**/*.md"), ROOT / "SECURITY.md", ROOT / "README.md", ROOT / "include/README.md"]
TOP = r"(?:idaas|idaas-ffi|emulator|cli|bindings|scripts|docs|contract|include|examples)"
CITED = re.compile(r"`(" + TOP + r"/[\w./-]+?)`")

bad = []
for doc in DOCS:
    if not doc.exists():
        continue
    for n, line in enumerate(doc.read_text().splitlines(), 1):
        for m in CITED.finditer(line):
            path = m.group(1).rstrip("/")
            if "X." in path or "*" in path:
                continue
            if not (ROOT / path).exists():
                bad.append(f"{doc.relative_to(ROOT)}:{n}: {path} does not exist")
print("\n".join(bad) if bad else "check-doc-paths: every cited path exists")
sys.exit(1 if bad else 0)
