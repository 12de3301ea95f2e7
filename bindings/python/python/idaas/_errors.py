"""The exceptions of idaas: one class per error kind of the core, under one base per error class
of the C ABI (the hundreds group of a code), all under `IDaaSError`.

Every exception carries what the core knows about the failure and never a secret: `code` (the
catalogue number of include/idaas.h), `code_name`, `error_class`, `server_code` (the server's or the
library's short error code), `http_status`, `request_id` and `retryable`.
"""

from __future__ import annotations

import builtins

from ._types import CLASSES, CODES

TYPE_CHECKING = False  # `typing` is not imported at run time (import time)
if TYPE_CHECKING:
    from typing import Dict, Optional, Tuple, Type

_CLASS_OF_GROUP = {value: name for name, value in CLASSES.items()}


class IDaaSError(Exception):
    """Base of every error raised by idaas."""

    def __init__(
        self,
        message: str,
        *,
        code_name: str = "INTERNAL",
        server_code: Optional[str] = None,
        http_status: Optional[int] = None,
        request_id: Optional[str] = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        #: The name of the catalogue code (`CONFIG`, `TIMEOUT`, ...).
        self.code_name = code_name
        #: The catalogue code of include/idaas.h (`idaas.CODES[code_name]`).
        self.code = CODES.get(code_name, CODES["INTERNAL"])
        #: The class of the code (`ARGUMENT`, `CONFIG`, `AUTHENTICATION`, `SERVER_REPLY`, `NETWORK`,
        #: `CANCELLED`, `INTERNAL`).
        self.error_class = _CLASS_OF_GROUP.get(self.code // 100, "INTERNAL")
        #: The server's error code (e.g. `invalid_client`) or the library's short code; None if none.
        self.server_code = server_code
        #: The HTTP status of the reply that failed, if there was one.
        self.http_status = http_status
        #: The server's request id, if it sent one (quote it to the IDaaS operator).
        self.request_id = request_id
        #: Whether trying again later can help (server errors, throttling, network failures).
        self.retryable = retryable

    def __repr__(self) -> str:
        extra = "".join(
            f", {k}={v!r}"
            for k, v in (
                ("server_code", self.server_code),
                ("http_status", self.http_status),
                ("request_id", self.request_id),
            )
            if v is not None
        )
        return f"{type(self).__name__}({self.message!r}{extra})"


class ArgumentError(IDaaSError, ValueError):
    """Class ARGUMENT: the call's arguments are invalid; fix the caller."""


class InvalidArgumentError(ArgumentError):
    """An argument is invalid (empty identifier, bad scope syntax, bad option)."""


class ReentrantCallError(ArgumentError):
    """A plugin asked its own client for the token it is fetching (it would wait forever)."""


class ClosedError(ArgumentError):
    """The client (or PAM client) was closed."""


class ConfigError(IDaaSError):
    """Class CONFIG: the configuration is missing, unreadable or invalid."""


class AuthenticationError(IDaaSError):
    """Class AUTHENTICATION: no credential could be produced, or the server refused it."""


class CredentialError(AuthenticationError):
    """A local credential could not be produced (key, secret variable, OIDC token file, plugin)."""


class AuthError(AuthenticationError):
    """A server refused our authentication or authorization (e.g. `invalid_client`, HTTP 401/403)."""


class ServerReplyError(IDaaSError):
    """Class SERVER_REPLY: the server answered, but not with what was asked for."""


class ClientError(ServerReplyError):
    """The server rejected the request (4xx other than 401/403: not found, bad parameter, throttled)."""


class ServerError(ServerReplyError):
    """The server failed (5xx)."""


class UnexpectedResponseError(ServerReplyError):
    """The server's reply is not one we can use (redirect, wrong body, over the size limit)."""


class NetworkError(IDaaSError):
    """Class NETWORK: the network failed or was too slow."""


class TransportError(NetworkError):
    """Connection refused or reset, DNS, TLS handshake or certificate failure."""


class TimeoutError(NetworkError, builtins.TimeoutError):  # noqa: A001 - the idaas.TimeoutError
    """A connect or read timeout or the call's time budget expired (also a builtins.TimeoutError)."""

    def __str__(self) -> str:
        return self.message


class CancelledError(IDaaSError):
    """Class CANCELLED: the caller cancelled the call."""


class InternalError(IDaaSError):
    """Class INTERNAL: a bug or an unexpected state inside the library."""


_KINDS: Dict[str, Tuple[Type[IDaaSError], str]] = {
    "invalid_argument": (InvalidArgumentError, "INVALID_ARGUMENT"),
    "config": (ConfigError, "CONFIG"),
    "credential": (CredentialError, "CREDENTIAL"),
    "auth": (AuthError, "AUTH"),
    "client": (ClientError, "CLIENT_ERROR"),
    "server": (ServerError, "SERVER_ERROR"),
    "unexpected_response": (UnexpectedResponseError, "UNEXPECTED_RESPONSE"),
    "transport": (TransportError, "TRANSPORT"),
    "timeout": (TimeoutError, "TIMEOUT"),
    "cancelled": (CancelledError, "CANCELLED"),
    "internal": (InternalError, "INTERNAL"),
    "closed": (ClosedError, "INVALID_ARGUMENT"),
}


def _from_native(
    kind: str,
    reentrant: bool,
    server_code: Optional[str],
    message: str,
    http_status: Optional[int],
    request_id: Optional[str],
    retryable: bool,
) -> IDaaSError:
    """The exception for a core error (called by the extension module)."""
    cls, code_name = _KINDS.get(kind, (InternalError, "INTERNAL"))
    if reentrant:
        cls, code_name = ReentrantCallError, "REENTRANT_CALL"
    return cls(
        message,
        code_name=code_name,
        server_code=server_code,
        http_status=http_status,
        request_id=request_id,
        retryable=retryable,
    )


__all__ = [
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
