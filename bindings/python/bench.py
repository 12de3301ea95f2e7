#!/usr/bin/env python3
"""The Python benchmarks: this binding (`idaas`) and the reference Python SDK (`cloud-idaas-core` +
`cloud-idaas-pam-client`) measured in the same run, against the same emulator.

    python3 bench.py --ours VENV_PYTHON [--ref VENV_PYTHON | --ref-missing REASON] [--quick]

Runs with any python3 (standard library only): it starts the emulator (IDAAS_EMULATOR_BIN, `--port 0
--ready-file --exit-on-stdin-eof`), writes its CLIENT_SECRET_POST client config, then runs each
implementation's interpreter (one venv each: the two must not see each other's packages) as
  * a worker process (`bench.py worker IMPL CONFIG`): cached bearer-token read (1 and 8 threads),
    get_api_key over loopback HTTPS (sequential, keep-alive);
  * fresh processes for import time and RSS (bare interpreter, after import, after the first token,
    after the first get_api_key), the median over several processes.
Every figure is printed as a `BENCH {json}` line (scripts/bench.sh collects them; bench_report.py
puts them in BENCHMARKS.md beside each other). When the reference is not installable, a
`BENCH {"name":"not_measured",...}` line says so and no reference figure is printed.

TLS: both trust the emulator's CA, certificate verification stays on: ours through the config's
`httpConfiguration.caCertificatePath`; the reference through SSL_CERT_FILE, which its core reads
(`_get_ca_bundle`, urllib3 `ca_certs`) and its PAM client's OpenAPI runtime picks up through
`ssl.create_default_context()` (OpenSSL's default verify paths honour SSL_CERT_FILE).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

API_KEY_ID = "openai_prod_key"


def bench_line(**rec):
    print("BENCH " + json.dumps(rec, ensure_ascii=False), flush=True)


def pct(xs, p):
    s = sorted(xs)
    return s[min(len(s) - 1, int(len(s) * p))]


# --- the worker (runs in the implementation's venv) ------------------------------------------------

def open_impl(impl, config_path):
    """(version, read, get_api_key) of an implementation configured from config_path."""
    if impl == "ours":
        import idaas

        client = idaas.Client.from_file(config_path)
        pam = client.pam()
        return idaas.__version__, client.bearer_token, lambda: pam.get_api_key(API_KEY_ID)
    from importlib.metadata import version

    from cloud_idaas.core import IDaaSCredentialProviderFactory
    from cloud_idaas.pam_client import IDaaSPamClient

    IDaaSCredentialProviderFactory.init(config_path)
    provider = IDaaSCredentialProviderFactory.get_idaas_credential_provider()
    pam = IDaaSPamClient()
    v = f"cloud-idaas-core {version('cloud-idaas-core')}, cloud-idaas-pam-client {version('cloud-idaas-pam-client')}"
    return v, provider.get_bearer_token, lambda: pam.get_api_key(API_KEY_ID)


def time_batches(read, batch, batches, out, cpu=None):
    """Appends the ns per call of each of `batches` batches of `batch` calls to out (wall time),
    and to cpu the CPU time of this thread per call when given."""
    clock, tclock = time.perf_counter_ns, time.thread_time_ns
    rng = range(batch)
    for _ in range(batches):
        c0 = tclock() if cpu is not None else 0
        t0 = clock()
        for _ in rng:
            read()
        t1 = clock()
        out.append((t1 - t0) / batch)
        if cpu is not None:
            cpu.append((tclock() - c0) / batch)


def worker(impl, config_path, quick, label):
    version, read, get_api_key = open_impl(impl, config_path)
    name_impl = "python" if impl == "ours" else "python-ref"
    token = read()
    if not token:
        raise SystemExit(f"{impl}: no token")
    variant = label or ("Client.bearer_token()" if impl == "ours" else "IDaaSCredentialProvider.get_bearer_token()")
    batch, batches = (1000, 200) if quick else (1000, 1000)
    if impl == "ref":
        batches //= 4  # ~5x slower per call: the same wall time

    # 1. cached bearer-token read, 1 thread: ns per call of batches (loop overhead included).
    time_batches(read, batch, batches // 10, [])  # warm-up
    per_call, cpu = [], []
    time_batches(read, batch, batches, per_call, cpu)
    bench_line(name="cached_token", impl=name_impl, variant=variant, threads=1,
               median_ns=round(statistics.median(per_call), 1), p99_ns=round(pct(per_call, 0.99), 1),
               cpu_median_ns=round(statistics.median(cpu), 1),
               ops_per_sec=round(1e9 / statistics.mean(per_call), 1), batch=batch, token_bytes=len(token),
               version=version)

    # 2. the same read on 8 threads at once: per-batch ns per call of every thread (wall time, so
    # it includes waiting for the GIL) and the aggregate calls per second of all threads.
    n = 8
    results = [[] for _ in range(n)]
    start = threading.Barrier(n + 1)

    def run(i):
        start.wait()
        time_batches(read, batch, max(batches // n, 10), results[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter_ns()
    for t in threads:
        t.join()
    wall = time.perf_counter_ns() - t0
    per_call = [x for r in results for x in r]
    calls = len(per_call) * batch
    bench_line(name="cached_token", impl=name_impl, variant=variant, threads=n,
               median_ns=round(statistics.median(per_call), 1), p99_ns=round(pct(per_call, 0.99), 1),
               ops_per_sec=round(calls / (wall / 1e9), 1), batch=batch, version=version)
    if label:
        return  # a variant of the read only (the mechanism comparison)

    # 3. get_api_key over loopback HTTPS, sequential, keep-alive (token cached).
    requests_n = 200 if quick else 2000
    for _ in range(max(requests_n // 10, 20)):  # warm-up: connection, TLS session, caches
        if get_api_key() is None:
            raise SystemExit(f"{impl}: get_api_key returned None")
    lat = []
    clock = time.perf_counter_ns
    for _ in range(requests_n):
        t0 = clock()
        get_api_key()
        lat.append(clock() - t0)
    bench_line(name="get_api_key", impl=name_impl, variant="https", threads=1,
               median_ns=statistics.median(lat), p99_ns=pct(lat, 0.99),
               ops_per_sec=round(1e9 / statistics.mean(lat), 1), requests=requests_n, version=version)


# --- fresh processes: import time and RSS ---------------------------------------------------------

# Runs in a fresh interpreter: VmRSS of the bare interpreter, the import (perf_counter around it),
# VmRSS after it, after the first token and after the first get_api_key.
PROBE = r"""
import sys, time
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
bare = rss()
c0, t0 = time.process_time_ns(), time.perf_counter_ns()
if sys.argv[1] == "ours":
    import idaas
else:
    import cloud_idaas.core, cloud_idaas.pam_client
t_import, cpu_import = time.perf_counter_ns() - t0, time.process_time_ns() - c0
after_import = rss()
first = first_key = None
if len(sys.argv) > 2:
    if sys.argv[1] == "ours":
        c = idaas.Client.from_file(sys.argv[2])
        c.bearer_token()
        first = rss()
        c.pam().get_api_key("openai_prod_key")
    else:
        from cloud_idaas.core import IDaaSCredentialProviderFactory
        from cloud_idaas.pam_client import IDaaSPamClient
        IDaaSCredentialProviderFactory.init(sys.argv[2])
        IDaaSCredentialProviderFactory.get_idaas_credential_provider().get_bearer_token()
        first = rss()
        IDaaSPamClient().get_api_key("openai_prod_key")
    first_key = rss()
print(t_import, bare, after_import, first, first_key, cpu_import)
"""


def probe(python, impl, env, config_path=None):
    args = [python, "-c", PROBE, impl] + ([config_path] if config_path else [])
    out = subprocess.run(args, env=env, check=True, capture_output=True, text=True).stdout.split()
    return [None if v == "None" else int(v) for v in out]


def fresh_processes(python, impl, env, config_path, quick):
    name_impl = "python" if impl == "ours" else "python-ref"
    what = "import idaas" if impl == "ours" else "import cloud_idaas.core, cloud_idaas.pam_client"
    probe(python, impl, env)  # warm-up: page cache, .pyc files
    runs = 5 if quick else 21
    imports = [probe(python, impl, env) for _ in range(runs)]
    t = [r[0] for r in imports]
    bench_line(name="import", impl=name_impl, variant=f"{what} (fresh interpreter)", threads=1,
               median_ns=statistics.median(t), p99_ns=max(t), runs=runs,
               cpu_median_ns=statistics.median(r[5] for r in imports))
    full = [probe(python, impl, env, config_path) for _ in range(3 if quick else 7)]
    for i, variant in [(1, "bare interpreter"), (2, f"after {what}"),
                       (3, "after the client and its first token"), (4, "after the first get_api_key")]:
        v = statistics.median(r[i] for r in (imports if i <= 2 else full))
        bench_line(name="rss", impl=name_impl, variant=variant, threads=1,
                   value=round(v / 1048576, 2), unit="MiB", bytes=v)


# --- the driver ---------------------------------------------------------------------------------

def start_emulator():
    bin_ = os.environ.get("IDAAS_EMULATOR_BIN")
    if not bin_ or not os.path.exists(bin_):
        raise SystemExit(f"bench.py: emulator binary not found: {bin_!r} (set IDAAS_EMULATOR_BIN)")
    d = tempfile.mkdtemp(prefix="idaas-py-bench-")
    ready = os.path.join(d, "ready.json")
    proc = subprocess.Popen([bin_, "--port", "0", "--ready-file", ready, "--exit-on-stdin-eof"],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not os.path.exists(ready):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit("bench.py: the emulator did not start")
        time.sleep(0.02)
    info = json.load(open(ready))
    config = info["clientConfigs"]["CLIENT_SECRET_POST"]
    config_path = os.path.join(d, "client-config.json")
    with open(config_path, "w") as f:
        json.dump(config, f)
    env = dict(os.environ)
    env[config["authnConfiguration"]["clientSecretEnvVarName"]] = info["clientSecret"]
    # The reference's CA knobs (module docstring); ours reads httpConfiguration.caCertificatePath.
    env["SSL_CERT_FILE"] = info["caCertPath"]
    env.pop("REQUESTS_CA_BUNDLE", None)
    return proc, config_path, env


def drive(argv):
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", required=True, help="python of the venv with the idaas wheel")
    ap.add_argument("--ref", help="python of the venv with the reference SDK")
    ap.add_argument("--ref-missing", help="why the reference is not measured")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--label", help="measure only the cached read of ours, under this variant label")
    a = ap.parse_args(argv)
    proc, config_path, env = start_emulator()
    me = os.path.abspath(__file__)
    rc = 0
    try:
        impls = [("ours", a.ours)] + ([("ref", a.ref)] if a.ref and not a.label else [])
        for impl, python in impls:
            args = [python, me, "worker", impl, config_path] + (["--quick"] if a.quick else [])
            if a.label:
                args += ["--label", a.label]
            r = subprocess.run(args, env=env)
            if r.returncode != 0:
                print(f"bench.py: the {impl} worker failed (exit {r.returncode})", file=sys.stderr)
                rc = 1
                continue
            if not a.label:
                fresh_processes(python, impl, env, config_path, a.quick)
        if not a.ref and not a.label:
            reason = a.ref_missing or "no reference venv given"
            print(f"bench.py: the reference SDK is not measured in this run: {reason}", file=sys.stderr)
            bench_line(name="not_measured", impl="python-ref", variant="reference Python SDK", threads=1,
                       reason=reason)
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return rc


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        import argparse

        ap = argparse.ArgumentParser()
        ap.add_argument("mode")
        ap.add_argument("impl", choices=["ours", "ref"])
        ap.add_argument("config")
        ap.add_argument("--quick", action="store_true")
        ap.add_argument("--label")
        a = ap.parse_args()
        worker(a.impl, a.config, a.quick, a.label)
        return 0
    return drive(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
