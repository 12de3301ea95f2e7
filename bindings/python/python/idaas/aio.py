"""asyncio variants: `AsyncClient` and `AsyncPamClient` never block the event loop.

A fresh cached token is returned at once (it never waits); every call that may touch the network
runs in a thread of an executor (the loop's default one unless given), where the core releases the
GIL. Cancelling the awaiting task abandons the result; the call itself finishes in its thread
within its time budget (`httpConfiguration.callTimeout`).

    async with idaas.aio.AsyncClient() as client:
        token = await client.bearer_token()
        key = await client.pam().get_api_key("openai_prod_key")
"""

from __future__ import annotations

import asyncio
import functools
from concurrent.futures import Executor
from typing import Any, Callable, Optional, TypeVar

from ._native import Client, PamClient
from ._types import Credential

T = TypeVar("T")


class _Runner:
    def __init__(self, executor: Optional[Executor]) -> None:
        self._executor = executor

    async def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))


class AsyncClient(_Runner):
    """`idaas.Client` for asyncio. `AsyncClient(path=None, *, executor=None, **options)` takes the
    options of `idaas.Client`; `AsyncClient.wrap(client)` adopts an existing client."""

    def __init__(self, path: Any = None, *, executor: Optional[Executor] = None, **options: Any) -> None:
        super().__init__(executor)
        self.client: Client = Client(path, **options)

    @classmethod
    def wrap(cls, client: Client, *, executor: Optional[Executor] = None) -> "AsyncClient":
        """An AsyncClient sharing `client` (and its caches)."""
        self = cls.__new__(cls)
        _Runner.__init__(self, executor)
        self.client = client
        return self

    async def bearer_token(self, scope: Optional[str] = None) -> str:
        """`Client.bearer_token`: at once when cached and fresh, else in a thread."""
        token = self.client.cached_bearer_token(scope)
        if token is not None:
            return token
        return await self._run(self.client.bearer_token, scope)

    async def credential(self, scope: Optional[str] = None) -> Credential:
        """`Client.credential` in a thread."""
        return await self._run(self.client.credential, scope)

    async def exchange_token(self, subject_token: str, subject_token_type: Optional[str] = None, **kwargs: Any) -> Credential:
        """`Client.exchange_token` in a thread."""
        return await self._run(self.client.exchange_token, subject_token, subject_token_type, **kwargs)

    def pam(self, **kwargs: Any) -> "AsyncPamClient":
        """`Client.pam` (no I/O) as an AsyncPamClient on the same executor."""
        return AsyncPamClient(self.client.pam(**kwargs), executor=self._executor)

    async def close(self) -> None:
        self.client.close()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.client.close()

    def __repr__(self) -> str:
        return f"idaas.aio.AsyncClient({self.client!r})"


def _async_op(name: str) -> Callable[..., Any]:
    sync = getattr(PamClient, name)

    async def op(self: "AsyncPamClient", *args: Any, **kwargs: Any) -> Any:
        return await self._run(getattr(self.pam, name), *args, **kwargs)

    op.__name__ = name
    op.__qualname__ = f"AsyncPamClient.{name}"
    op.__doc__ = f"`PamClient.{name}` in a thread.\n\n{sync.__doc__ or ''}"
    return op


class AsyncPamClient(_Runner):
    """`idaas.PamClient` for asyncio: every operation is a coroutine run in a thread."""

    def __init__(self, pam: PamClient, *, executor: Optional[Executor] = None) -> None:
        super().__init__(executor)
        self.pam = pam

    get_api_key = _async_op("get_api_key")
    fetch_oauth_authentication_token = _async_op("fetch_oauth_authentication_token")
    fetch_oauth_authentication_token_v2 = _async_op("fetch_oauth_authentication_token_v2")
    get_oauth_authorization_session = _async_op("get_oauth_authorization_session")
    poll_oauth_authentication_token = _async_op("poll_oauth_authentication_token")
    generate_jwt_authentication_token = _async_op("generate_jwt_authentication_token")
    obtain_jwt_authentication_token = _async_op("obtain_jwt_authentication_token")
    obtain_jwt_authentication_token_by_derived_short_token = _async_op(
        "obtain_jwt_authentication_token_by_derived_short_token"
    )
    list_authentication_tokens = _async_op("list_authentication_tokens")
    validate_authentication_token = _async_op("validate_authentication_token")
    revoke_authentication_token = _async_op("revoke_authentication_token")
    revoke_authentication_token_by_consumer = _async_op("revoke_authentication_token_by_consumer")
    reinstate_authentication_token = _async_op("reinstate_authentication_token")
    reinstate_authentication_token_by_consumer = _async_op("reinstate_authentication_token_by_consumer")

    def invalidate_api_key(self, credential_identifier: str) -> None:
        """`PamClient.invalidate_api_key` (no I/O)."""
        self.pam.invalidate_api_key(credential_identifier)

    async def close(self) -> None:
        self.pam.close()

    async def __aenter__(self) -> "AsyncPamClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.pam.close()


__all__ = ["AsyncClient", "AsyncPamClient"]
