"""The exception classes of the reference SDKs (`cloud_idaas.core.exceptions`), and the translation
of idaas exceptions into them.

Every exception idaas.compat raises for a library failure is an instance of the reference-named
class *and* of the idaas class of the same failure, so both styles of `except` clause work::

    except ClientException as e:        # reference style: e.error_code, e.error_message, e.request_id
    except idaas.AuthError as e:        # idaas style: e.server_code, e.http_status, e.retryable

`type(e).__name__` is the reference name. Messages never contain a secret.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Dict, Optional, Tuple, Type, TypeVar, cast

from .. import _errors as _idaas

T = TypeVar("T")


class IDaaSException(Exception):
    """Base of the reference SDK's exceptions."""

    def __init__(self, message: Optional[str] = None, cause: Optional[BaseException] = None) -> None:
        super().__init__(message)
        self._message = message
        self._cause = cause

    @property
    def message(self) -> Optional[str]:
        """The exception's text (`"<error_code>: <error_message>"` when both are set)."""
        return self._message

    @property
    def cause(self) -> Optional[BaseException]:
        """The underlying exception, when there is one."""
        return self._cause


class _CodeMessageException(IDaaSException):
    """An exception with `error_code` and `error_message`."""

    def __init__(
        self,
        error_code: Optional[str] = None,
        error_message: Optional[str] = None,
        cause: Optional[BaseException] = None,
    ) -> None:
        # One positional argument is the message, as in the reference.
        if error_code is not None and error_message is None and cause is None:
            error_code, error_message = None, error_code
        self._error_code = error_code
        self._error_message = error_message
        super().__init__(_text(error_code, error_message), cause)

    @property
    def error_code(self) -> Optional[str]:
        """The server's error code (e.g. `invalid_client`) or the library's short code."""
        return self._error_code

    @error_code.setter
    def error_code(self, value: Optional[str]) -> None:
        self._error_code = value

    @property
    def error_message(self) -> Optional[str]:
        """The error description."""
        return self._error_message

    @error_message.setter
    def error_message(self, value: Optional[str]) -> None:
        self._error_message = value


class ClientException(_CodeMessageException):
    """The request was refused or failed on the client's side (4xx, bad argument, ...)."""

    def __init__(
        self,
        error_code: Optional[str] = None,
        error_message: Optional[str] = None,
        request_id: Optional[str] = None,
    ) -> None:
        super().__init__(error_code, error_message)
        self._request_id = request_id

    @property
    def request_id(self) -> Optional[str]:
        """The server's request id, if it sent one."""
        return self._request_id

    @request_id.setter
    def request_id(self, value: Optional[str]) -> None:
        self._request_id = value


class ServerException(_CodeMessageException):
    """The server failed (5xx)."""

    def __init__(
        self,
        error_code: Optional[str] = None,
        error_message: Optional[str] = None,
        request_id: Optional[str] = None,
    ) -> None:
        super().__init__(error_code, error_message)
        self._request_id = request_id

    @property
    def request_id(self) -> Optional[str]:
        """The server's request id, if it sent one."""
        return self._request_id

    @request_id.setter
    def request_id(self, value: Optional[str]) -> None:
        self._request_id = value


class ConfigException(ClientException):
    """The configuration is missing or invalid, or the factory is not initialised."""

    def __init__(self, error_code: Optional[str] = None, error_message: Optional[str] = None) -> None:
        if error_code is not None and error_message is None:
            error_code, error_message = None, error_code
        super().__init__(error_code, error_message)


class CacheException(_CodeMessageException):
    """A credential provider could not produce its credential; `cause` is the reason."""


class ConcurrentOperationException(ClientException):
    """Kept for the reference's name; idaas.compat never raises it (refreshes are single-flight)."""

    def __init__(
        self,
        error_code: str = "ConcurrentOperationFailed",
        error_message: str = "A concurrent operation is in progress, causing the current operation to fail.",
    ) -> None:
        super().__init__(error_code, error_message)


class CredentialException(_CodeMessageException):
    """A local credential (secret, private key, OIDC token file, plugin) could not be produced."""


class EncodingException(_CodeMessageException):
    """Kept for the reference's name; idaas.compat never raises it."""


class HttpException(IDaaSException):
    """The network failed: connection refused or reset, TLS, DNS, timeout."""

    def __init__(self, error_message: Optional[str] = None, cause: Optional[BaseException] = None) -> None:
        super().__init__(error_message, cause)


class IDaaSUnexpectedException(Exception):
    """An unexpected failure: a server reply that cannot be used, or a bug."""

    def __init__(
        self,
        message: Optional[str] = None,
        error_code: Optional[str] = None,
        cause: Optional[BaseException] = None,
    ) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.error_message = message
        self.cause = cause
        self.message = message


def _text(code: Optional[str], message: Optional[str]) -> Optional[str]:
    return f"{code}: {message}" if code and message else message


# ---------------------------------------------------------------------------------------------
# Translation of idaas exceptions (done at the boundary of every compat call)
# ---------------------------------------------------------------------------------------------

#: Reference class of each idaas class, for the core calls (factory, providers, token exchange).
#: The first matching row wins.
_CORE = (
    (_idaas.ReentrantCallError, ClientException),
    (_idaas.ClosedError, ClientException),
    (_idaas.InvalidArgumentError, ConfigException),  # the reference: ConfigException InvalidScope
    (_idaas.ConfigError, ConfigException),
    (_idaas.CredentialError, CredentialException),
    (_idaas.AuthError, ClientException),
    (_idaas.ClientError, ClientException),
    (_idaas.ServerError, ServerException),
    (_idaas.UnexpectedResponseError, ClientException),  # the reference: 3xx is a ClientException
    (_idaas.TimeoutError, None),  # ConnectTimeOut: ClientException, ReadTimeOut: ServerException
    (_idaas.NetworkError, HttpException),
    (_idaas.CancelledError, ClientException),
    (_idaas.IDaaSError, IDaaSUnexpectedException),
)

#: The same for the PAM client: SDK-side checks and 3LO outcomes are ClientExceptions there, an
#: unusable reply is an IDaaSUnexpectedException.
_PAM = (
    (_idaas.ReentrantCallError, ClientException),
    (_idaas.ClosedError, ClientException),
    (_idaas.InvalidArgumentError, ClientException),  # e.g. invalid_authorization_flow
    (_idaas.ConfigError, ConfigException),
    (_idaas.CredentialError, CredentialException),
    (_idaas.AuthError, ClientException),  # 401/403, and a failed or expired 3LO session
    (_idaas.ClientError, ClientException),
    (_idaas.ServerError, ServerException),
    (_idaas.UnexpectedResponseError, IDaaSUnexpectedException),
    (_idaas.TimeoutError, None),  # polling_timeout and ConnectTimeOut: ClientException, ReadTimeOut: ServerException
    (_idaas.NetworkError, HttpException),
    (_idaas.CancelledError, ClientException),
    (_idaas.IDaaSError, IDaaSUnexpectedException),
)

_COMBOS: Dict[Tuple[type, ...], Type[BaseException]] = {}
_COMBOS_LOCK = threading.Lock()


def _combo(bases: Tuple[type, ...]) -> Type[BaseException]:
    """A class deriving from `bases`, named as its first base (the reference name)."""
    with _COMBOS_LOCK:
        cls = _COMBOS.get(bases)
        if cls is None:
            first = bases[0]
            cls = type(
                first.__name__,
                bases,
                {
                    "__module__": first.__module__,
                    "__qualname__": first.__qualname__,
                    "__doc__": first.__doc__,
                },
            )
            _COMBOS[bases] = cls
        return cls


#: The reference classes of timeouts by code (the Python reference's choice for the first two).
_TIMEOUTS = {"ConnectTimeOut": ClientException, "ReadTimeOut": ServerException, "polling_timeout": ClientException}


def _reference_class(err: _idaas.IDaaSError, table: Any) -> Type[BaseException]:
    for idaas_cls, ref_cls in table:
        if isinstance(err, idaas_cls):
            if ref_cls is None:  # the TimeoutError rows
                return _TIMEOUTS.get(err.server_code or "", HttpException)
            return cast(Type[BaseException], ref_cls)
    return IDaaSUnexpectedException


def _build(bases: Tuple[type, ...], err: _idaas.IDaaSError, cause: Optional[BaseException]) -> BaseException:
    cls = _combo(bases)
    code, message = err.server_code, err.message
    text = message if issubclass(cls, (HttpException, IDaaSUnexpectedException)) else _text(code, message)
    exc = cls.__new__(cls)
    BaseException.__init__(exc, text)
    # The reference fields.
    if isinstance(exc, IDaaSException):
        exc._message = text
        exc._cause = cause
    if isinstance(exc, _CodeMessageException):
        exc._error_code = code
        exc._error_message = message
    if isinstance(exc, IDaaSUnexpectedException):
        exc.error_code = code
        exc.error_message = message
        exc.cause = cause
        exc.message = message
    # The idaas fields (`message` is the reference property on IDaaSException subclasses).
    for name, value in vars(err).items():
        if name != "message":
            setattr(exc, name, value)
    return exc


def translate(err: _idaas.IDaaSError, *, pam: bool = False) -> BaseException:
    """The compat exception for the idaas exception `err` (see the module docs)."""
    ref_cls = _reference_class(err, _PAM if pam else _CORE)
    return _build((ref_cls, type(err)), err, None)


def translate_cache(err: _idaas.IDaaSError) -> BaseException:
    """The compat exception for a credential provider that could not produce its credential:
    a `CacheException` (as the reference raises there) that is also the translated class of the
    failure; `cause` is the failure as `translate` gives it."""
    ref_cls = _reference_class(err, _CORE)
    cause = translate(err)
    if ref_cls is IDaaSUnexpectedException:
        bases: Tuple[type, ...] = (CacheException, type(err))
    else:
        bases = (CacheException, ref_cls, type(err))
    return _build(bases, err, cause)


def call(fn: Callable[..., T], *args: Any, _pam: bool = False, **kwargs: Any) -> T:
    """`fn(*args, **kwargs)` with idaas exceptions translated."""
    try:
        return fn(*args, **kwargs)
    except _idaas.IDaaSError as e:
        raise translate(e, pam=_pam) from None


__all__ = [
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
]
