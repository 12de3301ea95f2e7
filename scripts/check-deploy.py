#!/usr/bin/env python3
"""Checks the host agent's deployment examples under deploy/ (see deploy/README.md).

* deploy/kubernetes/*.yaml: every document parses (PyYAML), has apiVersion/kind/metadata.name;
  every container that runs `idaas ... agent` passes --socket, mounts the socket's directory from a
  volume the pod defines, and every volume a container mounts exists in its pod; the sidecar shares
  an emptyDir and the DaemonSet a hostPath.
* deploy/systemd/*.service: sections and directives are known ones (a typo is silently ignored by
  systemd, so a misspelt hardening option would just not apply), the hardening this project asks
  for is present, and ExecStart runs `idaas ... agent`.

PyYAML: used from the system Python when present; else installed into a virtual environment at
target/deploy-check-venv (pip from PyPI) and the script re-runs itself there.

Usage: python3 scripts/check-deploy.py
"""
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
VENV = ROOT / "target" / "deploy-check-venv"


def ensure_yaml():
    try:
        import yaml  # noqa: F401

        return
    except ImportError:
        pass
    if os.environ.get("IDAAS_DEPLOY_CHECK_IN_VENV"):
        sys.exit("check-deploy: PyYAML is missing even in the virtual environment")
    py = VENV / "bin" / "python3"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    if subprocess.run([str(py), "-c", "import yaml"], capture_output=True).returncode != 0:
        subprocess.run(
            [str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "PyYAML>=6,<7"],
            check=True,
        )
    env = dict(os.environ, IDAAS_DEPLOY_CHECK_IN_VENV="1")
    os.execve(str(py), [str(py), __file__, *sys.argv[1:]], env)


ensure_yaml()
import yaml  # noqa: E402

errors = []


def err(where, msg):
    errors.append(f"{where}: {msg}")


# ---------------------------------------------------------------------------------------------
# Kubernetes

def pod_spec(doc):
    kind = doc.get("kind")
    if kind == "Pod":
        return doc.get("spec")
    if kind in ("Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "Job"):
        return (((doc.get("spec") or {}).get("template") or {}).get("spec"))
    return None


def is_agent(container):
    args = [str(a) for a in (container.get("command") or []) + (container.get("args") or [])]
    return "agent" in args, args


def check_pod(where, spec, expect_volume):
    volumes = {v.get("name"): v for v in spec.get("volumes") or []}
    containers = (spec.get("containers") or []) + (spec.get("initContainers") or [])
    if not spec.get("containers"):
        err(where, "pod has no containers")
    agents = 0
    for c in containers:
        name = c.get("name")
        cw = f"{where} container {name}"
        if not name or not c.get("image"):
            err(cw, "needs a name and an image")
        mounts = {m.get("mountPath"): m.get("name") for m in c.get("volumeMounts") or []}
        for path, vol in mounts.items():
            if vol not in volumes:
                err(cw, f"mounts volume {vol!r} at {path}, which the pod does not define")
        for e in c.get("env") or []:
            if "name" not in e:
                err(cw, "an env entry without a name")
        agent, args = is_agent(c)
        if not agent:
            continue
        agents += 1
        if "--socket" not in args:
            err(cw, "the agent should get --socket")
            continue
        sock = args[args.index("--socket") + 1]
        sock_dir = os.path.dirname(sock)
        vol = mounts.get(sock_dir)
        if vol is None:
            err(cw, f"the socket directory {sock_dir} is not a mounted volume")
        elif expect_volume and expect_volume not in volumes.get(vol, {}):
            err(cw, f"the socket volume {vol!r} should be a {expect_volume}")
        if "--http" in args:
            addr = args[args.index("--http") + 1]
            if not re.match(r"^(127\.\d+\.\d+\.\d+|\[::1\]):\d+$", addr):
                err(cw, f"--http {addr} is not a loopback address (the agent refuses it)")
        if c in (spec.get("initContainers") or []) and c.get("restartPolicy") != "Always":
            err(cw, "an agent in initContainers must be a native sidecar (restartPolicy: Always)")
    return agents


def check_kubernetes():
    files = sorted((DEPLOY / "kubernetes").glob("*.yaml"))
    if not files:
        err("deploy/kubernetes", "no manifests")
    expect = {"sidecar.yaml": "emptyDir", "daemonset.yaml": "hostPath"}
    for f in files:
        rel = f.relative_to(ROOT)
        try:
            docs = [d for d in yaml.safe_load_all(f.read_text()) if d is not None]
        except yaml.YAMLError as e:
            err(rel, f"not YAML: {e}")
            continue
        agents = 0
        for i, d in enumerate(docs):
            where = f"{rel} document {i + 1}"
            if not isinstance(d, dict):
                err(where, "not a mapping")
                continue
            for key in ("apiVersion", "kind"):
                if not isinstance(d.get(key), str):
                    err(where, f"missing {key}")
            if not ((d.get("metadata") or {}).get("name")):
                err(where, "missing metadata.name")
            where = f"{rel} {d.get('kind')}/{(d.get('metadata') or {}).get('name')}"
            if d.get("kind") in ("Deployment", "DaemonSet"):
                sel = ((d.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
                labels = (((d.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {}
                if not sel or any(labels.get(k) != v for k, v in sel.items()):
                    err(where, "spec.selector.matchLabels must match the template's labels")
            if d.get("kind") == "ConfigMap":
                for k, v in (d.get("data") or {}).items():
                    if k.endswith(".json"):
                        import json

                        try:
                            json.loads(v)
                        except ValueError as e:
                            err(where, f"{k} is not JSON: {e}")
            spec = pod_spec(d)
            if spec is not None:
                agents += check_pod(where, spec, expect.get(f.name) if d.get("kind") != "Pod" else None)
        if f.name in expect and agents != 1:
            err(rel, f"expected one agent container, found {agents}")


# ---------------------------------------------------------------------------------------------
# systemd

UNIT = {
    "Description", "Documentation", "Wants", "Requires", "Requisite", "BindsTo", "PartOf",
    "Upholds", "Conflicts", "Before", "After", "OnFailure", "OnSuccess", "PropagatesReloadTo",
    "ReloadPropagatedFrom", "JoinsNamespaceOf", "RequiresMountsFor", "DefaultDependencies",
    "StartLimitIntervalSec", "StartLimitBurst", "StartLimitAction", "ConditionPathExists",
    "AssertPathExists", "StopWhenUnneeded", "RefuseManualStart", "RefuseManualStop",
}
SERVICE = {
    "Type", "ExitType", "RemainAfterExit", "GuessMainPID", "PIDFile", "BusName", "ExecStart",
    "ExecStartPre", "ExecStartPost", "ExecCondition", "ExecReload", "ExecStop", "ExecStopPost",
    "RestartSec", "RestartSteps", "RestartMaxDelaySec", "TimeoutStartSec", "TimeoutStopSec",
    "TimeoutAbortSec", "TimeoutSec", "RuntimeMaxSec", "WatchdogSec", "Restart",
    "SuccessExitStatus", "RestartPreventExitStatus", "RestartForceExitStatus", "RootDirectoryStartOnly",
    "NonBlocking", "NotifyAccess", "Sockets", "FileDescriptorStoreMax", "OOMPolicy",
    # exec
    "User", "Group", "DynamicUser", "SupplementaryGroups", "PAMName", "WorkingDirectory",
    "RootDirectory", "Environment", "EnvironmentFile", "PassEnvironment", "UnsetEnvironment",
    "UMask", "Nice", "OOMScoreAdjust", "LoadCredential", "LoadCredentialEncrypted",
    "SetCredential", "SetCredentialEncrypted", "StandardInput", "StandardOutput", "StandardError",
    "SyslogIdentifier", "LogLevelMax", "LogRateLimitIntervalSec", "LogRateLimitBurst",
    "RuntimeDirectory", "RuntimeDirectoryMode", "RuntimeDirectoryPreserve", "StateDirectory",
    "StateDirectoryMode", "CacheDirectory", "CacheDirectoryMode", "LogsDirectory",
    "LogsDirectoryMode", "ConfigurationDirectory", "ConfigurationDirectoryMode",
    "ReadWritePaths", "ReadOnlyPaths", "InaccessiblePaths", "ExecPaths", "NoExecPaths",
    "TemporaryFileSystem", "BindPaths", "BindReadOnlyPaths", "PrivateTmp", "PrivateDevices",
    "PrivateNetwork", "PrivateIPC", "PrivateUsers", "PrivateMounts", "ProtectSystem",
    "ProtectHome", "ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs",
    "ProtectControlGroups", "ProtectClock", "ProtectHostname", "ProtectProc", "ProcSubset",
    "NoNewPrivileges", "CapabilityBoundingSet", "AmbientCapabilities", "SecureBits",
    "RestrictAddressFamilies", "RestrictNamespaces", "RestrictRealtime", "RestrictSUIDSGID",
    "RestrictFileSystems", "LockPersonality", "MemoryDenyWriteExecute", "RemoveIPC",
    "KeyringMode", "SystemCallArchitectures", "SystemCallFilter", "SystemCallErrorNumber",
    "SystemCallLog", "IPAddressAllow", "IPAddressDeny", "LimitNOFILE", "LimitNPROC",
    "LimitCORE", "LimitMEMLOCK", "CPUSchedulingPolicy", "IOSchedulingClass",
    # kill
    "KillMode", "KillSignal", "RestartKillSignal", "SendSIGHUP", "SendSIGKILL", "FinalKillSignal",
    "TimeoutStopFailureMode",
    # resource control
    "CPUQuota", "CPUWeight", "MemoryMin", "MemoryLow", "MemoryHigh", "MemoryMax",
    "MemorySwapMax", "TasksMax", "IOWeight", "DevicePolicy", "DeviceAllow", "Slice", "Delegate",
}
INSTALL = {"WantedBy", "RequiredBy", "UpheldBy", "Alias", "Also", "DefaultInstance"}
SECTIONS = {"Unit": UNIT, "Service": SERVICE, "Install": INSTALL}
REQUIRED = {
    "Service": {
        "ExecStart", "RuntimeDirectory", "ProtectSystem", "NoNewPrivileges", "ProtectHome",
        "PrivateTmp", "CapabilityBoundingSet", "RestrictAddressFamilies", "SystemCallFilter",
        "ExecReload",
    },
    "Install": {"WantedBy"},
}
BOOLEANS = {
    "DynamicUser", "NoNewPrivileges", "PrivateTmp", "PrivateDevices", "ProtectKernelTunables",
    "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups", "ProtectClock",
    "ProtectHostname", "RestrictRealtime", "RestrictSUIDSGID", "LockPersonality",
    "MemoryDenyWriteExecute", "RemoveIPC", "RemainAfterExit",
}
BOOL_VALUES = {"yes", "no", "true", "false", "on", "off", "1", "0"}


def check_unit(path):
    rel = path.relative_to(ROOT)
    section = None
    seen = {}
    text = path.read_text()
    # Continuation lines: a trailing backslash joins the next line.
    lines = text.replace("\\\n", " ").splitlines()
    for n, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        m = re.fullmatch(r"\[([A-Za-z]+)\]", line)
        if m:
            section = m.group(1)
            if section not in SECTIONS:
                err(f"{rel}:{n}", f"unknown section [{section}]")
            seen.setdefault(section, {})
            continue
        if "=" not in line:
            err(f"{rel}:{n}", f"not KEY=VALUE: {line!r}")
            continue
        if section is None:
            err(f"{rel}:{n}", "directive before any section")
            continue
        key, value = (s.strip() for s in line.split("=", 1))
        known = SECTIONS.get(section, set())
        if key not in known:
            err(f"{rel}:{n}", f"unknown directive {key} in [{section}]")
        if key in BOOLEANS and value.lower() not in BOOL_VALUES:
            err(f"{rel}:{n}", f"{key} takes a boolean, got {value!r}")
        seen.setdefault(section, {}).setdefault(key, []).append(value)
    for sec, keys in REQUIRED.items():
        for k in sorted(keys - set(seen.get(sec, {}))):
            err(rel, f"[{sec}] lacks {k}")
    svc = seen.get("Service", {})
    if svc.get("ProtectSystem") and svc["ProtectSystem"][-1] != "strict":
        err(rel, "ProtectSystem must be strict")
    if "DynamicUser" not in svc and "User" not in svc:
        err(rel, "the agent must not run as root: DynamicUser=yes or User=")
    for cmd in svc.get("ExecStart", []):
        words = cmd.split()
        if not words or not words[0].lstrip("-@:+!").startswith("/"):
            err(rel, "ExecStart must start with an absolute path")
        if "agent" not in words:
            err(rel, "ExecStart must run `idaas agent`")
        if "--http" in words:
            addr = words[words.index("--http") + 1]
            if not re.match(r"^(127\.\d+\.\d+\.\d+|\[::1\]):\d+$", addr):
                err(rel, f"--http {addr} is not a loopback address")


def systemd_verify(path):
    """`systemd-analyze verify` when the machine has it (CI containers often do not): systemd's own
    parser; the missing binary (/usr/bin/idaas) is the one complaint expected and ignored."""
    import shutil
    import tempfile

    tool = shutil.which("systemd-analyze")
    if not tool:
        return
    with tempfile.TemporaryDirectory() as d:
        copy = Path(d) / path.name
        copy.write_text(path.read_text())
        r = subprocess.run([tool, "verify", str(copy)], capture_output=True, text=True)
    for line in (r.stdout + r.stderr).splitlines():
        if not line.strip() or "is not executable" in line or "No such file" in line:
            continue
        err(path.relative_to(ROOT), f"systemd-analyze verify: {line}")


def check_systemd():
    units = sorted((DEPLOY / "systemd").glob("*.service"))
    if not units:
        err("deploy/systemd", "no unit")
    for u in units:
        check_unit(u)
        systemd_verify(u)


def main():
    for f in ("README.md", "systemd/idaas-agent.service", "kubernetes/sidecar.yaml", "kubernetes/daemonset.yaml"):
        if not (DEPLOY / f).is_file():
            err("deploy", f"missing {f}")
    check_kubernetes()
    check_systemd()
    if errors:
        print("\n".join(errors))
        print(f"check-deploy: {len(errors)} problem(s)")
        return 1
    print("check-deploy: deploy/ manifests and unit are well-formed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
