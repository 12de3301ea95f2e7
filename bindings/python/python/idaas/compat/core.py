"""The `cloud_idaas.core` names of the reference SDK over `idaas.Client`: the process-wide
`IDaaSCredentialProviderFactory`, the credential providers it hands out, the credential object
and the constants the reference's samples use.

Everything here adapts names, parameters and return shapes; fetching, caching, refreshing and
validating are the idaas client's.
"""

from __future__ import annotations

import os
import threading
from abc import ABC, abstractmethod
from enum import Enum
from typing import Any, Dict, Mapping, Optional, Union

from .. import _errors as _idaas_errors
from .._native import Client as _Client
from .._types import Credential as _Credential
from .exceptions import ConfigException, call, translate_cache


class OAuth2Constants:
    """OAuth 2.0 parameter names and values (the reference's `OAuth2Constants`)."""

    CLIENT_ID = "client_id"
    CLIENT_SECRET = "client_secret"
    SCOPE = "scope"
    DEVICE_CODE = "device_code"
    GRANT_TYPE = "grant_type"
    CLIENT_CREDENTIALS_GRANT_TYPE_VALUE = "client_credentials"
    TOKEN_EXCHANGE_GRANT_TYPE_VALUE = "urn:ietf:params:oauth:grant-type:token-exchange"
    DEVICE_CODE_GRANT_TYPE_VALUE = "urn:ietf:params:oauth:grant-type:device_code"
    REFRESH_TOKEN_GRANT_TYPE_VALUE = "refresh_token"
    CLIENT_ASSERTION_TYPE = "client_assertion_type"
    CLIENT_ASSERTION = "client_assertion"
    APPLICATION_FEDERATED_CREDENTIAL_NAME = "application_federated_credential_name"
    REFRESH_TOKEN_PARAMETER = "refresh_token"
    CLIENT_X509_CERTIFICATE = "client_x509"
    X509_CERT_CHAINS = "client_x509_chain"
    SUBJECT_TOKEN = "subject_token"
    SUBJECT_TOKEN_TYPE = "subject_token_type"
    ACCESS_TOKEN_TYPE_VALUE = "urn:ietf:params:oauth:token-type:access_token"
    REQUESTED_TOKEN_TYPE = "requested_token_type"
    AUDIENCE = "audience"
    ACTOR_TOKEN = "actor_token"
    ACTOR_TOKEN_TYPE = "actor_token_type"


class ConfigPathConstants:
    """Where the configuration file is looked up (the reference's `ConfigPathConstants`)."""

    ENV_CONFIG_PATH_KEY = "CLOUD_IDAAS_CONFIG_PATH"
    DEFAULT_CONFIG_PATH = "~/.cloud_idaas/client-config.json"


class ErrorCode(str, Enum):
    """The error codes idaas.compat itself raises with (a subset of the reference's `ErrorCode`).
    Errors from the library carry the server's code or the library's own short code."""

    IDAAS_CREDENTIAL_PROVIDER_FACTORY_NOT_INIT = "IDaaSCredentialProviderFactoryNotInit"
    DEVELOPER_API_ENDPOINT_NOT_FOUND = "DeveloperApiEndpointNotFound"
    INVALID_SCOPE = "InvalidScope"
    UNSUPPORTED_AUTHENTICATION_METHOD = "UnsupportedAuthenticationMethod"

    def __str__(self) -> str:
        return self.value


# ---------------------------------------------------------------------------------------------
# Credential
# ---------------------------------------------------------------------------------------------


class IDaaSCredential(ABC):
    """A credential: an access token and what the server said about it."""

    @abstractmethod
    def get_access_token(self) -> Optional[str]:
        """The access token (a secret)."""

    @abstractmethod
    def get_id_token(self) -> Optional[str]:
        """The ID token, if any."""

    @abstractmethod
    def get_refresh_token(self) -> Optional[str]:
        """The refresh token, if any."""

    @abstractmethod
    def get_token_type(self) -> Optional[str]:
        """The token type, e.g. `Bearer`."""


_TOKEN_FIELDS = ("access_token", "id_token", "refresh_token", "token_type", "issued_token_type", "expires_in", "expires_at")
_SECRET_FIELDS = ("access_token", "id_token", "refresh_token")


class IDaaSTokenResponse(IDaaSCredential):
    """A token reply as a credential (the reference's `IDaaSTokenResponse`): the attributes
    `access_token`, `id_token`, `refresh_token`, `token_type`, `issued_token_type`, `expires_in`
    (seconds) and `expires_at` (seconds since the epoch; 0: unknown). The tokens are left out of
    `repr()`."""

    def __init__(self) -> None:
        self.access_token: Optional[str] = None
        self.id_token: Optional[str] = None
        self.refresh_token: Optional[str] = None
        self.token_type: Optional[str] = None
        self.issued_token_type: Optional[str] = None
        self.expires_in: int = 0
        self.expires_at: int = 0

    def get_access_token(self) -> Optional[str]:
        return self.access_token

    def get_id_token(self) -> Optional[str]:
        return self.id_token

    def get_refresh_token(self) -> Optional[str]:
        return self.refresh_token

    def get_token_type(self) -> Optional[str]:
        return self.token_type

    def to_dict(self) -> Dict[str, Any]:
        """The token reply's members (wire names)."""
        return {name: getattr(self, name) for name in _TOKEN_FIELDS}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "IDaaSTokenResponse":
        """A credential from a token reply's members (wire names)."""
        token = cls()
        for name in _TOKEN_FIELDS:
            if name in ("expires_in", "expires_at"):
                setattr(token, name, data.get(name, 0) or 0)
            else:
                setattr(token, name, data.get(name))
        return token

    @classmethod
    def _from_credential(cls, c: _Credential) -> "IDaaSTokenResponse":
        token = cls()
        token.access_token = c.access_token
        token.token_type = c.token_type
        token.issued_token_type = c.issued_token_type
        token.expires_in = c.expires_in or 0
        token.expires_at = c.expires_at or 0
        return token

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{n}={'***' if getattr(self, n) else None}" if n in _SECRET_FIELDS else f"{n}={getattr(self, n)!r}"
            for n in _TOKEN_FIELDS
        )
        return f"IDaaSTokenResponse({shown})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IDaaSTokenResponse):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(tuple(self.to_dict().values()))


# ---------------------------------------------------------------------------------------------
# Provider interfaces and implementations
# ---------------------------------------------------------------------------------------------


class IDaaSCredentialProvider(ABC):
    """Something that hands out a credential (the reference's interface)."""

    @abstractmethod
    def get_credential(self) -> Optional[IDaaSCredential]:
        """The current credential, or None."""

    def get_bearer_token(self) -> Optional[str]:
        """The current credential's access token, or None."""
        credential = self.get_credential()
        return None if credential is None else credential.get_access_token()

    def get_oidc_token(self) -> Optional[str]:
        """The same as `get_bearer_token()`."""
        return self.get_bearer_token()


class IDaaSTokenExchangeCredentialProvider(ABC):
    """RFC 8693 token exchange (the reference's interface)."""

    @abstractmethod
    def get_credential(
        self,
        subject_token: str,
        subject_token_type: str,
        requested_token_type: Optional[str] = None,
    ) -> IDaaSCredential:
        """The credential issued for `subject_token`."""

    def get_issued_token(
        self,
        subject_token: str,
        subject_token_type: str,
        requested_token_type: Optional[str] = None,
    ) -> Optional[str]:
        """The access token issued for `subject_token`."""
        credential = self.get_credential(
            subject_token=subject_token,
            subject_token_type=subject_token_type,
            requested_token_type=requested_token_type,
        )
        return credential.get_access_token()


class IDaaSMachineCredentialProvider(IDaaSCredentialProvider):
    """The machine identity's credential for one scope, from the idaas client's cache (refreshed
    ahead of expiry). Made by `IDaaSCredentialProviderFactory`."""

    def __init__(self, client: _Client, scope: str) -> None:
        self._client = client
        self._scope = scope

    @property
    def scope(self) -> str:
        """The scope of this provider's tokens."""
        return self._scope

    def get_credential(self) -> IDaaSTokenResponse:
        try:
            credential = self._client.credential(self._scope)
        except _idaas_errors.IDaaSError as e:
            raise translate_cache(e) from None
        return IDaaSTokenResponse._from_credential(credential)

    def get_bearer_token(self) -> str:
        try:
            return self._client.bearer_token(self._scope)
        except _idaas_errors.IDaaSError as e:
            raise translate_cache(e) from None

    def __repr__(self) -> str:
        return f"IDaaSMachineCredentialProvider(scope={self._scope!r})"


class IDaaSMachineTokenExchangeCredentialProvider(IDaaSTokenExchangeCredentialProvider):
    """RFC 8693 token exchange by the machine identity for one scope (one request per call, never
    cached). Made by `IDaaSCredentialProviderFactory`."""

    def __init__(self, client: _Client, scope: str) -> None:
        self._client = client
        self._scope = scope

    @property
    def scope(self) -> str:
        """The scope asked for in every exchange."""
        return self._scope

    def get_credential(
        self,
        subject_token: str,
        subject_token_type: str,
        requested_token_type: Optional[str] = None,
    ) -> IDaaSTokenResponse:
        credential = call(
            self._client.exchange_token,
            subject_token,
            subject_token_type,
            requested_token_type=requested_token_type,
            scope=self._scope,
        )
        return IDaaSTokenResponse._from_credential(credential)

    def __repr__(self) -> str:
        return f"IDaaSMachineTokenExchangeCredentialProvider(scope={self._scope!r})"


class StaticIDaaSCredentialProvider(IDaaSCredentialProvider):
    """A provider that always hands out the same credential (never refreshed), e.g. a token
    exchange's result for `IDaaSPamClient`."""

    def __init__(self, credential: Optional[IDaaSCredential] = None) -> None:
        self._credential = credential

    def get_credential(self) -> Optional[IDaaSCredential]:
        return self._credential

    @classmethod
    def builder(cls) -> "StaticIDaaSCredentialProviderBuilder":
        """`StaticIDaaSCredentialProvider.builder().credential(c).build()`."""
        return StaticIDaaSCredentialProviderBuilder()

    def __repr__(self) -> str:
        return "StaticIDaaSCredentialProvider(credential=***)" if self._credential else "StaticIDaaSCredentialProvider(credential=None)"


class StaticIDaaSCredentialProviderBuilder:
    """Builder of `StaticIDaaSCredentialProvider`."""

    def __init__(self) -> None:
        self._credential: Optional[IDaaSCredential] = None

    def credential(self, credential: IDaaSCredential) -> "StaticIDaaSCredentialProviderBuilder":
        self._credential = credential
        return self

    def build(self) -> StaticIDaaSCredentialProvider:
        return StaticIDaaSCredentialProvider(self._credential)


# ---------------------------------------------------------------------------------------------
# Factory
# ---------------------------------------------------------------------------------------------

_NOT_INIT = "IDaaS Credential Provider Factory has not been initialized."


class IDaaSCredentialProviderFactory:
    """The process-wide entry point of the reference SDK: `init()` once, then ask for providers.

    Backed by one `idaas.Client`; providers of the same scope share its token cache.
    """

    _lock = threading.RLock()
    _client: Optional[_Client] = None
    _credential_providers: Dict[str, IDaaSMachineCredentialProvider] = {}
    _token_exchange_providers: Dict[str, IDaaSMachineTokenExchangeCredentialProvider] = {}

    @classmethod
    def init(cls, config_path: Optional[Union[str, "os.PathLike[str]"]] = None) -> None:
        """Read the configuration file (`config_path`, else `$CLOUD_IDAAS_CONFIG_PATH`, else
        `~/.cloud_idaas/client-config.json`) and fetch the configured scope's first token, so a
        wrong configuration fails here. A second call while initialised does nothing."""
        with cls._lock:
            if cls._client is not None:
                return
            path = None if config_path is None else os.path.expanduser(os.fspath(config_path))
            cls._client = call(_Client, path)
        cls.get_idaas_credential_provider().get_bearer_token()

    @classmethod
    def init_with_config(cls, config: Mapping[str, Any]) -> None:
        """Initialise from the configuration's members as a dict (the file's format, e.g.
        `{"idaasInstanceId": ..., "authnConfiguration": {...}}`). No token is fetched."""
        with cls._lock:
            if cls._client is not None:
                return
            cls._client = call(_Client.from_dict, dict(config))

    @classmethod
    def reset(cls) -> None:
        """Back to uninitialised (providers already handed out keep working)."""
        with cls._lock:
            cls._client = None
            cls._credential_providers = {}
            cls._token_exchange_providers = {}

    @classmethod
    def _require_client(cls) -> _Client:
        client = cls._client
        if client is None:
            raise ConfigException(ErrorCode.IDAAS_CREDENTIAL_PROVIDER_FACTORY_NOT_INIT.value, _NOT_INIT)
        return client

    @classmethod
    def get_idaas_credential_provider(cls, scope: Optional[str] = None) -> IDaaSCredentialProvider:
        """The provider of the configured scope (or of `scope`, as the reference README shows)."""
        client = cls._require_client()
        return cls.get_idaas_credential_provider_by_scope(client.scope if scope is None else scope)

    @classmethod
    def get_idaas_credential_provider_by_scope(cls, scope: str) -> IDaaSCredentialProvider:
        """The provider of `scope` (`audience|permission`), made on first use; making it fetches
        its first token, so a bad scope or a refused request fails here."""
        with cls._lock:
            client = cls._require_client()
            provider = cls._credential_providers.get(scope)
            if provider is not None:
                return provider
        provider = IDaaSMachineCredentialProvider(client, scope)
        provider.get_bearer_token()
        with cls._lock:
            if cls._client is client:
                provider = cls._credential_providers.setdefault(scope, provider)
        return provider

    @classmethod
    def get_idaas_token_exchange_credential_provider(
        cls, scope: Optional[str] = None
    ) -> IDaaSTokenExchangeCredentialProvider:
        """The token-exchange provider of the configured scope (or of `scope`)."""
        client = cls._require_client()
        return cls.get_idaas_token_exchange_credential_provider_by_scope(client.scope if scope is None else scope)

    @classmethod
    def get_idaas_token_exchange_credential_provider_by_scope(cls, scope: str) -> IDaaSTokenExchangeCredentialProvider:
        """The token-exchange provider of `scope` (no network I/O here)."""
        with cls._lock:
            client = cls._require_client()
            return cls._token_exchange_providers.setdefault(
                scope, IDaaSMachineTokenExchangeCredentialProvider(client, scope)
            )

    @classmethod
    def get_idaas_instance_id(cls) -> str:
        """The configured `idaasInstanceId`."""
        return call(lambda: cls._require_client().instance_id)

    @classmethod
    def get_client_id(cls) -> str:
        """The configured `clientId`."""
        return call(lambda: cls._require_client().client_id)

    @classmethod
    def get_developer_api_endpoint(cls) -> str:
        """The configured `developerApiEndpoint` (normalised to its https origin)."""
        client = cls._require_client()
        pam = call(client.pam)
        try:
            return pam.endpoint
        finally:
            pam.close()

    @classmethod
    def _idaas_client(cls) -> _Client:
        """The `idaas.Client` behind the factory (for code moving to the idaas API)."""
        return cls._require_client()


__all__ = [
    "OAuth2Constants",
    "ConfigPathConstants",
    "ErrorCode",
    "IDaaSCredential",
    "IDaaSTokenResponse",
    "IDaaSCredentialProvider",
    "IDaaSTokenExchangeCredentialProvider",
    "IDaaSMachineCredentialProvider",
    "IDaaSMachineTokenExchangeCredentialProvider",
    "StaticIDaaSCredentialProvider",
    "StaticIDaaSCredentialProviderBuilder",
    "IDaaSCredentialProviderFactory",
]
