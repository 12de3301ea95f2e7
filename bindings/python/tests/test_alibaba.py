"""The built-in PLUGIN alibabacloudPluginCredentialProvider through the Python binding: the
emulator's PLUGIN config, used as it is, gets its token from the emulator's EIAM OpenAPI
(GenerateOauthToken); the documented errors (docs/protocol/alibaba-plugin.md); a plugin given
under the same name wins (D-44).

The credential chain reads the process environment when a client is made; os.environ assignments
call setenv(3), which the core reads. monkeypatch puts every variable back after each test."""

from __future__ import annotations

import os

import pytest

import idaas
from conftest import API_KEY

PLUGIN = "alibabacloudPluginCredentialProvider"


@pytest.fixture
def chain(emulator, monkeypatch, tmp_path):
    """Leaves the credential chain only the emulator's alibabaCloud.environment (with the given
    replacements; None removes a variable) and an empty HOME. Returns a function making that
    environment, which returns HOME."""

    def make(**replace):
        for k in list(os.environ):
            if k.startswith("ALIBABA_CLOUD_") or k.startswith("IDAAS_ALIBABA_CLOUD_"):
                monkeypatch.delenv(k)
        monkeypatch.setenv("HOME", str(tmp_path))
        for k, v in {**emulator.info["alibabaCloud"]["environment"], **replace}.items():
            if v is not None:
                monkeypatch.setenv(k, v)
        emulator.clear_requests()
        return str(tmp_path)

    return make


def openapi_calls(emulator):
    """The x-acs-credentials-provider of every GenerateOauthToken request since the log was cleared."""
    out = []
    for r in emulator.requests():
        headers = dict((k, v) for k, v in r["headers"])
        if headers.get("x-acs-action") == "GenerateOauthToken":
            out.append(headers.get("x-acs-credentials-provider"))
    return out


def test_access_key_of_the_environment(emulator, chain):
    chain()
    config = emulator.config_for("PLUGIN")
    assert config["authnConfiguration"]["pluginName"] == PLUGIN
    with idaas.Client.from_dict(config) as c:
        token = c.bearer_token()
        assert len(token.split(".")) == 3
        with c.pam() as pam:
            assert pam.get_api_key("openai_prod_key") == API_KEY
    assert openapi_calls(emulator) == ["default/env"]


def test_wrong_secret_is_refused_and_never_shown(emulator, chain):
    wrong = "wrong-alibaba-secret-from-the-python-test"
    chain(ALIBABA_CLOUD_ACCESS_KEY_SECRET=wrong)
    with idaas.Client.from_dict(emulator.config_for("PLUGIN")) as c:
        with pytest.raises(idaas.AuthError) as e:
            c.bearer_token()
    err = e.value
    assert isinstance(err, idaas.AuthenticationError)
    assert err.server_code == "SignatureDoesNotMatch" and err.http_status == 400
    assert err.request_id and not err.retryable
    shown = f"{err} {err!r} {vars(err)}"
    assert wrong not in shown
    assert emulator.info["alibabaCloud"]["environment"]["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] not in shown
    assert len(openapi_calls(emulator)) == 1


def test_no_credentials_names_every_source(emulator, chain):
    home = chain(
        ALIBABA_CLOUD_ACCESS_KEY_ID=None,
        ALIBABA_CLOUD_ACCESS_KEY_SECRET=None,
        ALIBABA_CLOUD_ECS_METADATA_DISABLED="true",
    )
    with idaas.Client.from_dict(emulator.config_for("PLUGIN")) as c:
        with pytest.raises(idaas.CredentialError) as e:
            c.bearer_token()
    assert e.value.server_code == "AlibabaCloudCredentialsNotFound" and e.value.http_status is None
    for want in [
        "default/env",
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "default/oidc_role_arn",
        "default/cli_profile",
        "default/profile",
        home,
        "default/ecs_ram_role",
        "ALIBABA_CLOUD_ECS_METADATA_DISABLED",
        "default/credential_uri",
    ]:
        assert want in str(e.value)
    assert openapi_calls(emulator) == []


def test_no_open_api_endpoint_is_a_config_error(emulator, chain):
    chain()
    config = dict(emulator.config_for("PLUGIN"))
    assert config.pop("openApiEndpoint")
    with pytest.raises(idaas.ConfigError) as e:
        idaas.Client.from_dict(config)
    assert e.value.server_code == "OpenApiEndpointNotFound" and PLUGIN in str(e.value)


def test_a_plugin_given_under_the_same_name_wins(emulator, chain):
    chain()
    config = emulator.config_for("PLUGIN")
    scopes = []

    def mine(scope):
        scopes.append(scope)
        return {"access_token": "from-the-python-plugin", "expires_in": 3600}

    with idaas.Client.from_dict(config, plugins={PLUGIN: mine}) as c:
        assert c.bearer_token() == "from-the-python-plugin"
    assert scopes == [config["scope"]]
    assert openapi_calls(emulator) == []
