"""pytest fixtures: the emulator binary on a free loopback port (--ready-file), its client
configuration written to a file, the client-secret variable set, and its control API."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

import pytest

ROOT = Path(__file__).resolve().parents[3]
API_KEY = "sk-EXAMPLE0123456789abcdef"


def emulator_bin() -> str:
    if os.environ.get("IDAAS_EMULATOR_BIN"):
        return os.environ["IDAAS_EMULATOR_BIN"]
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return str(target / "debug" / "idaas-emulator")


class Emulator:
    """One emulator process and what its ready file says."""

    def __init__(self, *args: str) -> None:
        bin_ = emulator_bin()
        if not os.path.exists(bin_):
            raise RuntimeError(f"emulator binary not found: {bin_} (cargo build -p idaas-emulator, or set IDAAS_EMULATOR_BIN)")
        self.dir = Path(tempfile.mkdtemp(prefix="idaas-py-test-"))
        ready = self.dir / "ready.json"
        self.proc = subprocess.Popen(
            [bin_, "--port", "0", "--ready-file", str(ready), "--exit-on-stdin-eof", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while not ready.exists():
            if self.proc.poll() is not None:
                raise RuntimeError(f"emulator exited: {self.proc.stderr.read().decode(errors='replace')}")
            if time.monotonic() > deadline:
                self.proc.kill()
                raise RuntimeError("emulator not ready after 30 s")
            time.sleep(0.02)
        self.info: Dict[str, Any] = json.loads(ready.read_text())
        self.config: Dict[str, Any] = self.info["clientConfigs"]["CLIENT_SECRET_POST"]
        self.config_path = self.dir / "client-config.json"
        self.config_path.write_text(json.dumps(self.config))
        self.secret_var = self.config["authnConfiguration"]["clientSecretEnvVarName"]
        os.environ[self.secret_var] = self.info["clientSecret"]
        self.base = self.info["httpBaseUrl"]

    def config_for(self, method: str) -> Dict[str, Any]:
        return self.info["clientConfigs"][method]

    def control(self, method: str, path: str, body: Optional[dict] = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("content-type", "application/json")
        with urllib.request.urlopen(req, timeout=10) as r:
            text = r.read().decode()
        return json.loads(text) if text else None

    def add_fault(self, spec: str) -> None:
        self.control("POST", "/_emulator/faults", {"spec": spec})

    def clear_faults(self) -> None:
        self.control("DELETE", "/_emulator/faults")

    def requests(self, path_contains: str = "") -> list:
        """The requests the emulator recorded (each a dict: method, path, headers, body, form)."""
        q = f"?path_contains={urllib.parse.quote(path_contains)}" if path_contains else ""
        return self.control("GET", f"/_emulator/requests{q}")["requests"]

    def clear_requests(self) -> None:
        self.control("DELETE", "/_emulator/requests")

    def set_session(self, session_id: str, status: str) -> None:
        self.control("POST", f"/_emulator/sessions/{urllib.parse.quote(session_id)}", {"status": status})

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def token_requests(self) -> int:
        """How many requests reached the token endpoint so far."""
        return len(self.requests("/oauth2/token"))

    def config_with(self, **http: Any) -> Dict[str, Any]:
        """The client configuration with `httpConfiguration` members added (e.g. readTimeout)."""
        cfg = json.loads(json.dumps(self.config))
        cfg.setdefault("httpConfiguration", {}).update(http)
        return cfg


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    em = Emulator()
    yield em
    em.stop()


@pytest.fixture
def faults(emulator: Emulator) -> Iterator[Emulator]:
    """The emulator, with every fault cleared after the test."""
    yield emulator
    emulator.clear_faults()


@pytest.fixture
def client(emulator: Emulator):
    import idaas

    with idaas.Client.from_file(emulator.config_path) as c:
        yield c


@pytest.fixture
def pam(client):
    with client.pam() as p:
        yield p
