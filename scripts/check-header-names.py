#!/usr/bin/env python3
"""Checks that every function of include/idaas.h follows the rules its preamble states (section
"Names" and "Errors"), so that the header's one naming rule stays true as functions are added:

* a function is idaas_<object>_<action>, where <object> is a handle (idaas_config, idaas_client ...)
  whose pointer is the first argument, or which the function creates (an `idaas_<object> **`
  out-parameter: idaas_<object>_new*, idaas_config_load, idaas_config_from_json); or <object> is a
  kind of plain value (string, buffer, code, log, debug); idaas_init and idaas_version stand alone;
* every caller-owned handle has exactly one idaas_<object>_free taking it, and the handle the
  library lends (idaas_plugin_result) has none;
* a function returning idaas_code (every fallible one; the accessor idaas_error_code is not
  fallible) takes `idaas_error **err_out` as its last parameter.

Prints each problem and exits 1 if there is any. Run by `make check-header`. Standard library only.
"""
import re
import sys

PLAIN_KINDS = {"string", "buffer", "code", "log", "debug"}
STANDALONE = {"idaas_init", "idaas_version"}
# Returns the code stored in an error; cannot fail itself.
NOT_FALLIBLE = {"idaas_error_code"}
LENT = {"plugin_result"}


def main(path):
    text = open(path, encoding="utf-8").read()
    # Comments first: doc comments quote prototypes.
    code = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    code = re.sub(r"//[^\n]*", "", code)
    handles = set(re.findall(r"typedef struct idaas_(\w+) idaas_\1;", code))
    # Longest first: exchange_provider must win over provider.
    objects = sorted(handles | PLAIN_KINDS, key=len, reverse=True)
    protos = re.findall(r"^([A-Za-z_][\w \*]*?)\b(idaas_\w+)\(([^;{]*?)\);", code, flags=re.M)
    problems = []
    frees = {}
    if not protos:
        problems.append("no function prototypes found")
    for ret, name, params in protos:
        ret = " ".join(ret.split())
        args = [" ".join(a.split()) for a in params.split(",")] if params.strip() not in ("", "void") else []
        if ret == "idaas_code" and name not in NOT_FALLIBLE and (not args or not re.fullmatch(r"idaas_error \*\*err_out", args[-1])):
            problems.append(f"{name}: returns idaas_code but its last parameter is not `idaas_error **err_out`")
        if name in STANDALONE:
            continue
        obj = next((o for o in objects if name.startswith(f"idaas_{o}_")), None)
        if obj is None:
            problems.append(f"{name}: not idaas_<object>_<action> for a known handle or plain-value kind")
            continue
        if obj in PLAIN_KINDS:
            continue
        first = args[0] if args else ""
        takes = re.fullmatch(rf"(const )?idaas_{obj} \*\w+", first) is not None
        creates = any(re.fullmatch(rf"idaas_{obj} \*\*\w+", a) for a in args)
        if not (takes or creates):
            problems.append(f"{name}: acts on idaas_{obj} but neither takes it first nor creates it")
        if name == f"idaas_{obj}_free":
            frees[obj] = frees.get(obj, 0) + 1
            if not re.fullmatch(rf"idaas_{obj} \*\w+", first) or len(args) != 1:
                problems.append(f"{name}: a _free takes exactly its (non-const) handle")
    for h in sorted(handles):
        n = frees.get(h, 0)
        if h in LENT and n:
            problems.append(f"idaas_{h} is lent by the library but has a _free")
        if h not in LENT and n != 1:
            problems.append(f"idaas_{h}: {n} _free functions, expected exactly one")
    for p in problems:
        print(f"{path}: {p}", file=sys.stderr)
    if problems:
        return 1
    print(f"check-header-names: {len(protos)} functions follow the naming and err_out rules")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "include/idaas.h"))
