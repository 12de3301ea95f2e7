"""examples/python runs against the emulator as the README shows it."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import ROOT


def run(*args: str, env=None):
    return subprocess.run(
        [sys.executable, str(ROOT / "examples" / "python" / "jwt_lifecycle.py"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_jwt_lifecycle_example(emulator):
    r = run(str(emulator.config_path))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("bearer token: ")
    assert lines[1].startswith("API key of openai_prod_key: sk-EXA")
    assert [line.strip() for line in lines[-5:]] == [
        "valid: True",
        "revoked",
        "valid: False",
        "reinstated",
        "valid: True",
    ]
    assert emulator.info["clientSecret"] not in r.stdout + r.stderr


def test_example_failures_and_usage(emulator, tmp_path):
    assert run().returncode == 2
    r = run(str(tmp_path / "missing.json"))
    assert r.returncode == 1 and "ConfigError" in r.stderr
    env = dict(os.environ, **{emulator.secret_var: "wrong"})
    r = run(str(emulator.config_path), env=env)
    assert r.returncode == 1 and "AuthError" in r.stderr and "request id" in r.stderr
