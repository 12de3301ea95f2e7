"""Threads: one client shared by 32 threads, the GIL released during network calls, close and
garbage-collection races."""

from __future__ import annotations

import gc
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor

import pytest

import idaas
from conftest import API_KEY


def test_32_threads_share_one_client(emulator, client):
    emulator.clear_requests()
    pam = client.pam()
    barrier = threading.Barrier(32)

    def work(i):
        barrier.wait()
        out = []
        for _ in range(50):
            out.append(client.bearer_token())
        scoped = client.bearer_token("api.example.com|read:file")
        key = pam.get_api_key("openai_prod_key")
        return set(out), scoped, key

    with ThreadPoolExecutor(32) as ex:
        results = list(ex.map(work, range(32)))
    tokens = set().union(*(r[0] for r in results))
    assert len(tokens) == 1
    assert len({r[1] for r in results}) == 1
    assert all(r[2] == API_KEY for r in results)
    # single flight: one request per scope (default, the scoped one, the PAM scope = default)
    assert emulator.token_requests() == 2


def test_the_gil_is_released_during_a_slow_call(client, faults):
    pam = client.pam()
    client.bearer_token()
    faults.add_fault("devapi:ObtainCredential=latency/600:1")
    done = threading.Event()
    result = {}

    def slow():
        result["key"] = pam.get_api_key("openai_prod_key")
        done.set()

    t = threading.Thread(target=slow)
    t0 = time.monotonic()
    t.start()
    ticks = 0
    while not done.is_set():
        ticks += 1  # pure Python: runs only while the other thread does not hold the GIL
        time.sleep(0.001)
    t.join()
    assert time.monotonic() - t0 >= 0.5
    assert result["key"] == API_KEY
    assert ticks > 100, ticks


def test_the_gil_is_released_during_a_slow_token_fetch(emulator, faults):
    faults.add_fault("token=latency/500:1")
    with idaas.Client.from_file(emulator.config_path) as c:
        t = threading.Thread(target=c.bearer_token)
        t.start()
        ticks = 0
        while t.is_alive():
            ticks += 1
            time.sleep(0.001)
        assert ticks > 100, ticks


def test_close_while_calls_are_in_flight(emulator, faults):
    c = idaas.Client.from_file(emulator.config_path)
    faults.add_fault("token=latency/300:1")
    errors, tokens = [], []

    def call():
        try:
            tokens.append(c.bearer_token())
        except idaas.ClosedError as e:
            errors.append(e)

    threads = [threading.Thread(target=call) for _ in range(16)]
    for t in threads:
        t.start()
    time.sleep(0.05)
    c.close()  # returns at once; calls in flight finish with their own reference
    for t in threads:
        t.join(10)
    assert not any(t.is_alive() for t in threads)
    assert len(tokens) + len(errors) == 16 and tokens
    with pytest.raises(idaas.ClosedError):
        c.bearer_token()


def test_garbage_collection_of_clients_in_use(emulator):
    refs = []
    for _ in range(50):
        c = idaas.Client.from_file(emulator.config_path)
        p = c.pam()
        c.bearer_token()
        refs.append(weakref.ref(c))
        del c, p
    gc.collect()
    assert all(r() is None for r in refs)


def test_plugin_cycle_is_collected(emulator):
    """A plugin closure that refers to its own client is a reference cycle through Rust: it is freed
    on close() (and the close drops the plugin)."""
    holder = {}

    def plugin(scope):
        holder["client"]  # refers to the client
        return {"access_token": f"t-{len(scope)}", "expires_in": 3600}

    cfg = {
        "idaasInstanceId": "idaas_test",
        "clientId": "app_test",
        "issuer": "http://127.0.0.1:9/oauth2",
        "tokenEndpoint": "http://127.0.0.1:9/oauth2/token",
        "authnConfiguration": {"authnMethod": "PLUGIN", "pluginName": "cyc"},
    }
    c = idaas.Client.from_dict(cfg, plugins={"cyc": plugin})
    holder["client"] = c
    assert c.bearer_token().startswith("t-")
    r = weakref.ref(plugin)
    del plugin
    c.close()
    holder.clear()
    del c
    gc.collect()
    assert r() is None
