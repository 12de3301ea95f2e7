"""Plugins as Python callables; the library's records in Python's logging, without secrets;
secrets never in repr/str."""

from __future__ import annotations

import logging
import threading

import pytest

import idaas
from conftest import API_KEY


def plugin_config(name: str) -> dict:
    return {
        "idaasInstanceId": "idaas_test",
        "clientId": "app_test",
        "issuer": "http://127.0.0.1:9/api/v2/iauths_system/oauth2",
        "tokenEndpoint": "http://127.0.0.1:9/api/v2/iauths_system/oauth2/token",
        "authnConfiguration": {"authnMethod": "PLUGIN", "pluginName": name},
    }


def test_plugin_with_lifetime_is_cached_per_scope():
    calls = []

    def plugin(scope):
        calls.append((scope, threading.current_thread().name))
        return {"access_token": f"plugin-token-{len(calls)}", "expires_in": 3600}

    with idaas.Client.from_dict(plugin_config("py"), plugins={"py": plugin}) as c:
        t = c.bearer_token()
        assert t == "plugin-token-1" and c.bearer_token() == t
        assert c.bearer_token("api.example.com|s1") == "plugin-token-2"
        assert [s for s, _ in calls] == ["urn:cloud:idaas:pam|.all", "api.example.com|s1"]
        cred = c.credential()
        assert cred.expires_in == 3600


def test_plugin_returning_a_string_is_asked_every_time():
    n = iter(range(1, 100))
    with idaas.Client.from_dict(plugin_config("s"), plugins={"s": lambda scope: f"t{next(n)}"}) as c:
        assert c.bearer_token() == "t1"
        assert c.bearer_token() == "t2"


@pytest.mark.parametrize(
    "ret, text",
    [
        (None, "neither a token string nor a credential mapping"),
        ({"expires_in": 5}, "access_token is missing"),
        ("bad token\n", "returned"),
        ({"access_token": "x", "expires_in": object()}, "not JSON"),
    ],
)
def test_plugin_bad_returns_are_credential_errors(ret, text):
    with idaas.Client.from_dict(plugin_config("b"), plugins={"b": lambda scope: ret}) as c:
        with pytest.raises(idaas.CredentialError) as e:
            c.bearer_token()
    assert text in str(e.value) and '"b"' in str(e.value)


def test_plugin_exception_is_a_credential_error():
    def plugin(scope):
        raise KeyError("vault unavailable\x1b[31m")

    with idaas.Client.from_dict(plugin_config("e"), plugins={"e": plugin}) as c:
        with pytest.raises(idaas.CredentialError) as e:
            c.bearer_token()
    msg = str(e.value)
    assert "KeyError" in msg and "vault unavailable" in msg and "\x1b" not in msg


def test_plugin_calling_its_own_client_is_a_reentrant_call():
    box = {}

    def plugin(scope):
        try:
            box["client"].bearer_token()
        except idaas.ReentrantCallError as e:
            box["err"] = e
            raise
        return "never"

    c = idaas.Client.from_dict(plugin_config("r"), plugins={"r": plugin})
    box["client"] = c
    with pytest.raises(idaas.CredentialError):
        c.bearer_token()
    assert box["err"].code == idaas.CODES["REENTRANT_CALL"]
    c.close()
    box.clear()


def test_missing_plugin_is_a_config_error():
    with pytest.raises(idaas.ConfigError):
        idaas.Client.from_dict(plugin_config("absent"))
    with pytest.raises(TypeError):
        idaas.Client.from_dict(plugin_config("x"), plugins={"x": "not callable"})


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(level=1)
        self.records = []

    def emit(self, record):
        self.records.append(record)


def test_logging_has_records_and_no_secret(emulator, faults):
    logger = logging.getLogger("idaas.test")
    logger.setLevel(1)
    cap = Capture()
    logger.addHandler(cap)
    try:
        faults.add_fault("token=status/503:1")  # one retried failure
        with idaas.Client.from_file(emulator.config_path, logger=logger) as c:
            token = c.bearer_token()
            key = c.pam().get_api_key("openai_prod_key")
            c.exchange_token(token)
        assert key == API_KEY
        assert cap.records, "no record logged"
        text = "\n".join(f"{r.levelname} {r.getMessage()} {getattr(r, 'idaas_target', '')}" for r in cap.records)
        # the retried 503 and the refresh are logged, with the module that logged them
        assert any("503" in r.getMessage() and "retry" in r.getMessage() for r in cap.records), text
        assert all(getattr(r, "idaas_target", "").startswith("idaas") for r in cap.records), text
        for secret in (emulator.info["clientSecret"], token, API_KEY):
            assert secret not in text
    finally:
        logger.removeHandler(cap)


def test_default_logger_and_no_logger(emulator, caplog):
    caplog.set_level(1, logger="idaas")
    with idaas.Client.from_file(emulator.config_path) as c:
        c.bearer_token("api.example.com|write:file")
    assert any(r.name == "idaas" for r in caplog.records)
    caplog.clear()
    with idaas.Client.from_file(emulator.config_path, logger=False) as c:
        c.bearer_token("api.example.com|write:file")
    assert not [r for r in caplog.records if r.name == "idaas"]
    with pytest.raises(TypeError):
        idaas.Client.from_file(emulator.config_path, logger=True)


def test_no_secret_in_repr_or_str(emulator, client):
    secret = emulator.info["clientSecret"]
    token = client.bearer_token()
    for obj in (client, client.pam(), client.credential(), idaas.aio.AsyncClient.wrap(client)):
        assert secret not in repr(obj) and token not in repr(obj) and token not in str(obj)


import idaas.aio  # noqa: E402
