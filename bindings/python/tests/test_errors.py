"""Every error class of the library surfaces as its exception with its fields; the hierarchy."""

from __future__ import annotations

import time

import pytest

import idaas


def test_hierarchy():
    pairs = {
        idaas.InvalidArgumentError: idaas.ArgumentError,
        idaas.ReentrantCallError: idaas.ArgumentError,
        idaas.ClosedError: idaas.ArgumentError,
        idaas.CredentialError: idaas.AuthenticationError,
        idaas.AuthError: idaas.AuthenticationError,
        idaas.ClientError: idaas.ServerReplyError,
        idaas.ServerError: idaas.ServerReplyError,
        idaas.UnexpectedResponseError: idaas.ServerReplyError,
        idaas.TransportError: idaas.NetworkError,
        idaas.TimeoutError: idaas.NetworkError,
    }
    for sub, base in pairs.items():
        assert issubclass(sub, base) and issubclass(base, idaas.IDaaSError)
    for c in (idaas.ConfigError, idaas.CancelledError, idaas.InternalError):
        assert issubclass(c, idaas.IDaaSError)
    assert issubclass(idaas.ArgumentError, ValueError)
    assert issubclass(idaas.TimeoutError, TimeoutError)


def test_config_errors(tmp_path):
    with pytest.raises(idaas.ConfigError) as e:
        idaas.Client.from_file(tmp_path / "missing.json")
    assert e.value.code == idaas.CODES["CONFIG"] and e.value.error_class == "CONFIG"
    assert not e.value.retryable
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(idaas.ConfigError):
        idaas.Client(bad)
    with pytest.raises(idaas.ConfigError) as e:
        idaas.Client.from_dict({"idaasInstanceId": "x"})
    assert "clientId" in str(e.value) or "client" in str(e.value).lower()
    with pytest.raises(idaas.ConfigError):
        idaas.Client.from_json("[]")


def test_credential_error_missing_secret_variable(emulator, monkeypatch):
    monkeypatch.delenv(emulator.secret_var)
    with idaas.Client.from_dict(emulator.config) as c:
        with pytest.raises(idaas.CredentialError) as e:
            c.bearer_token()
    assert e.value.error_class == "AUTHENTICATION" and emulator.secret_var in str(e.value)


def test_auth_error_wrong_secret(emulator, monkeypatch):
    monkeypatch.setenv(emulator.secret_var, "wrong-secret-value")
    with idaas.Client.from_dict(emulator.config) as c:
        with pytest.raises(idaas.AuthError) as e:
            c.bearer_token()
    assert e.value.server_code == "invalid_client" and e.value.http_status == 401
    assert "wrong-secret-value" not in str(e.value) and "wrong-secret-value" not in repr(e.value)


def test_server_unexpected_transport(client, faults):
    pam = client.pam()
    client.bearer_token("urn:cloud:idaas:pam|.all")
    faults.add_fault("devapi:ObtainCredential=status/500:10")
    with pytest.raises(idaas.ServerError) as e:
        pam.get_api_key("openai_prod_key")
    assert e.value.http_status == 500 and e.value.retryable and e.value.error_class == "SERVER_REPLY"
    faults.clear_faults()
    faults.add_fault("devapi:ObtainCredential=non-json:10")
    with pytest.raises(idaas.UnexpectedResponseError):
        pam.get_api_key("openai_prod_key")
    faults.clear_faults()
    faults.add_fault("devapi:ObtainCredential=reset:10")
    with pytest.raises(idaas.TransportError) as e:
        pam.get_api_key("openai_prod_key")
    assert e.value.error_class == "NETWORK" and e.value.retryable


def test_transport_error_nothing_listening(emulator):
    cfg = dict(emulator.config)
    cfg["tokenEndpoint"] = "https://127.0.0.1:9/token"
    with idaas.Client.from_dict(cfg) as c:
        with pytest.raises(idaas.TransportError):
            c.bearer_token()


def test_timeout_error(emulator, faults):
    with idaas.Client.from_dict(emulator.config_with(readTimeout=2000, callTimeout=2000)) as c:
        pam = c.pam()
        c.bearer_token("urn:cloud:idaas:pam|.all")
        faults.add_fault("devapi:ObtainCredential=latency/3000:1")
        t0 = time.monotonic()
        with pytest.raises(idaas.TimeoutError) as e:
            pam.get_api_key("openai_prod_key")
        assert time.monotonic() - t0 < 2.9
    assert e.value.error_class == "NETWORK" and e.value.code == idaas.CODES["TIMEOUT"]


def test_plain_http_to_a_remote_host_is_never_used(emulator):
    """A configured http:// endpoint of another host is rewritten to https:// (SECURITY.md): the
    secret is never sent in clear. The host is under .invalid, so the attempt fails at DNS."""
    cfg = dict(emulator.config)
    cfg["tokenEndpoint"] = "http://idaas.example.invalid/token"
    with idaas.Client.from_dict(cfg) as c:
        with pytest.raises(idaas.TransportError) as e:
            c.bearer_token()
    assert "https://idaas.example.invalid/token" in str(e.value)
    assert emulator.info["clientSecret"] not in str(e.value)


def test_a_panic_in_the_core_is_an_internal_error():
    from idaas import _native

    with pytest.raises(idaas.InternalError) as e:
        _native._debug_panic()
    assert isinstance(e.value, Exception)  # not PyO3's BaseException-derived PanicException
    assert "a bug in idaas" in str(e.value) and e.value.error_class == "INTERNAL"
