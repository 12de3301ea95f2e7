"""Every Developer API operation against the emulator, the API-key cache, the 3LO poll, paging."""

from __future__ import annotations

import threading
import urllib.parse

import pytest

import idaas
from conftest import API_KEY


@pytest.fixture
def user_pam(client):
    """A PAM client with a user-bound token (the client's token exchanged), for 3LO operations."""
    cred = client.exchange_token(client.bearer_token())
    with client.pam(access_token=cred.access_token) as p:
        yield p


def answer(emulator, url: str, status: str) -> None:
    """Plays the user: completes or fails the session behind an authorization URL."""
    sid = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)["session"][0]
    emulator.set_session(sid, status)


def test_get_api_key(pam):
    assert pam.get_api_key("openai_prod_key") == API_KEY
    assert pam.get_api_key("partner_oauth_client") is None
    with pytest.raises(idaas.ClientError) as e:
        pam.get_api_key("no_such_credential")
    assert e.value.http_status == 404 and e.value.server_code and e.value.request_id
    assert e.value.error_class == "SERVER_REPLY" and e.value.code == idaas.CODES["CLIENT_ERROR"]
    with pytest.raises(idaas.InvalidArgumentError):
        pam.get_api_key(" ")
    with pytest.raises(TypeError):
        pam.get_api_key()


def test_api_key_cache(client, faults):
    with client.pam(api_key_cache=idaas.ApiKeyCacheOptions(ttl=600)) as cached:
        assert cached.get_api_key("openai_prod_key") == API_KEY
        faults.add_fault("devapi:ObtainCredential=status/404:10")
        assert cached.get_api_key("openai_prod_key") == API_KEY  # from memory
        cached.invalidate_api_key("openai_prod_key")
        with pytest.raises(idaas.ClientError):
            cached.get_api_key("openai_prod_key")
        faults.clear_faults()
        cached.invalidate_all_api_keys()
    with client.pam(api_key_cache=True) as defaults:
        assert defaults.get_api_key("openai_prod_key") == API_KEY
    with pytest.raises(ValueError):
        client.pam(api_key_cache=idaas.ApiKeyCacheOptions(ttl=-1))
    with pytest.raises(AttributeError):
        client.pam(api_key_cache=object())


def test_static_token_rejected_is_auth_401(client):
    with client.pam(access_token="not-a-valid-token") as p:
        with pytest.raises(idaas.AuthError) as e:
            p.get_api_key("openai_prod_key")
    assert e.value.http_status == 401 and e.value.error_class == "AUTHENTICATION"


def test_config_without_developer_api_endpoint(emulator):
    cfg = dict(emulator.config)
    del cfg["developerApiEndpoint"]
    with idaas.Client.from_dict(cfg) as c:
        with pytest.raises(idaas.ConfigError):
            c.pam()


def test_fetch_oauth_v1_and_v2(pam):
    assert pam.fetch_oauth_authentication_token("google_drive_reader")
    assert pam.fetch_oauth_authentication_token(
        "google_drive_reader", "https://www.googleapis.com/auth/drive.readonly"
    )
    with pytest.raises(idaas.ClientError):
        pam.fetch_oauth_authentication_token("no_such_provider")
    r = pam.fetch_oauth_authentication_token_v2("google_drive_reader", "m2m")
    assert isinstance(r, idaas.OAuthAuthenticationTokenResponse)
    assert r.oauth_access_token_content.access_token_value
    assert r.oauth_access_token_content.access_token_value not in repr(r)
    assert r.oauth_authorization_session is None and r.credential_provider_id
    r2 = pam.fetch_oauth_authentication_token_v2(
        "google_drive_reader",
        "m2m",
        scope="https://www.googleapis.com/auth/drive.readonly",
        force_authentication=True,
        custom_parameters={"prompt": "consent"},
    )
    assert r2.oauth_access_token_content.access_token_value
    with pytest.raises(idaas.InvalidArgumentError) as e:
        pam.fetch_oauth_authentication_token_v2("google_drive_reader", "3lo")
    assert e.value.server_code == "invalid_authorization_flow"
    with pytest.raises(TypeError):
        pam.fetch_oauth_authentication_token_v2("google_drive_reader", "m2m", scopes="x")


def test_3lo_session(user_pam):
    with pytest.raises(idaas.ClientError) as e:
        user_pam.fetch_oauth_authentication_token_v2("google_drive_user", "m2m")
    assert e.value.server_code == "authorization_flow_mismatch"
    r = user_pam.fetch_oauth_authentication_token_v2(
        "google_drive_user", "user_federation", force_authentication=True
    )
    assert r.oauth_access_token_content is None
    s = r.oauth_authorization_session
    assert s.session_uri and s.authorization_url
    state = user_pam.get_oauth_authorization_session(s.session_uri)
    assert isinstance(state, idaas.OAuthAuthorizationSessionResponse)
    assert state.session_status == "pending"
    with pytest.raises(idaas.ClientError) as e:
        user_pam.get_oauth_authorization_session("urn:ietf:params:oauth:request_uri:nope")
    assert e.value.http_status == 404


def test_poll(emulator, user_pam):
    urls = []

    def approve(url):
        urls.append(url)
        answer(emulator, url, "completed")

    ok = user_pam.poll_oauth_authentication_token(
        "google_drive_user", approve, interval=0.05, max_polls=40, force_authentication=True
    )
    assert len(urls) == 1 and ok.oauth_access_token_content.access_token_value

    called = []
    now = user_pam.poll_oauth_authentication_token("google_drive_reader", called.append)
    assert called == [] and now.oauth_access_token_content.access_token_value

    with pytest.raises(idaas.AuthError):
        user_pam.poll_oauth_authentication_token(
            "google_drive_user",
            lambda url: answer(emulator, url, "failed"),
            interval=0.05,
            max_polls=40,
            force_authentication=True,
        )
    with pytest.raises(idaas.TimeoutError) as e:
        user_pam.poll_oauth_authentication_token(
            "google_drive_user", lambda url: None, interval=0.02, max_polls=3, force_authentication=True
        )
    assert e.value.server_code == "polling_timeout"
    assert isinstance(e.value, TimeoutError)  # also the builtin
    with pytest.raises(TypeError):
        user_pam.poll_oauth_authentication_token("google_drive_user", "not callable")
    with pytest.raises(ValueError):
        user_pam.poll_oauth_authentication_token("google_drive_user", print, interval=-1)


def test_poll_cancel_and_raising_callback(user_pam):
    cancel = idaas.CancelToken()
    threading.Timer(0.2, cancel.cancel).start()
    with pytest.raises(idaas.CancelledError):
        user_pam.poll_oauth_authentication_token(
            "google_drive_user", lambda url: None, interval=0.05, max_polls=1000, force_authentication=True, cancel=cancel
        )
    assert cancel.cancelled

    def boom(url):
        raise RuntimeError("no browser here")

    with pytest.raises(RuntimeError, match="no browser here"):
        user_pam.poll_oauth_authentication_token("google_drive_user", boom, force_authentication=True)


def test_pam_with_a_provider_callable(client):
    calls = []

    def provider():
        calls.append(1)
        return client.bearer_token("urn:cloud:idaas:pam|.all")

    with client.pam(provider=provider) as p:
        assert p.get_api_key("openai_prod_key") == API_KEY
        assert p.get_api_key("openai_prod_key") == API_KEY
    assert len(calls) == 2  # asked before every request
    with client.pam(provider=lambda: {"access_token": "not-a-valid-token"}) as p:
        with pytest.raises(idaas.AuthError):
            p.get_api_key("openai_prod_key")

    def failing():
        raise LookupError("vault down")

    with client.pam(provider=failing) as p:
        with pytest.raises(idaas.CredentialError, match="LookupError: vault down"):
            p.get_api_key("openai_prod_key")
    with pytest.raises(TypeError):
        client.pam(provider="not callable")
    with pytest.raises(TypeError):
        client.pam(provider=provider, access_token="x")
    with pytest.raises(idaas.InvalidArgumentError):
        client.pam(access_token="bad token\n")


def test_jwt_lifecycle(pam):
    g = pam.generate_jwt_authentication_token(
        "partner_jwt",
        "svc-a",
        ["https://partner.example.com"],
        custom_claims={"tenant": "t1", "n": 3, "nested": {"a": [1, 2]}},
        expiration=600,
        include_derived_short_token=True,
    )
    assert isinstance(g, idaas.JwtTokenResponse)
    jwt, dst = g.jwt_content.jwt_value, g.jwt_content.derived_short_token
    assert jwt and dst and g.authentication_token_id and g.consumer_id
    assert jwt not in repr(g) and dst not in repr(g)
    assert pam.obtain_jwt_authentication_token(g.consumer_id, g.authentication_token_id).jwt_value == jwt
    assert pam.obtain_jwt_authentication_token_by_derived_short_token(dst).jwt_value == jwt
    assert pam.validate_authentication_token(jwt) is True
    pam.revoke_authentication_token(jwt)
    assert pam.validate_authentication_token(jwt) is False
    pam.reinstate_authentication_token(jwt, "jwt")
    assert pam.validate_authentication_token(jwt, "jwt") is True
    pam.revoke_authentication_token_by_consumer(g.consumer_id, "partner_jwt")
    assert pam.validate_authentication_token(jwt) is False
    pam.reinstate_authentication_token_by_consumer(g.consumer_id, "partner_jwt")
    assert pam.validate_authentication_token(jwt) is True
    with pytest.raises(TypeError):
        pam.generate_jwt_authentication_token("partner_jwt", "svc-a", "not-a-list")
    with pytest.raises(TypeError):  # json's own error for a value it cannot serialize
        pam.generate_jwt_authentication_token("partner_jwt", "svc-a", ["a"], custom_claims={"x": object()})
    with pytest.raises(idaas.ClientError):
        pam.obtain_jwt_authentication_token("consumer", "atntkn_nope")


def test_list_pages_and_iterator(pam):
    a = pam.generate_jwt_authentication_token("partner_jwt", "svc-list", ["https://p.example.com"])
    pam.generate_jwt_authentication_token("partner_jwt", "svc-list", ["https://p.example.com"])
    consumer = a.consumer_id
    page = pam.list_authentication_tokens(consumer, "partner_jwt", max_results=1)
    assert isinstance(page, idaas.AuthenticationTokenPage)
    assert len(page.entities) == 1 and page.next_token
    assert isinstance(page.entities[0], idaas.AuthenticationToken)
    nxt = pam.list_authentication_tokens(consumer, "partner_jwt", max_results=1, next_token=page.next_token)
    assert nxt.entities[0].authentication_token_id != page.entities[0].authentication_token_id
    everything = list(pam.list_all_authentication_tokens(consumer, "partner_jwt", max_results=1))
    assert len(everything) == page.total_count >= 2
    assert [t.authentication_token_id for t in everything] == [
        t.authentication_token_id for t in pam.list_all_authentication_tokens(consumer, "partner_jwt")
    ]
    filtered = pam.list_authentication_tokens(consumer, "partner_jwt", revoked=False, expired=False)
    assert all(t.revoked is False for t in filtered.entities)
    with pytest.raises(OverflowError):
        pam.list_authentication_tokens(consumer, "partner_jwt", max_results=-1)
    with pytest.raises(idaas.InvalidArgumentError):
        pam.list_authentication_tokens(consumer, "partner_jwt", max_results=0)


def test_pam_repr_and_close(client):
    p = client.pam()
    assert p.endpoint.startswith("https://127.0.0.1:") and p.endpoint in repr(p)
    with p:
        pass
    assert p.closed and "closed" in repr(p)
