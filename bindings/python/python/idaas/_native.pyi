# Type stubs of the extension module (bindings/python/src). Checked against the built module by
# `python -m mypy.stubtest idaas._native` in the tests.
import logging
import os
from typing import Any, Callable, Dict, Iterator, List, Literal, Mapping, Optional, Tuple, Union, final

from ._types import (
    AuthenticationToken,
    AuthenticationTokenPage,
    Credential,
    JwtContent,
    JwtTokenResponse,
    OAuthAuthenticationTokenResponse,
    OAuthAuthorizationSessionResponse,
)

__all__ = [
    "Client",
    "PamClient",
    "CancelToken",
    "AuthenticationTokenIterator",
    "__version__",
    "TOKEN_TYPE_ACCESS_TOKEN",
    "TOKEN_TYPE_ID_TOKEN",
    "TOKEN_TYPE_JWT",
    "TOKEN_TYPE_REFRESH_TOKEN",
    "DEFAULT_SCOPE",
    "API_KEY_CACHE_DEFAULTS",
]

__version__: str
TOKEN_TYPE_ACCESS_TOKEN: str
TOKEN_TYPE_ID_TOKEN: str
TOKEN_TYPE_JWT: str
TOKEN_TYPE_REFRESH_TOKEN: str
DEFAULT_SCOPE: str
API_KEY_CACHE_DEFAULTS: Tuple[float, float, float, int]

_Path = Union[str, os.PathLike[str]]
#: A PLUGIN token source: the scope → an access token, or a credential mapping
#: (`access_token`, optional `expires_in`, `expires_at`, `token_type`, `scope`).
_Plugin = Callable[[str], Union[str, Mapping[str, Any]]]
_Logger = Union[logging.Logger, Literal[False], None]

@final
class Client:
    """A machine identity of an IDaaS instance (see help(idaas.Client))."""

    def __new__(
        cls,
        path: Optional[_Path] = None,
        *,
        plugins: Optional[Dict[str, _Plugin]] = None,
        logger: _Logger = None,
        prefetch: Optional[bool] = None,
    ) -> "Client": ...
    @staticmethod
    def from_file(
        path: _Path,
        *,
        plugins: Optional[Dict[str, _Plugin]] = None,
        logger: _Logger = None,
        prefetch: Optional[bool] = None,
    ) -> "Client": ...
    @staticmethod
    def from_default(
        *,
        plugins: Optional[Dict[str, _Plugin]] = None,
        logger: _Logger = None,
        prefetch: Optional[bool] = None,
    ) -> "Client": ...
    @staticmethod
    def from_json(
        text: str,
        *,
        plugins: Optional[Dict[str, _Plugin]] = None,
        logger: _Logger = None,
        prefetch: Optional[bool] = None,
    ) -> "Client": ...
    @staticmethod
    def from_dict(
        config: Mapping[str, Any],
        *,
        plugins: Optional[Dict[str, _Plugin]] = None,
        logger: _Logger = None,
        prefetch: Optional[bool] = None,
    ) -> "Client": ...
    def bearer_token(self, scope: Optional[str] = None) -> str: ...
    def cached_bearer_token(self, scope: Optional[str] = None) -> Optional[str]: ...
    def credential(self, scope: Optional[str] = None) -> Credential: ...
    def exchange_token(
        self,
        subject_token: str,
        subject_token_type: Optional[str] = None,
        *,
        requested_token_type: Optional[str] = None,
        scope: Optional[str] = None,
        actor_token: Optional[str] = None,
        actor_token_type: Optional[str] = None,
    ) -> Credential: ...
    def pam(
        self,
        *,
        api_key_cache: Any = None,
        access_token: Optional[str] = None,
        provider: Optional[Callable[[], Union[str, Mapping[str, Any]]]] = None,
    ) -> "PamClient": ...
    @property
    def instance_id(self) -> str: ...
    @property
    def client_id(self) -> str: ...
    @property
    def scope(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    def close(self) -> None: ...
    def __enter__(self) -> "Client": ...
    def __exit__(self, _exc_type: Any = None, _exc: Any = None, _tb: Any = None) -> bool: ...

@final
class CancelToken:
    """Cancels a running poll_oauth_authentication_token from another thread."""

    def __new__(cls) -> "CancelToken": ...
    def cancel(self) -> None: ...
    @property
    def cancelled(self) -> bool: ...

@final
class AuthenticationTokenIterator(Iterator[AuthenticationToken]):
    def __iter__(self) -> "AuthenticationTokenIterator": ...
    def __next__(self) -> AuthenticationToken: ...

@final
class PamClient:
    """The Developer API client of one identity (see help(idaas.PamClient))."""

    def get_api_key(self, credential_identifier: str) -> Optional[str]: ...
    def invalidate_api_key(self, credential_identifier: str) -> None: ...
    def invalidate_all_api_keys(self) -> None: ...
    def fetch_oauth_authentication_token(
        self, credential_provider_identifier: str, scope: Optional[str] = None
    ) -> Optional[str]: ...
    def fetch_oauth_authentication_token_v2(
        self,
        credential_provider_identifier: str,
        authorization_flow: str,
        *,
        scope: Optional[str] = None,
        force_authentication: Optional[bool] = None,
        custom_parameters: Optional[Dict[str, str]] = None,
    ) -> OAuthAuthenticationTokenResponse: ...
    def get_oauth_authorization_session(self, session_uri: str) -> OAuthAuthorizationSessionResponse: ...
    def poll_oauth_authentication_token(
        self,
        credential_provider_identifier: str,
        on_authorization_url: Callable[[str], Any],
        *,
        scope: Optional[str] = None,
        force_authentication: Optional[bool] = None,
        custom_parameters: Optional[Dict[str, str]] = None,
        max_polls: int = 60,
        interval: float = 3.0,
        max_duration: float = 180.0,
        cancel: Optional[CancelToken] = None,
    ) -> OAuthAuthenticationTokenResponse: ...
    def generate_jwt_authentication_token(
        self,
        credential_provider_identifier: str,
        subject: str,
        audiences: List[str],
        *,
        issuer: Optional[str] = None,
        custom_claims: Optional[Dict[str, Any]] = None,
        expiration: Optional[int] = None,
        include_derived_short_token: Optional[bool] = None,
    ) -> JwtTokenResponse: ...
    def obtain_jwt_authentication_token(self, consumer_id: str, authentication_token_id: str) -> JwtContent: ...
    def obtain_jwt_authentication_token_by_derived_short_token(self, derived_short_token: str) -> JwtContent: ...
    def list_authentication_tokens(
        self,
        consumer_id: str,
        credential_provider_identifier: str,
        *,
        next_token: Optional[str] = None,
        max_results: Optional[int] = None,
        revoked: Optional[bool] = None,
        expired: Optional[bool] = None,
    ) -> AuthenticationTokenPage: ...
    def list_all_authentication_tokens(
        self,
        consumer_id: str,
        credential_provider_identifier: str,
        *,
        max_results: Optional[int] = None,
        revoked: Optional[bool] = None,
        expired: Optional[bool] = None,
    ) -> AuthenticationTokenIterator: ...
    def validate_authentication_token(self, token: str, token_type_hint: Optional[str] = None) -> bool: ...
    def revoke_authentication_token(self, token: str, token_type_hint: Optional[str] = None) -> None: ...
    def revoke_authentication_token_by_consumer(
        self, consumer_id: str, credential_provider_identifier: str
    ) -> None: ...
    def reinstate_authentication_token(self, token: str, token_type_hint: Optional[str] = None) -> None: ...
    def reinstate_authentication_token_by_consumer(
        self, consumer_id: str, credential_provider_identifier: str
    ) -> None: ...
    @property
    def endpoint(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    def close(self) -> None: ...
    def __enter__(self) -> "PamClient": ...
    def __exit__(self, _exc_type: Any = None, _exc: Any = None, _tb: Any = None) -> bool: ...
