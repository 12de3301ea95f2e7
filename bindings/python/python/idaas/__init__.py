"""idaas: machine credentials from an IDaaS instance, on the Rust core of the idaas project.

    import idaas

    with idaas.Client() as client:            # ~/.cloud_idaas/client-config.json or $CLOUD_IDAAS_CONFIG_PATH
        token = client.bearer_token()         # cached, refreshed ahead of expiry
        api_key = client.pam().get_api_key("openai_prod_key")

`idaas.aio` has the same calls for asyncio; `idaas.compat` is a drop-in layer for code written
against the reference SDKs (`cloud-idaas-core`, `cloud-idaas-pam-client`).
"""

from __future__ import annotations

from . import _native
from ._errors import (
    ArgumentError,
    AuthenticationError,
    AuthError,
    CancelledError,
    ClientError,
    ClosedError,
    ConfigError,
    CredentialError,
    IDaaSError,
    InternalError,
    InvalidArgumentError,
    NetworkError,
    ReentrantCallError,
    ServerError,
    ServerReplyError,
    TimeoutError,
    TransportError,
    UnexpectedResponseError,
)
from ._native import (
    DEFAULT_SCOPE,
    TOKEN_TYPE_ACCESS_TOKEN,
    TOKEN_TYPE_ID_TOKEN,
    TOKEN_TYPE_JWT,
    TOKEN_TYPE_REFRESH_TOKEN,
    AuthenticationTokenIterator,
    CancelToken,
    Client,
    PamClient,
    __version__,
)
from ._types import (
    CLASSES,
    CODES,
    Result,
    AuthenticationToken,
    AuthenticationTokenPage,
    Credential,
    JwtContent,
    JwtTokenResponse,
    OAuthAccessTokenContent,
    OAuthAuthenticationTokenResponse,
    OAuthAuthorizationSession,
    OAuthAuthorizationSessionResponse,
)

_TTL, _GRACE, _RETRY, _MAX = _native.API_KEY_CACHE_DEFAULTS


class ApiKeyCacheOptions:
    """Options of the opt-in API-key cache of `Client.pam(api_key_cache=...)`, in seconds.

    Attributes:
        ttl: how long a fetched key is served without asking the server again.
        grace: how long past `ttl` a key may still be served while refreshes fail.
        retry_interval: while serving a stale key, the pause between two refresh attempts.
        max_entries: most identifiers kept.
    """

    __slots__ = ("ttl", "grace", "retry_interval", "max_entries")

    def __init__(
        self,
        ttl: float = _TTL,
        grace: float = _GRACE,
        retry_interval: float = _RETRY,
        max_entries: int = _MAX,
    ) -> None:
        self.ttl = ttl
        self.grace = grace
        self.retry_interval = retry_interval
        self.max_entries = max_entries

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ApiKeyCacheOptions):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    def __repr__(self) -> str:
        return "ApiKeyCacheOptions(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__) + ")"


__all__ = [
    "__version__",
    "Client",
    "PamClient",
    "CancelToken",
    "AuthenticationTokenIterator",
    "ApiKeyCacheOptions",
    "DEFAULT_SCOPE",
    "TOKEN_TYPE_ACCESS_TOKEN",
    "TOKEN_TYPE_ID_TOKEN",
    "TOKEN_TYPE_JWT",
    "TOKEN_TYPE_REFRESH_TOKEN",
    "CODES",
    "CLASSES",
    "Result",
    "Credential",
    "JwtContent",
    "JwtTokenResponse",
    "AuthenticationToken",
    "AuthenticationTokenPage",
    "OAuthAccessTokenContent",
    "OAuthAuthorizationSession",
    "OAuthAuthenticationTokenResponse",
    "OAuthAuthorizationSessionResponse",
    "IDaaSError",
    "ArgumentError",
    "InvalidArgumentError",
    "ReentrantCallError",
    "ClosedError",
    "ConfigError",
    "AuthenticationError",
    "CredentialError",
    "AuthError",
    "ServerReplyError",
    "ClientError",
    "ServerError",
    "UnexpectedResponseError",
    "NetworkError",
    "TransportError",
    "TimeoutError",
    "CancelledError",
    "InternalError",
]
