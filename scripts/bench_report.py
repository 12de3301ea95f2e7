#!/usr/bin/env python3
"""Collects the benchmark output of scripts/bench.sh into bench.json and BENCHMARKS.md.

Sources (in --raw DIR, one log per step):
  * `BENCH {json}` lines (Rust benches, C programs, library sizes; any binding that prints them);
  * `go test -bench` result lines (go.log): `BenchmarkX/Y-P  N  t ns/op  m median-ns/op ...`;
  * Java TokenBench lines (java.log): `BENCH <label>: X ns/op`;
  * Node bench.js results (node.json, written through IDAAS_BENCH_JSON);
  * the Python bench (python.log, `BENCH {json}` lines): this binding (impl "python") and the
    reference Python SDK (impl "python-ref") measured in the same run, or a `not_measured` line
    saying why the reference is absent;
  * the host agent's bench (agent.log: `agent_fleet`, `agent_cached_read`, `agent_rss`) and the
    fleet simulation (fleet_sim.log: `fleet_sim`, rendered as its own table).

Every figure comes from those files; nothing is typed in. Targets (from the performance issue) are
checked here and shown as met/missed; --quick prints the table and never fails on a target.

Usage: bench_report.py --raw DIR --json OUT.json [--md BENCHMARKS.md] [--quick]
"""
import argparse
import glob
import json
import os
import platform
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MIB = 1024 * 1024


# --- parsing ------------------------------------------------------------------------------------

def parse_bench_lines(path, source):
    out = []
    for line in open(path, errors="replace"):
        line = line.strip()
        if not line.startswith("BENCH {"):
            continue
        try:
            rec = json.loads(line[len("BENCH "):])
        except json.JSONDecodeError:
            continue
        rec.setdefault("source", source)
        out.append(rec)
    return out


GO_LINE = re.compile(r"^(Benchmark\S+?)(?:-(\d+))?\s+(\d+)\s+(.*)$")


def parse_go(path):
    """go test -bench lines. Serial benchmarks: median-ns/op is the per-call latency (median of
    batches of 1,000). RunParallel ones report median-ns/op divided by GOMAXPROCS (the -P suffix):
    multiplied back it is the per-goroutine latency with P goroutines."""
    out = []
    for line in open(path, errors="replace"):
        m = GO_LINE.match(line.strip())
        if not m:
            continue
        name, procs, n, rest = m.group(1), int(m.group(2) or 1), int(m.group(3)), m.group(4)
        metrics = {}
        for val, unit in re.findall(r"([\d.]+)\s+(\S+)", rest):
            metrics[unit] = float(val)
        if "ns/op" not in metrics:
            continue
        parallel = "/parallel" in name
        # Serial rows: only the GOMAXPROCS=1 run (-cpu 1,8 repeats them at 8, which adds nothing).
        # RunParallel rows: only GOMAXPROCS > 1 (at 1 they repeat the serial row).
        if (not parallel and procs != 1) or (parallel and procs == 1):
            continue
        threads = procs if parallel else 1
        median = metrics.get("median-ns/op", metrics["ns/op"])
        if parallel:
            median *= procs
        ops = 1e9 / metrics["ns/op"] if metrics["ns/op"] else None
        sub = name.split("/", 1)[1] if "/" in name else name
        bench = name.split("/", 1)[0]
        rec = {
            "name": "cached_token" if bench.startswith("BenchmarkCachedToken") else "go:" + bench,
            "impl": "go",
            "variant": sub.replace("/parallel", "") if bench == "BenchmarkCachedToken"
            else bench[len("BenchmarkCached"):] if bench.startswith("BenchmarkCachedToken") else sub,
            "threads": threads,
            "median_ns": round(median, 1),
            "p99_ns": None,
            "ops_per_sec": round(ops, 1) if ops else None,
            "mean_ns_per_op": metrics["ns/op"],
            "iterations": n,
            "allocs_per_op": metrics.get("allocs/op"),
            "source": "go",
        }
        out.append(rec)
    return merge_go_runs(out)


def merge_go_runs(recs):
    """`-count N` prints each row N times: keep one row per (name, variant, threads) whose median
    and throughput are the medians over the runs (all run medians kept in `runs_median_ns`)."""
    groups = {}
    for r in recs:
        groups.setdefault((r["name"], r["variant"], r["threads"]), []).append(r)
    out = []
    for rows in groups.values():
        if len(rows) == 1:
            out.append(rows[0])
            continue
        def med(vals):
            vals = sorted(v for v in vals if v is not None)
            return vals[len(vals) // 2] if vals else None
        rec = dict(rows[0])
        rec["median_ns"] = med(r["median_ns"] for r in rows)
        rec["ops_per_sec"] = med(r["ops_per_sec"] for r in rows)
        rec["mean_ns_per_op"] = med(r["mean_ns_per_op"] for r in rows)
        rec["runs_median_ns"] = [r["median_ns"] for r in rows]
        rec["runs"] = len(rows)
        out.append(rec)
    return out


# TokenBench free-text rows: `BENCH <label> median X ns/op (p10 .., p90 ..)` (or `BENCH <label>: X ns/op`).
JAVA_LINE = re.compile(r"^BENCH (.+?)(?:\s+median|\s*:)\s+([\d.]+) ns/op")


def parse_java(path):
    out = []
    for line in open(path, errors="replace"):
        m = JAVA_LINE.match(line.strip())
        if not m:
            continue
        label = re.sub(r"\s+", " ", m.group(1)).strip()
        out.append({
            "name": "cached_token",
            "impl": "java",
            "variant": label,
            "threads": 1,
            "median_ns": float(m.group(2)),
            "p99_ns": None,
            "ops_per_sec": round(1e9 / float(m.group(2)), 1),
            "source": "java",
        })
    return out


def parse_node(path):
    r = json.load(open(path))
    out = []
    if "getBearerTokenSync_ns_per_op" in r:
        out.append({
            "name": "cached_token", "impl": "node", "variant": "getBearerTokenSync() (CPU time per call)",
            "threads": 1, "median_ns": round(r["getBearerTokenSync_ns_per_op"], 1), "p99_ns": None,
            "ops_per_sec": round(1e9 / r["getBearerTokenSync_wall_ns_per_op"], 1)
            if r.get("getBearerTokenSync_wall_ns_per_op") else None,
            "wall_ns_per_op": r.get("getBearerTokenSync_wall_ns_per_op"), "source": "node",
        })
    if "getBearerTokenSync_scoped_ns_per_op" in r:
        out.append({
            "name": "cached_token", "impl": "node", "variant": "getBearerTokenSync(scope) (CPU time per call)",
            "threads": 1, "median_ns": round(r["getBearerTokenSync_scoped_ns_per_op"], 1), "p99_ns": None,
            "ops_per_sec": None, "source": "node",
        })
    for key, name, variant, threads in [
        ("getBearerToken_async_per_sec", "cached_token", "getBearerToken() Promise, 64 in flight", 64),
        ("getApiKey_cached_per_sec", "cached_api_key", "getApiKey() Promise (API-key cache), 64 in flight", 64),
        ("getApiKey_uncached_per_sec_1_in_flight", "get_api_key", "https, Promise, 1 in flight", 1),
        ("getApiKey_uncached_per_sec_64_in_flight", "get_api_key", "https, Promise, 64 in flight", 64),
    ]:
        if key in r:
            out.append({"name": name, "impl": "node", "variant": variant, "threads": threads,
                        "median_ns": None, "p99_ns": None, "ops_per_sec": round(r[key], 1), "source": "node"})
    return out


def collect(raw):
    recs = []
    for path in sorted(glob.glob(os.path.join(raw, "*.log"))):
        source = os.path.basename(path)[:-4]
        recs += parse_bench_lines(path, source)
        if source == "go":
            recs += parse_go(path)
        if source == "java":
            legacy = parse_java(path)
            # TokenBench prints BENCH json rows for getBearerToken() (1 and 8 threads): those win
            # over its free-text line for the same call.
            if any(r.get("impl") == "java" and r.get("name") == "cached_token" for r in recs):
                legacy = [r for r in legacy if not r["variant"].startswith("getBearerToken()")]
            recs += legacy
    node = os.path.join(raw, "node.json")
    if os.path.exists(node):
        recs += parse_node(node)
    return aggregate(recs)


def aggregate(recs):
    """Repeated measurements of the same thing (e.g. one C start-up per process) become one record:
    median of the medians, max of the p99s, `runs` = how many."""
    groups, order = {}, []
    for r in recs:
        k = (r.get("name"), r.get("impl"), r.get("variant"), r.get("threads"))
        if k not in groups:
            order.append(k)
            groups[k] = []
        groups[k].append(r)
    out = []
    for k in order:
        g = groups[k]
        if len(g) == 1:
            out.append(g[0])
            continue
        r = dict(g[0])
        for f in ("median_ns", "value", "ops_per_sec"):
            vals = [x[f] for x in g if x.get(f) is not None]
            if vals:
                r[f] = statistics.median(vals)
        for f in ("connections", "connections_during_run", "token_requests", "network_waiters", "max_ns"):
            vals = [x[f] for x in g if x.get(f) is not None]
            if vals:
                r[f] = max(vals)
        p99 = [x["p99_ns"] for x in g if x.get("p99_ns") is not None]
        if p99:
            r["p99_ns"] = max(p99)
        r["runs"] = len(g)
        out.append(r)
    return out


# --- targets ------------------------------------------------------------------------------------

def find(recs, **kw):
    return [r for r in recs if all(r.get(k) == v for k, v in kw.items())]


def check_targets(recs):
    """Returns the list of target checks: {what, target, measured, met, ref (record keys)}."""
    checks = []

    def add(rec, what, target, measured, met):
        checks.append({"what": what, "target": target, "measured": measured, "met": bool(met)})
        rec.setdefault("targets", []).append({"target": target, "met": bool(met)})

    def cached(impl, variant_pred, limit):
        if not any(r.get("name") == "cached_token" and r.get("impl") == impl for r in recs):
            checks.append({"what": f"cached token read, {impl}", "target": f"median ≤ {limit} ns",
                           "measured": "not measured (step skipped or failed)", "met": False})
        for r in recs:
            if r.get("name") == "cached_token" and r.get("impl") == impl and variant_pred(r.get("variant", "")) \
                    and r.get("median_ns") is not None:
                add(r, f"cached token read, {impl}, {r['variant']}, {r['threads']} thread(s)",
                    f"median ≤ {limit} ns", f"{r['median_ns']:.1f} ns", r["median_ns"] <= limit)

    # The floors of the architecture issue (each still ≥ 5× faster than the reference SDK's 1.5 µs).
    cached("rust", lambda v: v.startswith("bearer_token()"), 50)
    cached("c", lambda v: v.startswith("idaas_client_get_token +"), 150)
    cached("go", lambda v: v == "Token", 250)
    cached("java", lambda v: v.startswith("getBearerToken()"), 300)
    cached("node", lambda v: v.startswith("getBearerTokenSync()"), 1000)
    cached("python", lambda v: v.startswith("Client.bearer_token()"), 300)

    # get_api_key within 10 % of a bare HTTP GET of the same route (same transport, 1 thread).
    for r in find(recs, name="get_api_key", impl="rust", threads=1):
        floor = find(recs, name="bare_http_get", variant=r["variant"], threads=1)
        if not floor or r.get("median_ns") is None:
            continue
        f = floor[0]["median_ns"]
        add(r, f"get_api_key over loopback {r['variant'].upper()}, sequential",
            "median within 10 % of a bare GET of the same route",
            f"{r['median_ns'] / 1e3:.1f} µs vs {f / 1e3:.1f} µs (+{(r['median_ns'] / f - 1) * 100:.1f} %)",
            r["median_ns"] <= f * 1.10)
    for r in recs:
        if r.get("impl") == "rust" and r.get("name") in ("get_api_key", "generate_jwt") and "connections" in r:
            # One connection per thread over the whole row (warm-up + measured phase); +1 when the
            # token endpoint (https) and the Developer API (http) use different schemes. (A warm-up
            # that never had all threads in flight at once leaves some opened in the measured phase.)
            limit = r["threads"] + (1 if r["variant"] == "http" else 0)
            add(r, f"{r['name']} {r['variant']} {r['threads']} thread(s): TCP connections opened",
                f"≤ {limit} (1 per thread{' + token endpoint' if limit > r['threads'] else ''})",
                f"{r['connections']} ({r['connections_during_run']} of them in the measured phase)",
                r["connections"] <= limit)

    for r in find(recs, name="refresh_storm"):
        refreshes = r.get("refreshes", 1)
        add(r, f"refresh storm ({r['variant']}): token-endpoint requests per refresh", "exactly 1",
            str(r["token_requests"]) if refreshes == 1 else
            f"{r['token_requests']} requests for {refreshes} refreshes ({r['token_requests'] / max(refreshes, 1):.3f} per refresh)",
            r["token_requests"] == refreshes)
        if "network_waiters" in r and r["variant"].startswith("prefetch"):
            add(r, f"refresh storm ({r['variant']}): callers waiting for the network during the prefetch",
                "0 (no caller waits)",
                f"{r['network_waiters']} (worst caller {r['max_ns'] / 1e6:.2f} ms, {r['injected_latency_ms']} ms injected)",
                r["network_waiters"] == 0)

    python_targets(recs, checks, add)
    agent_targets(recs, checks, add)

    base = find(recs, name="startup_baseline")
    base_ns = base[0]["median_ns"] if base else None
    for r in find(recs, name="startup"):
        if base_ns is None:
            continue
        over = r["median_ns"] - base_ns
        r["overhead_ns"] = over
        add(r, f"start-up to first token ({r['impl']}): minus the emulator's own response time "
               f"({base_ns / 1e6:.2f} ms)", "≤ 5 ms", f"{over / 1e6:.2f} ms (total {r['median_ns'] / 1e6:.2f} ms)",
            over <= 5e6)

    for r in find(recs, name="rss", variant="after init (client + first token)"):
        add(r, "RSS of a C process after init", "≤ 8 MiB", f"{r['value']:.2f} MiB", r["value"] <= 8)
    for r in find(recs, name="rss_growth"):
        add(r, f"RSS growth over {r['pam_calls']:,} PAM calls (after 1,000 warm-up calls)", "no growth (≤ 0.25 MiB)",
            f"{r['growth_kib']} KiB", r["growth_kib"] <= 256)
    for r in find(recs, name="size", variant="libidaas.so (strip --strip-all)"):
        add(r, "libidaas.so stripped", "≤ 4 MiB", f"{r['value']:.2f} MiB", r["value"] <= 4)
    return checks


AGENT_P50_NS = 30_000
AGENT_P99_NS = 200_000
AGENT_RSS_MIB = 16


def agent_targets(recs, checks, add):
    """The host agent's targets (the agent issue): one token request per refresh for 64 processes x
    8 threads, no client error; cached read over the Unix socket (1 client) p50 <= 30 us and
    p99 <= 200 us; RSS <= 16 MiB with 1,000 cached entries."""
    if not any(r.get("name", "").startswith("agent_") for r in recs):
        return
    fleet = find(recs, name="agent_fleet")
    if not fleet:
        checks.append({"what": "agent: token requests per refresh, 64 processes x 8 threads", "target": "exactly 1",
                       "measured": "not measured (step failed)", "met": False})
    for r in fleet:
        add(r, f"agent, {r['variant']}: token requests at the emulator per refresh", "exactly 1",
            f"{r['token_requests']} requests for {r['refreshes']} refreshes (distinct tokens seen)",
            r["token_requests"] == r["refreshes"] and r["refreshes"] > 0)
        add(r, f"agent, {r['variant']}: client errors", "0",
            f"{r['errors']} in {r['reads']:,} token + {r['api_key_reads']:,} API-key reads"
            + (f"; {r['failed_processes']} processes without a result" if r.get("failed_processes") else ""),
            r["errors"] == 0 and not r.get("failed_processes"))
    lat = [r for r in find(recs, name="agent_cached_read", transport="unix", threads=1)
           if r.get("route") == "GET /v1/token"]
    if not lat:
        checks.append({"what": "agent: cached GET /v1/token over the Unix socket, 1 client",
                       "target": f"p50 ≤ {AGENT_P50_NS // 1000} µs, p99 ≤ {AGENT_P99_NS // 1000} µs",
                       "measured": "not measured (step failed)", "met": False})
    for r in lat:
        add(r, f"agent: cached {r['variant']}, 1 client", f"p50 ≤ {AGENT_P50_NS // 1000} µs",
            fmt_ns(r["median_ns"]), r["median_ns"] <= AGENT_P50_NS)
        add(r, f"agent: cached {r['variant']}, 1 client", f"p99 ≤ {AGENT_P99_NS // 1000} µs",
            fmt_ns(r["p99_ns"]), r["p99_ns"] <= AGENT_P99_NS)
    rss = find(recs, name="agent_rss")
    if not rss:
        checks.append({"what": "agent RSS with 1,000 cached entries", "target": f"≤ {AGENT_RSS_MIB} MiB",
                       "measured": "not measured (step failed)", "met": False})
    for r in rss:
        add(r, f"agent RSS with {r['entries']:,} cached entries", f"≤ {AGENT_RSS_MIB} MiB",
            f"{r['value']:.2f} MiB", r["value"] <= AGENT_RSS_MIB and r["entries"] >= 1000)


def fleet_table(recs):
    """Markdown: the fleet simulation's table ('' without its records)."""
    rows = sorted(find(recs, name="fleet_sim"), key=lambda r: r["hosts"])
    if not rows:
        return ""
    r0 = rows[0]
    lines = ["## Fleet simulation", "",
             f"`cli/benches/fleet_sim.rs` (no network): N hosts × {r0['processes_per_host']} long-lived processes "
             f"plus {r0['short_lived_per_sec_per_host']} short-lived process(es) per second per host (each fetching "
             f"one token at start), token lifetime {r0['token_lifetime_s']} s, every host started at minute 0. "
             "Refresh instants from the core's `compute_times` (refresh-ahead with its jitter, seeded: seed "
             f"{r0['seed']}); with the agent, one agent per host holds the token and the processes ask it. "
             f"Token requests per minute at the IdP over {r0['hours']} simulated hours: the cold-start minute "
             f"(minute 0), and the mean and the peak minute from minute {r0['steady_from_minute']} on.", "",
             "| hosts | without agent: cold-start minute | mean / min | peak minute | with agent: cold-start minute "
             "| mean / min | peak minute | mean without / with |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        a, b = r["without_agent"], r["with_agent"]
        lines.append(f"| {r['hosts']:,} | {a['cold_start_per_min']:,} | {a['mean_per_min']:,.1f} | {a['peak_per_min']:,} "
                     f"| {b['cold_start_per_min']:,} | {b['mean_per_min']:,.1f} | {b['peak_per_min']:,} "
                     f"| {r['reduction']:,.1f}x |")
    return "\n".join(lines) + "\n\n"


RUST_API_KEY = dict(name="get_api_key", impl="rust", variant="https", threads=1)
PY_API_KEY_RATIO = 1.2
PY_IMPORT_MS = 30
PY_RSS_MIB = 20


def python_targets(recs, checks, add):
    """The Python binding's targets (the Python issue): get_api_key over HTTPS within 1.2x of the
    Rust figure of the same run, import <= 30 ms, RSS after import <= 20 MiB."""
    if not any(r.get("impl") == "python" for r in recs):
        return

    def missing(what, target, why):
        checks.append({"what": what, "target": target, "measured": f"not measured ({why})", "met": False})

    what, target = "get_api_key over loopback HTTPS, python, sequential", \
        f"median within {PY_API_KEY_RATIO}x of the Rust get_api_key (https, 1 thread) of the same run"
    py, rust = find(recs, name="get_api_key", impl="python", variant="https", threads=1), find(recs, **RUST_API_KEY)
    if not py:
        missing(what, target, "step failed")
    elif not rust or rust[0].get("median_ns") is None:
        missing(what, target, f"{py[0]['median_ns'] / 1e3:.1f} µs; the Rust figure is not in this run (BENCH_ONLY)")
    else:
        r, ratio = py[0], py[0]["median_ns"] / rust[0]["median_ns"]
        r["rust_ratio"] = round(ratio, 3)
        add(r, what, target, f"{r['median_ns'] / 1e3:.1f} µs vs {rust[0]['median_ns'] / 1e3:.1f} µs ({ratio:.2f}x)",
            ratio <= PY_API_KEY_RATIO)
    imp = find(recs, name="import", impl="python")
    if imp:
        add(imp[0], "import idaas in a fresh interpreter", f"median ≤ {PY_IMPORT_MS} ms",
            f"{imp[0]['median_ns'] / 1e6:.1f} ms", imp[0]["median_ns"] <= PY_IMPORT_MS * 1e6)
    else:
        missing("import idaas in a fresh interpreter", f"median ≤ {PY_IMPORT_MS} ms", "step failed")
    rss = [r for r in find(recs, name="rss", impl="python") if r["variant"].startswith("after import")]
    if rss:
        add(rss[0], "RSS of a Python process after import idaas", f"≤ {PY_RSS_MIB} MiB",
            f"{rss[0]['value']:.2f} MiB", rss[0]["value"] <= PY_RSS_MIB)
    else:
        missing("RSS of a Python process after import idaas", f"≤ {PY_RSS_MIB} MiB", "step failed")


# The rows of the side-by-side table: (label, record filter, field, format).
PY_ROWS = [
    ("cached bearer-token read, 1 thread (median per call)", dict(name="cached_token", threads=1), "median_ns", "ns"),
    ("cached bearer-token read, 8 threads (calls/s, all threads)", dict(name="cached_token", threads=8), "ops_per_sec", "ops"),
    ("get_api_key over loopback HTTPS, keep-alive (median)", dict(name="get_api_key", variant="https", threads=1), "median_ns", "ns"),
    ("get_api_key over loopback HTTPS, keep-alive (p99)", dict(name="get_api_key", variant="https", threads=1), "p99_ns", "ns"),
    ("import, fresh interpreter (median)", dict(name="import"), "median_ns", "ns"),
    ("RSS, bare interpreter", dict(name="rss", variant="bare interpreter"), "value", "MiB"),
    ("RSS after import", dict(name="rss", prefix="after import"), "value", "MiB"),
    ("RSS after the client and its first token", dict(name="rss", variant="after the client and its first token"), "value", "MiB"),
    ("RSS after the first get_api_key", dict(name="rss", variant="after the first get_api_key"), "value", "MiB"),
]


def python_comparison(recs):
    """Markdown: this binding beside the reference Python SDK, both from this run ('' without the
    Python step). The reference's column says why when it was not measured."""
    if not any(r.get("impl") == "python" for r in recs):
        return ""
    absent = find(recs, name="not_measured", impl="python-ref")
    have_ref = any(r.get("impl") == "python-ref" and r.get("name") != "not_measured" for r in recs)

    def pick(impl, f):
        f = dict(f)
        prefix = f.pop("prefix", None)
        rows = [r for r in find(recs, impl=impl, **f) if prefix is None or r.get("variant", "").startswith(prefix)]
        return rows[0] if rows else None

    def show(r, field, kind):
        if r is None or r.get(field) is None:
            return None, "—"
        v = r[field]
        return v, fmt_ns(v) if kind == "ns" else fmt_ops(v) if kind == "ops" else f"{v:.2f} MiB"

    lines = ["## Python: this binding beside the reference Python SDK", "",
             "Both measured by `bindings/python/bench.py` in this run, against the same emulator over loopback "
             "HTTPS (certificate verification on), each in its own venv on the same interpreter."]
    ver = next((r.get("version") for r in recs if r.get("impl") == "python-ref" and r.get("version")), None)
    if ver:
        lines[-1] += f" Reference: {ver}."
    rust = find(recs, **RUST_API_KEY)
    py = find(recs, name="get_api_key", impl="python", variant="https", threads=1)
    if rust and py and rust[0].get("median_ns"):
        lines[-1] += (f" Rust `get_api_key` (https, 1 thread) of this run: {fmt_ns(rust[0]['median_ns'])}; "
                      f"the binding's is {py[0]['median_ns'] / rust[0]['median_ns']:.2f}x that.")
    if not have_ref:
        lines += ["", "**The reference SDK was not measured in this run**: "
                  + (absent[0].get("reason", "") if absent else "its step did not run or failed") + "."]
    lines += ["", "| figure | idaas (this binding) | reference SDK | reference / idaas |", "|---|---:|---:|---:|"]
    for label, f, field, kind in PY_ROWS:
        ov, ot = show(pick("python", f), field, kind)
        if have_ref:
            rv, rt = show(pick("python-ref", f), field, kind)
        else:
            rv, rt = None, "not measured in this run"
        ratio = "—"
        if ov and rv:
            ratio = f"{(ov / rv if kind == 'ops' else rv / ov):.1f}x"
        lines.append(f"| {label} | {ot} | {rt} | {ratio} |")
    lines += ["", "Ratio: how many times the binding is faster or smaller (for calls/s: its throughput over the "
              "reference's). The 8-thread read runs 8 Python threads at once; the GIL lets one run at a time.", ""]
    return "\n".join(lines) + "\n"


# --- machine ------------------------------------------------------------------------------------

def cmd(*args):
    try:
        p = subprocess.run(args, capture_output=True, text=True, timeout=30)
        return (p.stdout + p.stderr).strip().splitlines()[0] if (p.stdout + p.stderr).strip() else None
    except (OSError, subprocess.SubprocessError):
        return None


def machine(raw):
    cpu = None
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    run = {}
    try:
        for line in open(os.path.join(raw, "run.txt")):
            k, _, v = line.strip().partition(" ")
            if k == "end" and " seconds " in v:
                v, _, secs = v.partition(" seconds ")
                run["seconds"] = secs
            if k == "step":
                run.setdefault("steps", []).append(v)
            else:
                run[k] = v
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "kernel": platform.release(),
        "os": cmd("sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"),
        "rustc": cmd("rustc", "-V"),
        "go": cmd("go", "version"),
        "java": cmd("java", "-version"),
        "node": cmd("node", "-v"),
        "python": cmd("python3", "-V"),
        "cc": cmd("cc", "--version"),
        "git_commit": run.get("commit") or cmd("git", "rev-parse", "--short", "HEAD"),
        "git_dirty": run.get("dirty", "0") == "1" if "commit" in run
        else bool(cmd("git", "status", "--porcelain", "--untracked-files=no")),
        "run": run,
    }


# --- output -------------------------------------------------------------------------------------

def fmt_ns(ns):
    if ns is None:
        return "—"
    if ns < 10_000:
        return f"{ns:.1f} ns"
    if ns < 10_000_000:
        return f"{ns / 1e3:.1f} µs"
    return f"{ns / 1e6:.2f} ms"


def fmt_ops(v):
    if v is None:
        return "—"
    if v >= 1e6:
        return f"{v / 1e6:.1f} M/s"
    if v >= 1e3:
        return f"{v / 1e3:.1f} k/s"
    return f"{v:.0f}/s"


SECTIONS = [
    ("Cached bearer-token read", lambda r: r["name"] == "cached_token"),
    ("Cached API-key read (opt-in PAM cache)", lambda r: r["name"] == "cached_api_key"),
    ("Network calls against the emulator (loopback, keep-alive)",
     lambda r: r["name"] in ("get_api_key", "generate_jwt", "bare_http_get", "bare_http_get_health")),
    ("Refresh storm (256 threads)", lambda r: r["name"] == "refresh_storm"),
    ("Start-up", lambda r: r["name"] in ("startup", "startup_baseline", "import")),
    ("Memory and size", lambda r: r["name"] in ("rss", "rss_growth", "size")),
    ("Host agent (`idaas agent`, cli/benches/agent.rs)",
     lambda r: r["name"] in ("agent_fleet", "agent_cached_read", "agent_rss")),
]


def notes(r):
    n = []
    if "connections" in r:
        n.append(f"{r['connections']} TCP conn. ({r['connections_during_run']} during run)")
    if r["name"] == "refresh_storm" and "refreshes" in r:
        n.append(f"{r['token_requests']} token requests for {r['refreshes']} refreshes ({r['duplicates']} duplicate)")
    elif r["name"] == "refresh_storm":
        n.append(f"{r['token_requests']} token request(s); worst caller {fmt_ns(r['max_ns'])}; "
                 f"{r['network_waiters']} waited for the network ({r['injected_latency_ms']} ms injected)")
    if r["name"] == "startup" and "overhead_ns" in r:
        n.append(f"overhead over the emulator's response {fmt_ns(r['overhead_ns'])}")
        if "config_load_ns" in r:
            n.append(f"config {fmt_ns(r['config_load_ns'])} + Client::new {fmt_ns(r['client_new_ns'])} "
                     f"+ first token {fmt_ns(r['first_token_ns'])}")
    if r["name"] == "agent_fleet":
        n.append(f"{r['token_requests']} token requests for {r['refreshes']} refreshes in {r['seconds']} s "
                 f"(token lifetime {r['token_lifetime_s']} s); {r['reads']:,} token + {r['api_key_reads']:,} "
                 f"API-key reads, {r['errors']} errors; {r['api_key_fetches']} API-key fetch(es) at the emulator; "
                 f"slowest token read {fmt_ns(r['worst_token_read_ns'])}")
    if r["name"] == "agent_cached_read" and r.get("max_ns") is not None:
        n.append(f"max {fmt_ns(r['max_ns'])}; {r['samples']:,} samples"
                 + (f"; load average {r['loadavg_1m']:.2f} before the agent bench" if r.get("loadavg_1m") is not None else ""))
    if r["name"] == "agent_rss":
        n.append(f"{r['rss_start_mib']:.2f} MiB at start, {r['rss_first_token_mib']:.2f} MiB after the first "
                 f"token; peak {r['vm_hwm_mib']:.2f} MiB; {r.get('agent_threads')} threads")
    if r.get("token_bytes"):
        n.append(f"{r['token_bytes']}-byte token")
    if r.get("cpu_median_ns") is not None:
        n.append(f"CPU time {fmt_ns(r['cpu_median_ns'])}")
    if r.get("rust_ratio") is not None:
        n.append(f"{r['rust_ratio']:.2f}x the Rust figure")
    if r.get("impl") == "python-ref" and r.get("version"):
        n.append(r["version"])
    if r.get("runs"):
        n.append(f"{r['runs']} runs")
    if r.get("runs_median_ns"):
        n.append("run medians " + " / ".join(f"{v:.1f}" for v in r["runs_median_ns"]) + " ns")
    if r.get("allocs_per_op") is not None:
        n.append(f"{r['allocs_per_op']:g} allocs/op")
    return "; ".join(n)


def table(recs):
    lines = []
    for title, pred in SECTIONS:
        rows = [r for r in recs if pred(r)]
        if not rows:
            continue
        lines += [f"### {title}", "",
                  "| Benchmark | Impl | Variant | Threads | Median | p99 | Throughput | Target | Result | Notes |",
                  "|---|---|---|---:|---:|---:|---:|---|---|---|"]
        for r in rows:
            if r.get("value") is not None:
                median = f"{r['value']:.2f} {r.get('unit', '')}"
                p99 = "—"
            else:
                median, p99 = fmt_ns(r.get("median_ns")), fmt_ns(r.get("p99_ns"))
            tg = r.get("targets", [])
            target = "; ".join(t["target"] for t in tg) or "—"
            result = "; ".join("met" if t["met"] else "**missed**" for t in tg) or "—"
            lines.append(f"| {r['name']} | {r['impl']} | {r.get('variant', '')} | {r.get('threads', '')} | {median} | "
                         f"{p99} | {fmt_ops(r.get('ops_per_sec'))} | {target} | {result} | {notes(r)} |")
        lines.append("")
    return "\n".join(lines)


def checks_table(checks):
    lines = ["| Target | Measured | Result |", "|---|---|---|"]
    for c in checks:
        lines.append(f"| {c['what']}: {c['target']} | {c['measured']} | {'met' if c['met'] else '**missed**'} |")
    return "\n".join(lines)


# Size limits of the release artifacts (issue 16), by a pattern of their dist/sizes.txt label.
SIZE_LIMITS_MIB = [
    (r"libidaas\.so \(stripped\)", 4),
    (r"libidaas\.a \(strip --strip-debug\)", 20),
    (r"Go module zip", 60),
    (r"npm idaas-node-linux-", 3),
    (r"idaas-[0-9.]+\.jar ", 10),
]


def release_sizes(path):
    """The artifact sizes scripts/dist.sh wrote (dist/sizes.txt), with their limits; '' without it."""
    if not os.path.exists(path):
        return ""
    rows = []
    for line in open(path):
        m = re.match(r"(.*?)\s+(\d+) bytes\s+([\d.]+) MiB", line.rstrip())
        if not m:
            continue
        label, b = m.group(1).strip(), int(m.group(2))
        limit = next((l for p, l in SIZE_LIMITS_MIB if re.match(p, label)), None)
        verdict = "" if limit is None else ("met" if b <= limit * 1048576 else "**missed**")
        rows.append(f"| {label} | {b:,} | {b / 1048576:.2f} | {'' if limit is None else f'≤ {limit}'} | {verdict} |")
    if not rows:
        return ""
    return ("## Release artifacts\n\nFrom `dist/sizes.txt` (written by `scripts/dist.sh`, which prints it too).\n\n"
            "| artifact | bytes | MiB | limit (MiB) | |\n|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n")


def included(path):
    """A hand-kept section of this report (its text, '' when the file is missing)."""
    return open(path).read().rstrip() + "\n\n" if os.path.exists(path) else ""


def markdown(doc):
    m = doc["machine"]
    run = m.get("run", {})
    steps = "\n".join(f"  - `{s}`" for s in run.get("steps", []))
    n_met = sum(c["met"] for c in doc["checks"])
    return f"""# Benchmarks

Generated by `scripts/bench_report.py` from the output of `scripts/bench.sh` (run {run.get('start', '?')} –
{run.get('end', '?')}, {run.get('seconds', '?')} s wall time including builds); do not edit by hand.
Raw figures: `bench-results/bench.json`.

For comparison, the reference Python SDK as quoted in the performance issue: cached token read
1.5 µs median; get_api_key 876 µs median, ~1,100 req/s (a bare HTTP client on the same route:
390 µs); 55 MiB RSS after import; 316 ms to import. Where it is installable the Python step measures
it in the same run beside the Python binding (section "Python" below).

## Machine

| | |
|---|---|
| CPU | {m['cpu']} |
| nproc | {m['nproc']} |
| Memory | {m['memory']} |
| Kernel | {m['kernel']} ({m['os']}) |
| rustc | {m['rustc']} |
| Go | {m['go']} |
| Java | {m['java']} |
| Node | {m['node']} |
| Python | {m.get('python')} |
| C compiler | {m['cc']} |
| Commit | {m['git_commit']}{' (with uncommitted changes)' if m['git_dirty'] else ''} |
| Load average at start | {run.get('loadavg', '?')} |

## Targets

{n_met} of {len(doc['checks'])} targets met.

{checks_table(doc['checks'])}

## All figures

Median and p99 are per call (per-batch ns/call for the cached reads, which are timed in batches of
64–1,000 calls; per request for network calls). Throughput is calls per second over all threads.
Go: `median-ns/op` of the binding's batched benchmarks; its RunParallel rows (`-cpu 8`: 8 goroutines,
GOMAXPROCS=8) print the per-goroutine batch median divided by GOMAXPROCS, multiplied back here, so the
8-thread Go figure is the median per-call latency of one goroutine while 8 run — the definition of the
C and Java 8-thread rows (each thread's batches, one median); full runs repeat the Go benchmarks 3 times (`-count 3`) and report the median of the 3 (the run medians are in the notes); Java: TokenBench's per-batch median on 1 and 8 threads (the Java token is the emulator's
JWT, the Rust/C/Go ones a 1,100-byte plugin token); Node: CPU time per call of the synchronous read
(`bench.js`: one JS thread — a Node client lives in one isolate, so there is no 8-thread row);
Python (`bindings/python/bench.py`, impl `python` = this binding, `python-ref` = the reference SDK):
wall time per call of batches of 1,000 calls, the `for` loop included; the 8-thread rows run 8
Python threads at once (their batch medians include waiting for the GIL; throughput is of all 8).

{table(doc['records'])}
{python_comparison(doc['records'])}{fleet_table(doc['records'])}{release_sizes(os.path.join(ROOT, 'dist', 'sizes.txt'))}{included(os.path.join(ROOT, 'bench-results', 'mechanisms.md'))}## Reproduce

```sh
scripts/bench.sh            # full run: builds, runs everything, writes bench-results/bench.json and this file
scripts/bench.sh --quick    # CI smoke run (reduced iterations, figures printed, no assertions)
BENCH_ONLY="rust c" scripts/bench.sh   # a subset: rust c go java node python agent
```

Needs cargo, a C compiler, python3; Go, Java (JDK 17 + Maven) and Node (+ headers) for the bindings;
for Python, python3 with venv and PyPI (maturin, the reference SDK) on the first run.
Run it on a quiet machine (`uptime` load well below the core count): the emulator runs on the
same cores as the client. Steps of this run (exit status, seconds):
{steps}
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--md")
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    recs = collect(a.raw)
    if not recs:
        print("bench_report: no BENCH results found in " + a.raw, file=sys.stderr)
        return 1
    checks = check_targets(recs)
    doc = {"machine": machine(a.raw), "quick": a.quick, "records": recs, "checks": checks}
    os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
    with open(a.json, "w") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(table(recs))
    print(python_comparison(recs))
    print(fleet_table(recs))
    print(checks_table(checks))
    print(f"\n{sum(c['met'] for c in checks)} of {len(checks)} targets met"
          + (" (quick run: figures only, no assertions)" if a.quick else ""))
    print(f"wrote {a.json}")
    if a.md:
        with open(a.md, "w") as f:
            f.write(markdown(doc))
        print(f"wrote {a.md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
