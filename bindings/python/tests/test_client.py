"""idaas.Client: constructors, cached tokens per scope, credentials, token exchange, close."""

from __future__ import annotations

import json

import pytest

import idaas


def test_constructors_agree(emulator, monkeypatch):
    monkeypatch.setenv("CLOUD_IDAAS_CONFIG_PATH", str(emulator.config_path))
    clients = [
        idaas.Client(),
        idaas.Client(emulator.config_path),
        idaas.Client(str(emulator.config_path)),
        idaas.Client.from_file(emulator.config_path),
        idaas.Client.from_default(),
        idaas.Client.from_dict(emulator.config),
        idaas.Client.from_json(json.dumps(emulator.config)),
    ]
    for c in clients:
        assert c.instance_id == emulator.info["instanceId"]
        assert c.client_id == emulator.config["clientId"]
        assert c.scope == emulator.config["scope"]
        assert c.bearer_token()
        c.close()


def test_bearer_token_is_cached_per_scope(emulator, client):
    emulator.clear_requests()
    t = client.bearer_token()
    assert client.bearer_token() == t
    assert client.bearer_token(client.scope) == t
    assert client.cached_bearer_token() == t
    assert emulator.token_requests() == 1
    other = client.bearer_token("api.example.com|read:file")
    assert other != t
    assert client.bearer_token("api.example.com|read:file") == other
    assert emulator.token_requests() == 2
    assert client.cached_bearer_token("never.asked|x") is None


def test_credential_is_a_read_only_value_without_the_token_in_repr(client):
    c = client.credential()
    assert isinstance(c, idaas.Credential)
    assert c.access_token == client.bearer_token()
    assert c.token_type == "Bearer"
    assert c.expires_at > 0 and c.expires_in > 0
    assert c.access_token not in repr(c) and c.access_token not in str(c)
    with pytest.raises(Exception):
        c.access_token = "x"  # frozen
    scoped = client.credential("api.example.com|read:file")
    assert scoped.access_token == client.bearer_token("api.example.com|read:file")


def test_token_exchange(client):
    subject = client.bearer_token()
    c = client.exchange_token(subject)
    assert isinstance(c, idaas.Credential)
    assert c.access_token and c.access_token != subject
    assert c.issued_token_type == idaas.TOKEN_TYPE_ACCESS_TOKEN
    idt = client.exchange_token(
        subject, idaas.TOKEN_TYPE_ACCESS_TOKEN, requested_token_type=idaas.TOKEN_TYPE_ID_TOKEN
    )
    assert idt.issued_token_type == idaas.TOKEN_TYPE_ID_TOKEN
    with pytest.raises(idaas.InvalidArgumentError):
        client.exchange_token(subject, actor_token="a")  # actor without its type
    with pytest.raises(idaas.InvalidArgumentError):
        client.exchange_token("")


def test_every_auth_method_of_the_emulator(emulator):
    # (PRIVATE_KEY_JWT and PCA need a registered key from the environment: covered by the core.)
    for method in ["CLIENT_SECRET_BASIC", "CLIENT_SECRET_JWT", "OIDC"]:
        with idaas.Client.from_dict(emulator.config_for(method)) as c:
            assert c.bearer_token(), method


def test_close_and_context_manager(emulator):
    with idaas.Client.from_file(emulator.config_path) as c:
        assert not c.closed
        c.bearer_token()
        assert "closed" not in repr(c)
    assert c.closed
    assert "closed" in repr(c)
    for call in (c.bearer_token, c.credential, c.pam, lambda: c.instance_id, c.cached_bearer_token):
        with pytest.raises(idaas.ClosedError) as e:
            call()
        assert isinstance(e.value, idaas.ArgumentError)
    c.close()  # idempotent


def test_pam_keeps_working_after_its_client_is_closed(emulator):
    c = idaas.Client.from_file(emulator.config_path)
    p = c.pam()
    c.close()
    assert p.get_api_key("openai_prod_key")
    p.close()
    with pytest.raises(idaas.ClosedError):
        p.get_api_key("openai_prod_key")


def test_bad_arguments_are_type_errors(client):
    with pytest.raises(TypeError):
        client.bearer_token(42)
    with pytest.raises(TypeError):
        idaas.Client.from_dict(emulator_config := {"x": object()})  # not JSON
    del emulator_config
    with pytest.raises(TypeError):
        idaas.Client(plugins=["not", "a", "dict"])


def test_results_are_read_only_values(client):
    import pickle

    c = client.credential()
    assert isinstance(c, idaas.Result)
    with pytest.raises(AttributeError):
        c.access_token = "x"
    with pytest.raises(AttributeError):
        del c.token_type
    with pytest.raises(AttributeError):
        c.new_attribute = 1
    same = idaas.Credential(**c._asdict())
    assert same == c and hash(same) == hash(c)
    assert pickle.loads(pickle.dumps(c)) == c
    assert c != idaas.Credential(**{**c._asdict(), "access_token": "other"})
    page = idaas.AuthenticationTokenPage._from_dict(
        {"entities": [{"revoked": True}], "totalCount": 1, "maxResults": 10, "nextToken": None}
    )
    assert page.entities[0] == idaas.AuthenticationToken(revoked=True)
    assert "AuthenticationToken(" in repr(page)
