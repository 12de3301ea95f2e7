#!/usr/bin/env bash
# Keeps the references in code and documents resolvable inside the repository (see docs/README.md):
#   * every decision number D-n must have an entry (a "## D-n ..." heading) in docs/decisions.md;
#   * every "core.md §x.y" / "pam.md §x.y" / "alibaba-plugin.md §x.y" / "agent.md §x.y" must name a heading "x.y" of
#     that document in docs/protocol/;
#   * a bare "§x.y" resolves to the one protocol document its file names (inside docs/protocol/X.md:
#     X.md itself); a file naming several or none must write the document name;
#   * nothing may point at documents that are not in the repository (the shared specification and
#     design folders, the specification's decision list).
# Prints each problem as file:line and exits 1 if there is any.
#
# Usage: scripts/check-doc-refs.sh          check
#        scripts/check-doc-refs.sh --list   also print every reference found and where it resolves
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 - "$@" <<'PY'
import re
import subprocess
import sys

SELF = "scripts/check-doc-refs.sh"
DOCS = {
    "core": "docs/protocol/core.md",
    "pam": "docs/protocol/pam.md",
    "alibaba-plugin": "docs/protocol/alibaba-plugin.md",
    "agent": "docs/protocol/agent.md",
}
DOC_NAMES = "|".join(re.escape(k) for k in DOCS)
DECISIONS = "docs/decisions.md"

listing = "--list" in sys.argv[1:]

files = subprocess.run(
    ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    check=True, capture_output=True,
).stdout.decode().split("\0")
files = sorted({f for f in files if f})


def read(path):
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:  # listed by git but deleted in the work tree
        return None
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


problems = []


def problem(path, lineno, msg):
    problems.append(f"{path}:{lineno}: {msg}")


# What the documents define.
SECTION_HEADING = re.compile(r"^#{1,6}\s+§?(\d+(?:\.\d+)*)\.?(?=\s|$)")
DECISION_HEADING = re.compile(r"^#{1,6}\s+D-(\d+)\b")

sections = {}
for key, path in DOCS.items():
    text = read(path)
    if text is None:
        problem(path, 0, "missing (the protocol document that core.md/pam.md references resolve to)")
        sections[key] = set()
        continue
    sections[key] = {m.group(1) for m in map(SECTION_HEADING.match, text.splitlines()) if m}

decisions = set()
text = read(DECISIONS)
if text is None:
    problem(DECISIONS, 0, "missing (the decision record that D-n references resolve to)")
else:
    decisions = {int(m.group(1)) for m in map(DECISION_HEADING.match, text.splitlines()) if m}

# What the files cite.
DECISION_REF = re.compile(r"\bD-(\d+)(?![0-9A-Za-z_])")
SECTION_REF = re.compile(r"§\s?(\d+(?:\.\d+)*)")
NAMED_BEFORE = re.compile(r"\b(" + DOC_NAMES + r")\.md[\])`*]*\s*$")
EXTERNAL_BEFORE = re.compile(r"\bRFC\s*\d+[,:]?\s*$")
CHAIN_GAP = re.compile(r"^\s*(?:,|;|/|&|–|-|and|or|to)?\s*$")
DOC_NAME = re.compile(r"\b(" + DOC_NAMES + r")\.md\b")
has_architecture_doc = any(f.rsplit("/", 1)[-1] == "ARCHITECTURE.md" for f in files)
OUTSIDE = re.compile(
    r"shared/(?:spec|design)\b|\bspec/README\.md\b"
    + ("" if has_architecture_doc else r"|\bARCHITECTURE\.md\b")
)

cited = {}  # reference text -> list of "path:line"


def cite(ref, where):
    cited.setdefault(ref, []).append(where)


for path in files:
    if path == SELF:
        continue
    text = read(path)
    if text is None:
        continue
    if "§" not in text and "D-" not in text and "shared/" not in text and ".md" not in text:
        continue
    if path in DOCS.values():
        file_doc = next(k for k, v in DOCS.items() if v == path)
    else:
        named = set(DOC_NAME.findall(text))
        file_doc = named.pop() if len(named) == 1 else None
    for lineno, line in enumerate(text.splitlines(), 1):
        where = f"{path}:{lineno}"
        for m in DECISION_REF.finditer(line):
            n = int(m.group(1))
            cite(f"D-{n}", where)
            if n not in decisions:
                problem(path, lineno, f"D-{n} has no entry in {DECISIONS}")
        for m in OUTSIDE.finditer(line):
            problem(path, lineno, f"refers to {m.group(0)!r}, which is not in this repository; "
                    "say it in docs/ and point there")
        prev_end, prev_doc = None, None
        for m in SECTION_REF.finditer(line):
            before = line[:m.start()]
            num = m.group(1)
            named = NAMED_BEFORE.search(before)
            if named:
                doc = named.group(1)
            elif EXTERNAL_BEFORE.search(before):
                doc = "external"
            elif prev_end is not None and CHAIN_GAP.match(line[prev_end:m.start()]):
                doc = prev_doc
            elif file_doc:
                doc = file_doc
            else:
                problem(path, lineno, f"bare §{num} is ambiguous (this file names "
                        f"{'several protocol documents' if DOC_NAME.search(text) else 'no protocol document'}); "
                        f"write the document's name, e.g. core.md §{num}")
                prev_end, prev_doc = m.end(), None
                continue
            prev_end, prev_doc = m.end(), doc
            if doc in (None, "external"):
                continue
            cite(f"{doc}.md §{num}", where)
            if num not in sections[doc]:
                problem(path, lineno, f"{doc}.md §{num}: no section {num} in {DOCS[doc]}")

if listing:
    def order(ref):
        if ref.startswith("D-"):
            return (0, int(ref[2:]), ())
        doc, num = ref.split(" §")
        return (1 + list(DOCS).index(doc[:-3]), 0, tuple(int(p) for p in num.split(".")))
    for ref in sorted(cited, key=order):
        target = DECISIONS if ref.startswith("D-") else DOCS[ref.split(" §")[0][:-3]]
        print(f"{ref}  ->  {target}  ({len(cited[ref])})")
        for w in cited[ref]:
            print(f"    {w}")

for p in problems:
    print(p)
n_dec = sum(len(v) for k, v in cited.items() if k.startswith("D-"))
n_sec = sum(len(v) for k, v in cited.items() if not k.startswith("D-"))
if problems:
    print(f"check-doc-refs: {len(problems)} unresolved reference(s); see docs/README.md", file=sys.stderr)
    sys.exit(1)
print(f"check-doc-refs: {n_dec} decision and {n_sec} section citations resolve "
      f"({len(decisions)} decisions; sections: "
      + ", ".join(f"{len(sections[k])} {k}.md" for k in DOCS) + ")")
PY
