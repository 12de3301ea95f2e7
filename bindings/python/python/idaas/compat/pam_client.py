"""The `cloud_idaas.pam_client` names of the reference SDK over `idaas.PamClient`:
`IDaaSPamClient` with the reference's method names, parameters, defaults and return shapes, its
result classes and `PamClientConstants`."""

from __future__ import annotations

import threading
import warnings
from typing import Any, Callable, Dict, Generic, List, Optional, Tuple, TypeVar, cast

from .. import _errors as _idaas_errors
from .._native import Client as _Client
from .._native import PamClient as _PamClient
from .._types import AuthenticationToken, AuthenticationTokenPage, JwtContent, JwtTokenResponse
from .._types import OAuthAccessTokenContent, OAuthAuthorizationSession, OAuthAuthorizationSessionResponse
from .._types import OAuthAuthenticationTokenResponse as _OAuthAuthenticationTokenResponse
from .core import IDaaSCredentialProvider, IDaaSCredentialProviderFactory, IDaaSMachineCredentialProvider
from .exceptions import ConfigException, CredentialException, translate

T = TypeVar("T")


class PamClientConstants:
    """Constants of the PAM client (the reference's `PamClientConstants`)."""

    SCOPE = "urn:cloud:idaas:pam|.all"
    STATUS_CODE_200 = 200

    OAUTH_AUTHORIZATION_FLOW_M2M = "m2m"
    OAUTH_AUTHORIZATION_FLOW_USER_FEDERATION = "user_federation"

    SESSION_STATUS_PENDING = "pending"
    SESSION_STATUS_CALLBACK_RECEIVED = "callback_received"
    SESSION_STATUS_COMPLETED = "completed"
    SESSION_STATUS_FAILED = "failed"
    SESSION_STATUS_EXPIRED = "expired"

    DEFAULT_POLLING_INTERVAL_SECONDS = 3
    DEFAULT_MAX_POLLING_RETRIES = 60
    MAX_POLLING_DURATION_SECONDS = 180


class OAuthAuthenticationTokenResponse(_OAuthAuthenticationTokenResponse):
    """`idaas.OAuthAuthenticationTokenResponse` with the reference's `has_*` helpers.
    `oauth_access_token_content` and `oauth_authorization_session` never come together."""

    def has_oauth_access_token_content(self) -> bool:
        """Whether the token is available."""
        return self.oauth_access_token_content is not None

    def has_oauth_authorization_session(self) -> bool:
        """Whether the user must authorize first (3LO)."""
        return self.oauth_authorization_session is not None

    @classmethod
    def _adapt(cls, r: _OAuthAuthenticationTokenResponse) -> "OAuthAuthenticationTokenResponse":
        return cls(**r._asdict())


class NextTokenPageableResponse(AuthenticationTokenPage, Generic[T]):
    """One page of authentication tokens: `entities`, `total_count`, `max_results`, `next_token`
    (None or empty on the last page). `idaas.AuthenticationTokenPage` under the reference's name."""

    @classmethod
    def _adapt(cls, p: AuthenticationTokenPage) -> "NextTokenPageableResponse[AuthenticationToken]":
        page = cls(**p._asdict())
        return cast("NextTokenPageableResponse[AuthenticationToken]", page)


class IDaaSPamClient:
    """The IDaaS Developer API client of the reference SDK.

    `IDaaSPamClient()` uses the factory's identity and its token for `urn:cloud:idaas:pam|.all`;
    `IDaaSPamClient.builder().credential_provider(p).build()` sends `p.get_bearer_token()`
    instead (e.g. a `StaticIDaaSCredentialProvider` holding a token exchange's result, for the
    user-delegated 3LO operations). `IDaaSCredentialProviderFactory.init()` must have run.
    """

    def __init__(
        self,
        developer_api_endpoint: Optional[str] = None,
        idaas_instance_id: Optional[str] = None,
        credential_provider: Optional[IDaaSCredentialProvider] = None,
    ) -> None:
        client = IDaaSCredentialProviderFactory._require_client()
        self._client: _Client = client
        self._lock = threading.Lock()
        own = credential_provider is None or (
            isinstance(credential_provider, IDaaSMachineCredentialProvider)
            and credential_provider._client is client
            and credential_provider.scope == PamClientConstants.SCOPE
        )
        self._provider: Optional[IDaaSCredentialProvider] = None if own else credential_provider
        self._token: Optional[str] = None
        self._pam: _PamClient = self._call(client.pam)
        if developer_api_endpoint is not None and _origin(developer_api_endpoint) != _origin(self._pam.endpoint):
            raise ConfigException(
                "UnsupportedOption",
                "idaas.compat takes the Developer API endpoint from the configuration file; "
                f"{developer_api_endpoint!r} differs from it",
            )
        if idaas_instance_id is not None and idaas_instance_id != client.instance_id:
            raise ConfigException(
                "UnsupportedOption",
                "idaas.compat takes the IDaaS instance id from the configuration file; "
                f"{idaas_instance_id!r} differs from it",
            )

    @staticmethod
    def builder() -> "IDaaSPamClientBuilder":
        """`IDaaSPamClient.builder().credential_provider(p).build()`."""
        return IDaaSPamClientBuilder()

    # -- plumbing ---------------------------------------------------------------------------

    @staticmethod
    def _call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except _idaas_errors.IDaaSError as e:
            raise translate(e, pam=True) from None

    def _native(self) -> _PamClient:
        """The idaas PAM client carrying the current bearer token of the credential provider."""
        if self._provider is None:
            return self._pam
        token = self._provider.get_bearer_token()
        if not token:
            raise CredentialException("CredentialNotFound", "the credential provider returned no bearer token")
        with self._lock:
            if token != self._token:
                self._pam = self._call(self._client.pam, access_token=token)
                self._token = token
            return self._pam

    def _op(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self._call(getattr(self._native(), name), *args, **kwargs)

    def _or_none(self, codes: Tuple[str, ...], name: str, *args: Any, **kwargs: Any) -> Any:
        """`_op`, but None where the reference returns None for a reply without the result."""
        pam = self._native()
        try:
            return getattr(pam, name)(*args, **kwargs)
        except _idaas_errors.UnexpectedResponseError as e:
            if e.server_code in codes and e.http_status == 200:
                return None
            raise translate(e, pam=True) from None
        except _idaas_errors.IDaaSError as e:
            raise translate(e, pam=True) from None

    # -- operations -------------------------------------------------------------------------

    def get_api_key(self, credential_identifier: str) -> Optional[str]:
        """The API key `credential_identifier`; None when the credential holds no API key."""
        return cast("Optional[str]", self._op("get_api_key", credential_identifier))

    def fetch_oauth_authentication_token(
        self, credential_provider_identifier: str, scope: Optional[str] = None
    ) -> Optional[str]:
        """Deprecated (use `fetch_oauth_authentication_token_v2`): the 2LO access token, or None."""
        warnings.warn(
            "fetch_oauth_authentication_token is deprecated; use fetch_oauth_authentication_token_v2 instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        return cast("Optional[str]", self._op("fetch_oauth_authentication_token", credential_provider_identifier, scope))

    def fetch_oauth_authentication_token_v2(
        self,
        credential_provider_identifier: str,
        authorization_flow: str,
        scope: Optional[str] = None,
        force_authentication: Optional[bool] = None,
        custom_parameters: Optional[Dict[str, str]] = None,
    ) -> Optional[OAuthAuthenticationTokenResponse]:
        """A token (`m2m`, or `user_federation` when already authorized) or an authorization
        session (`user_federation`). `authorization_flow` is one of
        `PamClientConstants.OAUTH_AUTHORIZATION_FLOW_*`."""
        r = self._op(
            "fetch_oauth_authentication_token_v2",
            credential_provider_identifier,
            authorization_flow,
            scope=scope,
            force_authentication=force_authentication,
            custom_parameters=custom_parameters,
        )
        return OAuthAuthenticationTokenResponse._adapt(r)

    def get_oauth_authorization_session(self, session_uri: str) -> Optional[OAuthAuthorizationSessionResponse]:
        """The state of a 3LO authorization session (`session_status` is one of
        `PamClientConstants.SESSION_STATUS_*`)."""
        return cast("Optional[OAuthAuthorizationSessionResponse]", self._op("get_oauth_authorization_session", session_uri))

    def poll_oauth_authentication_token(
        self,
        credential_provider_identifier: str,
        on_authorization_url: Callable[[str], None],
        scope: Optional[str] = None,
        force_authentication: Optional[bool] = None,
        custom_parameters: Optional[Dict[str, str]] = None,
        max_polling_retries: Optional[int] = None,
    ) -> Optional[OAuthAuthenticationTokenResponse]:
        """The whole 3LO flow, blocking: fetch; when the user must authorize, call
        `on_authorization_url(url)` once, poll the session every
        `PamClientConstants.DEFAULT_POLLING_INTERVAL_SECONDS` (at most `max_polling_retries`
        times, 60 by default, and `MAX_POLLING_DURATION_SECONDS` in all), then fetch the token.
        An exception raised by the callback propagates unchanged."""
        max_polls = PamClientConstants.DEFAULT_MAX_POLLING_RETRIES if max_polling_retries is None else max_polling_retries
        # The callback's own exception comes back from the native call unchanged.
        r = self._call(
            self._native().poll_oauth_authentication_token,
            credential_provider_identifier,
            on_authorization_url,
            scope=scope,
            force_authentication=force_authentication,
            custom_parameters=custom_parameters,
            max_polls=max_polls,
            interval=float(PamClientConstants.DEFAULT_POLLING_INTERVAL_SECONDS),
            max_duration=float(PamClientConstants.MAX_POLLING_DURATION_SECONDS),
        )
        return OAuthAuthenticationTokenResponse._adapt(r)

    def generate_jwt_authentication_token(
        self,
        credential_provider_identifier: str,
        subject: str,
        audiences: List[str],
        issuer: Optional[str] = None,
        custom_claims: Optional[Dict[str, Any]] = None,
        expiration: Optional[int] = None,
        include_derived_short_token: Optional[bool] = None,
    ) -> Optional[JwtTokenResponse]:
        """A JWT authentication token for `subject` and `audiences`; None when the reply holds no
        JWT."""
        return cast("Optional[JwtTokenResponse]", self._or_none(
            ("MissingJwtContent",),
            "generate_jwt_authentication_token",
            credential_provider_identifier,
            subject,
            list(audiences),
            issuer=issuer,
            custom_claims=custom_claims,
            expiration=expiration,
            include_derived_short_token=include_derived_short_token,
        ))

    def obtain_jwt_authentication_token(self, consumer_id: str, authentication_token_id: str) -> Optional[JwtContent]:
        """The JWT `authentication_token_id` of `consumer_id`; None when the reply holds none."""
        return cast("Optional[JwtContent]", self._or_none(
            ("MissingJwtContent",), "obtain_jwt_authentication_token", consumer_id, authentication_token_id
        ))

    def obtain_jwt_authentication_token_by_derived_short_token(self, derived_short_token: str) -> Optional[JwtContent]:
        """The JWT a derived short token stands for; None when the reply holds none."""
        return cast("Optional[JwtContent]", self._or_none(
            ("MissingJwtContent",), "obtain_jwt_authentication_token_by_derived_short_token", derived_short_token
        ))

    def list_authentication_tokens(
        self,
        consumer_id: str,
        credential_provider_identifier: str,
        next_token: Optional[str] = None,
        max_results: Optional[int] = None,
        revoked: Optional[bool] = None,
        expired: Optional[bool] = None,
    ) -> Optional[NextTokenPageableResponse[AuthenticationToken]]:
        """One page of the authentication tokens of `consumer_id` from the credential provider
        `credential_provider_identifier`."""
        page = self._op(
            "list_authentication_tokens",
            consumer_id,
            credential_provider_identifier,
            next_token=next_token,
            max_results=max_results,
            revoked=revoked,
            expired=expired,
        )
        return NextTokenPageableResponse._adapt(page)

    def validate_authentication_token(self, token: str, token_type_hint: Optional[str] = None) -> Optional[bool]:
        """Whether `token` (a JWT or its derived short token) is active; None when the reply does
        not say."""
        return cast("Optional[bool]", self._or_none(("InvalidResponseBody",), "validate_authentication_token", token, token_type_hint))

    def revoke_authentication_token(self, token: str, token_type_hint: Optional[str] = None) -> None:
        """Revoke `token`."""
        self._op("revoke_authentication_token", token, token_type_hint)

    def revoke_authentication_token_by_consumer(self, consumer_id: str, credential_provider_identifier: str) -> None:
        """Revoke every token of `consumer_id` from the credential provider."""
        self._op("revoke_authentication_token_by_consumer", consumer_id, credential_provider_identifier)

    def reinstate_authentication_token(self, token: str, token_type_hint: Optional[str] = None) -> None:
        """Reinstate the revoked `token`."""
        self._op("reinstate_authentication_token", token, token_type_hint)

    def reinstate_authentication_token_by_consumer(self, consumer_id: str, credential_provider_identifier: str) -> None:
        """Reinstate every token of `consumer_id` from the credential provider."""
        self._op("reinstate_authentication_token_by_consumer", consumer_id, credential_provider_identifier)

    def __repr__(self) -> str:
        return f"IDaaSPamClient(endpoint={self._pam.endpoint!r})" if not self._pam.closed else "IDaaSPamClient(closed)"


class IDaaSPamClientBuilder:
    """Builder of `IDaaSPamClient` (the reference's `IDaaSPamClient.IDaaSPamClientBuilder`)."""

    def __init__(self) -> None:
        self._developer_api_endpoint: Optional[str] = None
        self._idaas_instance_id: Optional[str] = None
        self._credential_provider: Optional[IDaaSCredentialProvider] = None

    def developer_api_endpoint(self, developer_api_endpoint: str) -> "IDaaSPamClientBuilder":
        self._developer_api_endpoint = developer_api_endpoint
        return self

    def idaas_instance_id(self, idaas_instance_id: str) -> "IDaaSPamClientBuilder":
        self._idaas_instance_id = idaas_instance_id
        return self

    def credential_provider(self, credential_provider: IDaaSCredentialProvider) -> "IDaaSPamClientBuilder":
        self._credential_provider = credential_provider
        return self

    def build(self) -> IDaaSPamClient:
        return IDaaSPamClient(self._developer_api_endpoint, self._idaas_instance_id, self._credential_provider)


IDaaSPamClient.IDaaSPamClientBuilder = IDaaSPamClientBuilder  # type: ignore[attr-defined]


def _origin(endpoint: str) -> str:
    e = endpoint.strip().lower()
    for prefix in ("https://", "http://"):
        if e.startswith(prefix):
            e = e[len(prefix):]
    return e.rstrip("/")


__all__ = [
    "IDaaSPamClient",
    "IDaaSPamClientBuilder",
    "PamClientConstants",
    "AuthenticationToken",
    "JwtContent",
    "JwtTokenResponse",
    "NextTokenPageableResponse",
    "OAuthAccessTokenContent",
    "OAuthAuthenticationTokenResponse",
    "OAuthAuthorizationSession",
    "OAuthAuthorizationSessionResponse",
]
