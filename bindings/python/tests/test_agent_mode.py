"""Agent mode (docs/protocol/agent.md §6) from Python: a client whose configuration names the
host agent's socket gets its tokens and API keys through `idaas agent`, with the same API and the
same errors, and the emulator sees one token request for all of them."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

import idaas
from conftest import API_KEY, ROOT


def cli_bin() -> str:
    if os.environ.get("IDAAS_CLI_BIN"):
        return os.environ["IDAAS_CLI_BIN"]
    return str(Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug" / "idaas")


@pytest.fixture
def agent(emulator, tmp_path):
    sock = tmp_path / "run" / "agent.sock"
    env = {k: v for k, v in os.environ.items() if k != "IDAAS_AGENT_SOCKET"}
    proc = subprocess.Popen(
        [cli_bin(), "--config", str(emulator.config_path), "agent", "--socket", str(sock)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while not sock.exists():
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode(errors="replace"))
        assert time.monotonic() < deadline, "the agent did not start"
        time.sleep(0.02)
    yield sock
    proc.terminate()
    proc.wait(10)


def test_tokens_and_api_keys_through_the_agent(emulator, agent):
    emulator.clear_requests()
    with idaas.Client.from_dict({"agentSocket": str(agent)}) as c:
        tokens = set()

        def read():
            for _ in range(50):
                tokens.add(c.bearer_token())

        threads = [threading.Thread(target=read) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(tokens) == 1
        with c.pam() as pam:
            assert pam.get_api_key("openai_prod_key") == API_KEY
            with pytest.raises(idaas.ClientError) as e:
                pam.get_api_key("no_such_credential")
            assert e.value.http_status == 404 and e.value.request_id
            with pytest.raises(idaas.ConfigError) as e:  # not served by the agent (agent.md §2.1)
                pam.revoke_authentication_token("x")
    assert emulator.token_requests() == 1


def test_the_environment_variable_switches_to_the_agent(emulator, agent, monkeypatch):
    monkeypatch.setenv("IDAAS_AGENT_SOCKET", str(agent))
    with idaas.Client.from_file(emulator.config_path) as c:
        direct = json.loads(json.dumps(c.credential()._asdict()))
        assert direct["access_token"]
    monkeypatch.setenv("IDAAS_AGENT_SOCKET", str(agent) + ".missing")
    with idaas.Client.from_file(emulator.config_path) as c:
        with pytest.raises(idaas.TransportError) as e:
            c.bearer_token()
    assert "agent.sock.missing" in str(e.value)
