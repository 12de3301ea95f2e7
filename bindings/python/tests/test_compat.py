"""idaas.compat against the emulator: the code samples of the reference SDKs' READMEs
(cloud-idaas-core, cloud-idaas-pam-client), written again here with the same calls, where only the
import line differs; the reference's exception names and None returns; and the places where
idaas.compat deliberately behaves better than the references (PKCS#1 keys, timeouts applied,
refresh ahead of expiry)."""

from __future__ import annotations

import json
import time
import urllib.parse
import warnings

import pytest

import idaas
from conftest import API_KEY, ROOT, Emulator

AT = "urn:ietf:params:oauth:token-type:access_token"


@pytest.fixture
def factory(emulator, monkeypatch):
    """The reference's default config lookup pointed at the emulator's configuration file, and a
    fresh factory (it is a process-wide singleton)."""
    from idaas.compat import IDaaSCredentialProviderFactory

    monkeypatch.setenv("CLOUD_IDAAS_CONFIG_PATH", str(emulator.config_path))
    IDaaSCredentialProviderFactory.reset()
    yield IDaaSCredentialProviderFactory
    IDaaSCredentialProviderFactory.reset()


def _answer(emulator: Emulator, url: str, status: str) -> None:
    """Plays the user: completes or fails the session behind an authorization URL."""
    session = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)["session"][0]
    emulator.set_session(session, status)


# =============================================================================================
# cloud-idaas-core README
# =============================================================================================


def test_core_readme_init_with_config_path(factory, emulator):
    from idaas.compat import IDaaSCredentialProviderFactory

    IDaaSCredentialProviderFactory.init(str(emulator.config_path))
    assert IDaaSCredentialProviderFactory.get_idaas_credential_provider().get_bearer_token()


def test_core_readme_get_access_token(factory, emulator):
    from idaas.compat import IDaaSCredentialProviderFactory

    IDaaSCredentialProviderFactory.init()
    credential_provider = IDaaSCredentialProviderFactory.get_idaas_credential_provider()
    access_token = credential_provider.get_bearer_token()
    assert access_token
    # the provider of the configured scope is one object, whichever way it is asked for
    scope = emulator.config["scope"]
    credential_provider_2 = IDaaSCredentialProviderFactory.get_idaas_credential_provider(scope)
    assert credential_provider_2 is credential_provider
    assert IDaaSCredentialProviderFactory.get_idaas_credential_provider_by_scope(scope) is credential_provider
    assert credential_provider_2.get_bearer_token() == access_token  # cached


def test_core_readme_code_example(factory, capsys):
    from idaas.compat import IDaaSCredentialProviderFactory

    def main():
        # Initialize the factory with configuration
        IDaaSCredentialProviderFactory.init()
        # scope format: <audience>|<scope>
        scope = "api.example.com|read:file"
        # Get credential provider with scope specified by parameter
        credential_provider = IDaaSCredentialProviderFactory.get_idaas_credential_provider(scope)
        access_token = credential_provider.get_bearer_token()
        print(access_token)

    main()
    assert capsys.readouterr().out.strip()


def test_core_readme_token_exchange(factory, capsys):
    from idaas.compat import IDaaSCredentialProviderFactory, OAuth2Constants

    def main(subject_token):
        IDaaSCredentialProviderFactory.init()
        scope = "api.example.com|read:file"
        token_exchange_provider = IDaaSCredentialProviderFactory.get_idaas_token_exchange_credential_provider_by_scope(
            scope
        )
        access_token = token_exchange_provider.get_issued_token(
            subject_token,
            OAuth2Constants.ACCESS_TOKEN_TYPE_VALUE,
        )
        print(access_token)

    with idaas.Client() as c:  # a subject token to exchange
        subject_token = c.bearer_token()
    main(subject_token)
    issued = capsys.readouterr().out.strip()
    assert issued and issued != subject_token

    # the default-scope provider, get_credential and requested_token_type
    provider = IDaaSCredentialProviderFactory.get_idaas_token_exchange_credential_provider()
    credential = provider.get_credential(
        subject_token=subject_token,
        subject_token_type=OAuth2Constants.ACCESS_TOKEN_TYPE_VALUE,
        requested_token_type=OAuth2Constants.ACCESS_TOKEN_TYPE_VALUE,
    )
    assert credential.get_access_token() and credential.get_token_type()
    assert credential.issued_token_type == AT
    assert credential.expires_at > time.time()


def test_core_credential_object(factory):
    from idaas.compat import IDaaSCredential, IDaaSCredentialProviderFactory, IDaaSTokenResponse

    IDaaSCredentialProviderFactory.init()
    provider = IDaaSCredentialProviderFactory.get_idaas_credential_provider()
    credential = provider.get_credential()
    assert isinstance(credential, IDaaSCredential) and isinstance(credential, IDaaSTokenResponse)
    token = credential.get_access_token()
    assert token == provider.get_bearer_token() == provider.get_oidc_token()
    assert credential.get_token_type() == "Bearer"
    assert credential.get_id_token() is None and credential.get_refresh_token() is None
    assert credential.expires_in > 0 and credential.expires_at > time.time()
    assert token not in repr(credential)
    d = credential.to_dict()
    assert d["access_token"] == token
    assert IDaaSTokenResponse.from_dict(d) == credential


def test_core_factory_getters(factory, emulator):
    from idaas.compat import IDaaSCredentialProviderFactory

    IDaaSCredentialProviderFactory.init()
    assert IDaaSCredentialProviderFactory.get_idaas_instance_id() == emulator.config["idaasInstanceId"]
    assert IDaaSCredentialProviderFactory.get_client_id() == emulator.config["clientId"]
    assert IDaaSCredentialProviderFactory.get_developer_api_endpoint().startswith("http")
    IDaaSCredentialProviderFactory.init()  # a second init is a no-op


def test_core_init_with_config_dict(factory, emulator):
    from idaas.compat import IDaaSCredentialProviderFactory

    IDaaSCredentialProviderFactory.init_with_config(emulator.config)
    assert IDaaSCredentialProviderFactory.get_idaas_credential_provider().get_bearer_token()


# =============================================================================================
# cloud-idaas-pam-client README
# =============================================================================================


def test_pam_readme_quick_start_get_api_key(factory, capsys):
    from idaas.compat import IDaaSCredentialProviderFactory, IDaaSPamClient

    IDaaSCredentialProviderFactory.init()
    pam_client = IDaaSPamClient()
    api_key = pam_client.get_api_key("openai_prod_key")
    print(f"API Key: {api_key}")
    assert api_key == API_KEY
    assert capsys.readouterr().out == f"API Key: {API_KEY}\n"


def _user_pam_client(emulator):
    """The README's token-exchange construction of a PAM client with a user-bound token."""
    from idaas.compat import (
        IDaaSCredential,
        IDaaSCredentialProvider,
        IDaaSCredentialProviderFactory,
        IDaaSPamClient,
        IDaaSTokenExchangeCredentialProvider,
        OAuth2Constants,
        StaticIDaaSCredentialProvider,
    )

    IDaaSCredentialProviderFactory.init()
    subject_token = IDaaSCredentialProviderFactory.get_idaas_credential_provider().get_bearer_token()
    token_exchange_provider: IDaaSTokenExchangeCredentialProvider = (
        IDaaSCredentialProviderFactory.get_idaas_token_exchange_credential_provider()
    )
    credential: IDaaSCredential = token_exchange_provider.get_credential(
        subject_token=subject_token,
        requested_token_type=OAuth2Constants.ACCESS_TOKEN_TYPE_VALUE,
        subject_token_type=OAuth2Constants.ACCESS_TOKEN_TYPE_VALUE,
    )
    credential_provider: IDaaSCredentialProvider = StaticIDaaSCredentialProvider.builder().credential(credential).build()
    pam_client: IDaaSPamClient = IDaaSPamClient.builder().credential_provider(credential_provider).build()
    return pam_client


def test_pam_readme_get_api_key_based_on_token_exchange(factory, emulator, capsys):
    pam_client = _user_pam_client(emulator)
    api_key: str = pam_client.get_api_key("openai_prod_key")
    print(f"API Key: {api_key}")
    assert api_key == API_KEY
    emulator.clear_requests()
    pam_client.get_api_key("openai_prod_key")
    assert len(emulator.requests("/token")) == 0  # the static credential is used as is


def test_pam_readme_fetch_oauth_authentication_token_v1(factory):
    from idaas.compat import IDaaSCredentialProviderFactory, IDaaSPamClient

    IDaaSCredentialProviderFactory.init()
    pam_client = IDaaSPamClient()
    with pytest.warns(DeprecationWarning):
        token = pam_client.fetch_oauth_authentication_token("google_drive_reader")
    assert isinstance(token, str) and token
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        token = pam_client.fetch_oauth_authentication_token(
            "google_drive_reader", scope="https://www.googleapis.com/auth/drive.readonly"
        )
    assert token


def test_pam_readme_fetch_oauth_authentication_token_v2_m2m(factory, capsys):
    from idaas.compat import IDaaSCredentialProviderFactory, IDaaSPamClient, PamClientConstants

    IDaaSCredentialProviderFactory.init()
    pam_client = IDaaSPamClient()
    response = pam_client.fetch_oauth_authentication_token_v2(
        credential_provider_identifier="google_drive_reader",
        authorization_flow=PamClientConstants.OAUTH_AUTHORIZATION_FLOW_M2M,
    )
    if response and response.has_oauth_access_token_content():
        print(f"Access Token: {response.oauth_access_token_content.access_token_value}")
        print(f"Token Type: {response.oauth_access_token_content.token_type}")
        print(f"Scope: {response.oauth_access_token_content.scope}")
    out = capsys.readouterr().out
    assert "Access Token: " in out and "Token Type: " in out
    assert not response.has_oauth_authorization_session()
    assert isinstance(response, idaas.OAuthAuthenticationTokenResponse)
    assert response.oauth_access_token_content.access_token_value not in repr(response)


def test_pam_readme_3lo_end_to_end(factory, emulator, capsys):
    from idaas.compat import PamClientConstants

    pam_client = _user_pam_client(emulator)

    def on_authorization_url(authorization_url: str):
        print(f"Please open the following URL in a browser to authorize:\n{authorization_url}")
        _answer(emulator, authorization_url, "completed")  # the user authorizes

    response = pam_client.poll_oauth_authentication_token(
        credential_provider_identifier="google_drive_user",
        on_authorization_url=on_authorization_url,
        force_authentication=True,
        max_polling_retries=60,
    )
    if response and response.has_oauth_access_token_content():
        print(f"Access Token: {response.oauth_access_token_content.access_token_value}")
    out = capsys.readouterr().out
    assert "Please open the following URL" in out and "Access Token: " in out
    assert not response.has_oauth_authorization_session()
    assert PamClientConstants.DEFAULT_POLLING_INTERVAL_SECONDS == 3


def test_pam_readme_3lo_atomic(factory, emulator, capsys):
    from idaas.compat import PamClientConstants

    pam_client = _user_pam_client(emulator)
    credential_provider_identifier = "google_drive_user"

    # 1. Initiate authorization (user_federation flow)
    response = pam_client.fetch_oauth_authentication_token_v2(
        credential_provider_identifier=credential_provider_identifier,
        authorization_flow=PamClientConstants.OAUTH_AUTHORIZATION_FLOW_USER_FEDERATION,
        force_authentication=True,
    )
    if response.has_oauth_access_token_content():
        print(f"Access Token: {response.oauth_access_token_content.access_token_value}")
    else:
        session = response.oauth_authorization_session
        print(f"Please open the following URL in a browser to authorize:\n{session.authorization_url}")
        assert pam_client.get_oauth_authorization_session(session.session_uri).session_status == "pending"
        _answer(emulator, session.authorization_url, "completed")  # the user authorizes
        while True:
            session_response = pam_client.get_oauth_authorization_session(session.session_uri)
            status = session_response.session_status
            print(f"Authorization session status: {status}")
            if status == PamClientConstants.SESSION_STATUS_COMPLETED:
                break
            if status in (PamClientConstants.SESSION_STATUS_FAILED, PamClientConstants.SESSION_STATUS_EXPIRED):
                raise RuntimeError(f"Authorization not completed: {status}")
            time.sleep(PamClientConstants.DEFAULT_POLLING_INTERVAL_SECONDS)
        final = pam_client.fetch_oauth_authentication_token_v2(
            credential_provider_identifier=credential_provider_identifier,
            authorization_flow=PamClientConstants.OAUTH_AUTHORIZATION_FLOW_USER_FEDERATION,
        )
        print(f"Access Token: {final.oauth_access_token_content.access_token_value}")
    out = capsys.readouterr().out
    assert "Authorization session status: completed" in out and "Access Token: " in out


def _generated(pam_client, subject="billing-agent"):
    return pam_client.generate_jwt_authentication_token(
        "partner_jwt",
        subject,
        ["https://api.partner.example"],
        include_derived_short_token=True,
    )


def test_pam_readme_generate_jwt_authentication_token(factory, capsys):
    from idaas.compat import IDaaSCredentialProviderFactory, IDaaSPamClient, JwtContent, JwtTokenResponse

    IDaaSCredentialProviderFactory.init()
    pam_client = IDaaSPamClient()
    audiences = ["https://api.partner.example", "https://api2.partner.example"]
    jwt_token_response: JwtTokenResponse = pam_client.generate_jwt_authentication_token(
        "partner_jwt", "billing-agent", audiences
    )
    assert jwt_token_response.jwt_content.derived_short_token is None
    custom_claims = {"key": "value"}
    jwt_token_response = pam_client.generate_jwt_authentication_token(
        "partner_jwt",
        "billing-agent",
        audiences,
        issuer=None,
        custom_claims=custom_claims,
        expiration=3600,
        include_derived_short_token=True,
    )
    print(f"Authentication Token Id: {jwt_token_response.authentication_token_id}")
    print(f"Consumer Type: {jwt_token_response.consumer_type}")
    print(f"Consumer ID: {jwt_token_response.consumer_id}")
    print(f"JWT Token: {jwt_token_response.jwt_content.jwt_value}")
    print(f"Derived Short Token: {jwt_token_response.jwt_content.derived_short_token}")
    assert isinstance(jwt_token_response.jwt_content, JwtContent)
    assert jwt_token_response.authentication_token_id and jwt_token_response.consumer_id
    assert jwt_token_response.jwt_content.derived_short_token
    r = repr(jwt_token_response)
    assert jwt_token_response.jwt_content.jwt_value not in r
    assert jwt_token_response.jwt_content.derived_short_token not in r
    assert "Derived Short Token: " in capsys.readouterr().out


def test_pam_readme_obtain_jwt_authentication_token(factory):
    from idaas.compat import IDaaSCredentialProviderFactory, IDaaSPamClient

    IDaaSCredentialProviderFactory.init()
    pam_client = IDaaSPamClient()
    g = _generated(pam_client)
    jwt_content = pam_client.obtain_jwt_authentication_token(g.consumer_id, g.authentication_token_id)
    print(f"JWT: {jwt_content.jwt_value}")
    print(f"Derived Short Token: {jwt_content.derived_short_token}")
    assert jwt_content.jwt_value == g.jwt_content.jwt_value


def test_pam_readme_obtain_jwt_by_derived_short_token(factory):
    from idaas.compat import IDaaSCredentialProviderFactory, IDaaSPamClient

    IDaaSCredentialProviderFactory.init()
    pam_client = IDaaSPamClient()
    g = _generated(pam_client)
    jwt_content = pam_client.obtain_jwt_authentication_token_by_derived_short_token(g.jwt_content.derived_short_token)
    print(f"JWT: {jwt_content.jwt_value}")
    print(f"Derived Short Token: {jwt_content.derived_short_token}")
    assert jwt_content.jwt_value == g.jwt_content.jwt_value


def test_pam_readme_list_authentication_tokens(factory, capsys):
    from idaas.compat import AuthenticationToken, IDaaSCredentialProviderFactory, IDaaSPamClient, NextTokenPageableResponse

    IDaaSCredentialProviderFactory.init()
    pam_client = IDaaSPamClient()
    consumer = _generated(pam_client, "list-agent").consumer_id
    _generated(pam_client, "list-agent")

    tokens: NextTokenPageableResponse[AuthenticationToken] = pam_client.list_authentication_tokens(
        consumer, "partner_jwt"
    )
    assert len(tokens.entities) >= 2
    tokens = pam_client.list_authentication_tokens(
        consumer, "partner_jwt", next_token=None, max_results=1, revoked=False, expired=False
    )
    print(f"Total Count: {tokens.total_count}")
    print(f"Next Token: {tokens.next_token}")
    print(f"Max Results: {tokens.max_results}")
    authentication_tokens = tokens.entities
    for authentication_token in authentication_tokens:
        print(authentication_token.authentication_token_id)
        print(authentication_token.authentication_token_type)
        print(authentication_token.consumer_id)
        print(authentication_token.consumer_type)
        print(authentication_token.creator_id)
        print(authentication_token.creator_type)
        print(authentication_token.credential_provider_id)
    assert isinstance(tokens, NextTokenPageableResponse) and isinstance(tokens, idaas.AuthenticationTokenPage)
    assert len(tokens.entities) == 1 and tokens.next_token and tokens.total_count >= 2
    assert isinstance(tokens.entities[0], AuthenticationToken)
    assert tokens.entities[0].authentication_token_type == "jwt"
    assert "jwt" in capsys.readouterr().out


def test_pam_readme_validate_revoke_reinstate(factory):
    from idaas.compat import IDaaSCredentialProviderFactory, IDaaSPamClient

    IDaaSCredentialProviderFactory.init()
    pam_client = IDaaSPamClient()
    g = _generated(pam_client)
    token = g.jwt_content.jwt_value

    is_valid = pam_client.validate_authentication_token(token)
    print(f"Token is valid: {is_valid}")
    assert is_valid is True
    assert pam_client.validate_authentication_token(g.jwt_content.derived_short_token, token_type_hint="jwt") is True

    assert pam_client.revoke_authentication_token(token) is None
    assert pam_client.validate_authentication_token(token) is False
    assert pam_client.reinstate_authentication_token(token, token_type_hint="jwt") is None
    assert pam_client.validate_authentication_token(token) is True
    pam_client.revoke_authentication_token(token, token_type_hint="jwt")
    pam_client.reinstate_authentication_token(token)

    assert pam_client.revoke_authentication_token_by_consumer(g.consumer_id, "partner_jwt") is None
    assert pam_client.validate_authentication_token(token) is False
    assert pam_client.reinstate_authentication_token_by_consumer(g.consumer_id, "partner_jwt") is None
    assert pam_client.validate_authentication_token(token) is True


# =============================================================================================
# Exceptions, None returns
# =============================================================================================


def test_exception_names_and_hierarchy():
    from idaas import compat

    for name in (
        "IDaaSException",
        "ClientException",
        "ServerException",
        "ConfigException",
        "CacheException",
        "ConcurrentOperationException",
        "CredentialException",
        "EncodingException",
        "HttpException",
        "IDaaSUnexpectedException",
    ):
        assert getattr(compat, name).__name__ == name
    assert issubclass(compat.ConfigException, compat.ClientException)
    assert issubclass(compat.ClientException, compat.IDaaSException)
    assert not issubclass(compat.IDaaSUnexpectedException, compat.IDaaSException)
    e = compat.ClientException("invalid_client", "bad secret", "req-1")
    assert (e.error_code, e.error_message, e.request_id, str(e)) == ("invalid_client", "bad secret", "req-1", "invalid_client: bad secret")
    assert compat.ConfigException("only a message").error_message == "only a message"


def test_module_level_annotations_evaluate(factory):
    """The samples annotate module-level variables with the result classes (evaluated at run time),
    e.g. `NextTokenPageableResponse[AuthenticationToken]`."""
    source = (
        "from idaas.compat import AuthenticationToken, IDaaSCredentialProviderFactory, IDaaSPamClient\n"
        "from idaas.compat import JwtTokenResponse, NextTokenPageableResponse\n"
        "IDaaSCredentialProviderFactory.init()\n"
        "pam_client: IDaaSPamClient = IDaaSPamClient()\n"
        "g: JwtTokenResponse = pam_client.generate_jwt_authentication_token('partner_jwt', 'a', ['https://x.example'])\n"
        "tokens: NextTokenPageableResponse[AuthenticationToken] = pam_client.list_authentication_tokens(\n"
        "    g.consumer_id, 'partner_jwt')\n"
    )
    scope: dict = {}
    exec(compile(source, "<sample>", "exec"), scope)
    assert scope["tokens"].entities


def test_factory_not_initialised(factory):
    from idaas.compat import ConfigException, ErrorCode, IDaaSCredentialProviderFactory, IDaaSPamClient

    with pytest.raises(ConfigException) as ei:
        IDaaSCredentialProviderFactory.get_idaas_credential_provider()
    assert ei.value.error_code == ErrorCode.IDAAS_CREDENTIAL_PROVIDER_FACTORY_NOT_INIT
    with pytest.raises(ConfigException):
        IDaaSPamClient()


def test_config_errors(factory, tmp_path):
    from idaas.compat import ConfigException, IDaaSCredentialProviderFactory

    with pytest.raises(ConfigException) as ei:
        IDaaSCredentialProviderFactory.init(str(tmp_path / "missing.json"))
    assert isinstance(ei.value, idaas.ConfigError) and type(ei.value).__name__ == "ConfigException"
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    with pytest.raises(ConfigException):
        IDaaSCredentialProviderFactory.init(str(bad))


def test_invalid_scope(factory):
    from idaas.compat import ConfigException, IDaaSCredentialProviderFactory

    IDaaSCredentialProviderFactory.init()
    with pytest.raises(ConfigException) as ei:
        IDaaSCredentialProviderFactory.get_idaas_credential_provider_by_scope("no bar here")
    assert isinstance(ei.value, ValueError) and isinstance(ei.value, idaas.InvalidArgumentError)


def test_token_endpoint_refusal_is_cache_exception(factory, emulator, monkeypatch):
    from idaas.compat import CacheException, ClientException, IDaaSCredentialProviderFactory

    monkeypatch.setenv(emulator.secret_var, "wrong-secret")
    with pytest.raises(CacheException) as ei:
        IDaaSCredentialProviderFactory.init()
    e = ei.value
    assert type(e).__name__ == "CacheException"
    assert isinstance(e, ClientException) and isinstance(e, idaas.AuthError)
    assert e.error_code == "invalid_client" and e.http_status == 401
    assert isinstance(e.cause, ClientException) and e.cause.error_code == "invalid_client"
    assert "wrong-secret" not in str(e) and "wrong-secret" not in repr(e)
    # as in the reference, the factory is initialised and the next call tries again
    assert IDaaSCredentialProviderFactory.get_client_id() == emulator.config["clientId"]
    with pytest.raises(CacheException):
        IDaaSCredentialProviderFactory.get_idaas_credential_provider()


def test_token_exchange_errors(factory):
    from idaas.compat import IDaaSCredentialProviderFactory, OAuth2Constants

    IDaaSCredentialProviderFactory.init()
    provider = IDaaSCredentialProviderFactory.get_idaas_token_exchange_credential_provider()
    with pytest.raises(ValueError):  # the reference: ValueError("subject_token is blank")
        provider.get_issued_token("", OAuth2Constants.ACCESS_TOKEN_TYPE_VALUE)


def test_pam_errors(factory, faults):
    from idaas.compat import (
        ClientException,
        IDaaSCredentialProviderFactory,
        IDaaSPamClient,
        PamClientConstants,
        ServerException,
    )

    IDaaSCredentialProviderFactory.init()
    pam_client = IDaaSPamClient()
    with pytest.raises(ClientException) as ei:
        pam_client.get_api_key("no_such_credential")
    assert ei.value.http_status == 404 and ei.value.error_code and ei.value.request_id
    assert isinstance(ei.value, idaas.ClientError)
    with pytest.raises(ClientException) as ei:
        pam_client.fetch_oauth_authentication_token_v2("google_drive_reader", "3lo")
    assert ei.value.error_code == "invalid_authorization_flow"
    faults.add_fault("devapi:ObtainCredential=status/500:10")
    with pytest.raises(ServerException) as ei:
        pam_client.get_api_key("openai_prod_key")
    assert isinstance(ei.value, idaas.ServerError) and ei.value.http_status == 500
    faults.clear_faults()
    with pytest.raises(ClientException) as ei:
        pam_client.generate_jwt_authentication_token("no_such_provider", "s", ["a"])
    assert ei.value.http_status and 400 <= ei.value.http_status < 500
    assert PamClientConstants.SCOPE == "urn:cloud:idaas:pam|.all"


def test_pam_3lo_errors(factory, emulator, monkeypatch):
    from idaas.compat import ClientException, PamClientConstants

    pam_client = _user_pam_client(emulator)
    with pytest.raises(ClientException) as ei:
        pam_client.fetch_oauth_authentication_token_v2(
            "google_drive_user", PamClientConstants.OAUTH_AUTHORIZATION_FLOW_M2M, force_authentication=True
        )
    assert ei.value.error_code == "authorization_flow_mismatch"

    monkeypatch.setattr(PamClientConstants, "DEFAULT_POLLING_INTERVAL_SECONDS", 0.05)
    with pytest.raises(ClientException) as ei:
        pam_client.poll_oauth_authentication_token(
            "google_drive_user", lambda url: _answer(emulator, url, "failed"), force_authentication=True
        )
    assert ei.value.error_code
    with pytest.raises(ClientException) as ei:
        pam_client.poll_oauth_authentication_token(
            "google_drive_user", lambda url: _answer(emulator, url, "expired"), force_authentication=True
        )
    assert ei.value.error_code == "authorization_session_expired"
    with pytest.raises(ClientException) as ei:
        pam_client.poll_oauth_authentication_token(
            "google_drive_user", lambda url: None, force_authentication=True, max_polling_retries=2
        )
    assert ei.value.error_code == "polling_timeout"

    class Refused(Exception):
        pass

    def refuse(url):
        raise Refused(url)

    with pytest.raises(Refused):  # the callback's exception propagates unchanged
        pam_client.poll_oauth_authentication_token("google_drive_user", refuse, force_authentication=True)

    calls = []  # a token already there: no callback
    r = pam_client.poll_oauth_authentication_token("google_drive_reader", calls.append)
    assert r.has_oauth_access_token_content() and not calls


def test_none_returns(factory, faults):
    from idaas.compat import IDaaSCredentialProviderFactory, IDaaSPamClient

    IDaaSCredentialProviderFactory.init()
    pam_client = IDaaSPamClient()
    assert pam_client.get_api_key("partner_oauth_client") is None  # a credential without an API key
    g = _generated(pam_client)
    faults.add_fault("devapi:GenerateJwtAuthenticationToken=json-without/jwtContent:1")
    assert pam_client.generate_jwt_authentication_token("partner_jwt", "s", ["https://api.partner.example"]) is None
    faults.add_fault("devapi:ObtainJwtAuthenticationToken=json-without/jwtContent:1")
    assert pam_client.obtain_jwt_authentication_token(g.consumer_id, g.authentication_token_id) is None
    faults.add_fault("devapi:ObtainJwtAuthenticationTokenByDerivedShortToken=json-without/jwtContent:1")
    assert pam_client.obtain_jwt_authentication_token_by_derived_short_token(g.jwt_content.derived_short_token) is None
    faults.add_fault("devapi:ValidateAuthenticationToken=json-without/active:1")
    assert pam_client.validate_authentication_token(g.jwt_content.jwt_value) is None
    assert pam_client.validate_authentication_token(g.jwt_content.jwt_value) is True


# =============================================================================================
# Where idaas.compat is right and the references are not
# =============================================================================================


def test_pkcs1_private_key_config(factory, emulator, tmp_path, monkeypatch):
    """PRIVATE_KEY_JWT with a PKCS#1 RSA key (`BEGIN RSA PRIVATE KEY`), which the Python reference
    cannot load, and with a SEC1 EC key."""
    from idaas.compat import IDaaSCredentialProviderFactory

    config = emulator.config_for("PRIVATE_KEY_JWT")
    path = tmp_path / "private-key-jwt.json"
    path.write_text(json.dumps(config))
    var = config["authnConfiguration"]["privateKeyEnvVarName"]
    for key_file in ("rsa2048_pkcs1.pem", "ec256_sec1.pem"):
        pem = (ROOT / "emulator" / "fixtures" / "keys" / key_file).read_text()
        assert "BEGIN RSA PRIVATE KEY" in pem or "BEGIN EC PRIVATE KEY" in pem
        monkeypatch.setenv(var, pem)
        IDaaSCredentialProviderFactory.reset()
        emulator.clear_requests()
        IDaaSCredentialProviderFactory.init(str(path))
        assert IDaaSCredentialProviderFactory.get_idaas_credential_provider().get_bearer_token(), key_file
        assert len(emulator.requests("/token")) == 1


def test_configured_read_timeout_is_applied(factory, emulator, tmp_path, faults):
    """`httpConfiguration.readTimeout` is honoured (the Python reference always waits 10 s)."""
    from idaas.compat import CacheException, IDaaSCredentialProviderFactory, ServerException

    http = dict(emulator.config.get("httpConfiguration", {}), connectTimeout=2000, readTimeout=2000)
    cfg = dict(emulator.config, httpConfiguration=http)
    path = tmp_path / "timeout.json"
    path.write_text(json.dumps(cfg))
    faults.add_fault("token=latency/6000:10")
    t0 = time.monotonic()
    with pytest.raises(CacheException) as ei:
        IDaaSCredentialProviderFactory.init(str(path))
    elapsed = time.monotonic() - t0
    # the Python reference: ServerException ReadTimeOut, after 10 s whatever the configuration says
    assert isinstance(ei.value, ServerException) and ei.value.error_code == "ReadTimeOut"
    assert isinstance(ei.value, idaas.TimeoutError) and isinstance(ei.value, TimeoutError)
    assert elapsed < 9, elapsed  # two attempts of 2 s each (a timed-out token request is retried once)


def test_refreshed_ahead_of_expiry(factory, tmp_path, monkeypatch):
    """With 10 s tokens, a new token is fetched before the first one expires and callers never
    wait for it (the references refresh only once the token is stale, which their jitter puts
    after the real expiry for lifetimes under 25 minutes)."""
    from idaas.compat import IDaaSCredentialProviderFactory

    em = Emulator("--token-lifetime", "10")
    try:
        monkeypatch.setenv("CLOUD_IDAAS_CONFIG_PATH", str(em.config_path))
        IDaaSCredentialProviderFactory.init()
        provider = IDaaSCredentialProviderFactory.get_idaas_credential_provider()
        first = provider.get_credential()
        em.clear_requests()
        slowest = 0.0
        token = first.access_token
        while token == first.access_token and time.time() < first.expires_at + 2:
            t0 = time.monotonic()
            token = provider.get_bearer_token()
            slowest = max(slowest, time.monotonic() - t0)
            time.sleep(0.05)
        assert token != first.access_token
        assert slowest < 0.5, slowest  # nobody waited for the refresh
        assert time.time() < first.expires_at - 1, "refreshed only at or after expiry"
        assert len(em.requests("/token")) == 1
    finally:
        IDaaSCredentialProviderFactory.reset()
        em.stop()
