"""idaas.aio: calls never block the event loop, also under the emulator's latency fault."""

from __future__ import annotations

import asyncio
import time

import pytest

import idaas
import idaas.aio
from conftest import API_KEY


async def ticking(until: asyncio.Event) -> int:
    n = 0
    while not until.is_set():
        n += 1
        await asyncio.sleep(0.005)
    return n


def test_async_calls_keep_the_loop_ticking(emulator, faults):
    async def main():
        faults.add_fault("token=latency/400:1")
        async with idaas.aio.AsyncClient(emulator.config_path) as c:
            stop = asyncio.Event()
            ticker = asyncio.ensure_future(ticking(stop))
            t0 = time.monotonic()
            token = await c.bearer_token()  # slow: in a thread
            slow = time.monotonic() - t0
            faults.add_fault("devapi:ObtainCredential=latency/400:1")
            pam = c.pam()
            key = await pam.get_api_key("openai_prod_key")
            stop.set()
            ticks = await ticker
            assert token and key == API_KEY
            assert slow >= 0.35
            assert ticks >= 60, ticks  # ~0.8 s of 5 ms ticks while both calls waited
            # cached: returned without a thread
            assert await c.bearer_token() == token
            cred = await c.credential()
            assert cred.access_token == token
            ex = await c.exchange_token(token)
            assert ex.access_token
            many = await asyncio.gather(*(pam.get_api_key("openai_prod_key") for _ in range(20)))
            assert set(many) == {API_KEY}
            with pytest.raises(idaas.ClientError):
                await pam.get_api_key("no_such_credential")
            await pam.close()

    asyncio.run(main())


def test_cancelled_task_does_not_break_the_client(emulator, faults):
    async def main():
        async with idaas.aio.AsyncClient(emulator.config_path) as c:
            await c.bearer_token()
            pam = c.pam()
            faults.add_fault("devapi:ObtainCredential=latency/500:1")
            task = asyncio.ensure_future(pam.get_api_key("openai_prod_key"))
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert await pam.get_api_key("openai_prod_key") == API_KEY

    asyncio.run(main())


def test_wrap_shares_the_cache(client):
    async def main():
        a = idaas.aio.AsyncClient.wrap(client)
        assert await a.bearer_token() == client.bearer_token()
        assert "AsyncClient" in repr(a)

    asyncio.run(main())
