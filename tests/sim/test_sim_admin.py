"""The admin API: read and change faults at runtime, step the market, loopback clients only."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar
from unittest import mock

import aiohttp
import ccxt.pro
import pytest
from aiohttp.test_utils import make_mocked_request
from ccxt.base.errors import ExchangeNotAvailable

from tradetui.sim.admin import is_loopback
from tradetui.sim.faults import Faults
from tradetui.sim.server import SimServer

T = TypeVar("T")


def within(awaitable: Awaitable[T], seconds: float = 10.0) -> Awaitable[T]:
    """Bound an await so that nothing in these tests can hang."""
    return asyncio.wait_for(awaitable, seconds)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield session


def _url(server: SimServer, path: str) -> str:
    assert server.info is not None
    return server.info.rest + path


async def test_get_faults_reports_the_start_up_settings(http: aiohttp.ClientSession) -> None:
    server = SimServer(tick_interval=3600, faults=Faults(rest_latency_ms=5, lose_acks=2))
    await within(server.start())
    try:
        async with http.get(_url(server, "/admin/faults")) as response:
            assert response.status == 200
            faults = await response.json()
        assert (faults["rest_latency_ms"], faults["lose_acks"], faults["error_rate"]) == (5, 2, 0)
    finally:
        await server.stop()


async def test_post_faults_takes_effect_on_the_next_request(
    manual_server: SimServer, manual_ex: ccxt.pro.kraken, http: aiohttp.ClientSession
) -> None:
    await within(manual_ex.fetch_ticker("BTC/USD"))
    url = _url(manual_server, "/admin/faults")
    async with http.post(url, json={"error_rate": 1, "error_kind": "unavailable"}) as response:
        assert response.status == 200
        assert (await response.json())["error_rate"] == 1
    with pytest.raises(ExchangeNotAvailable):
        await within(manual_ex.fetch_ticker("BTC/USD"))
    async with http.post(url, json={"error_rate": 0}) as response:
        assert response.status == 200
    await within(manual_ex.fetch_ticker("BTC/USD"))


@pytest.mark.parametrize(
    ("body", "complaint"),
    [({"error_rate": 7}, "error_rate"), ({"bogus": 1}, "unknown fault"), ([1], "JSON object")],
)
async def test_post_faults_refuses_bad_settings_and_keeps_the_old_ones(
    manual_server: SimServer, http: aiohttp.ClientSession, body: Any, complaint: str
) -> None:
    async with http.post(_url(manual_server, "/admin/faults"), json=body) as response:
        assert response.status == 400
        assert complaint in (await response.json())["error"]
    assert manual_server.faults.faults == Faults()


async def test_post_step_advances_the_market_one_tick(
    manual_server: SimServer, http: aiohttp.ClientSession
) -> None:
    market = manual_server.exchange.market
    before = [pm.last_ticks for pm in market.pairs.values()]
    books_before = [(pm.best_bid(), pm.best_ask()) for pm in market.pairs.values()]
    for _ in range(3):
        async with http.post(_url(manual_server, "/admin/step")) as response:
            assert response.status == 200
    after = [pm.last_ticks for pm in market.pairs.values()]
    books_after = [(pm.best_bid(), pm.best_ask()) for pm in market.pairs.values()]
    assert (before, books_before) != (after, books_after)


@pytest.mark.parametrize(
    ("remote", "allowed"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("10.0.0.5", False),
        ("192.168.1.2", False),
        ("::ffff:10.0.0.5", False),
        ("", False),
        (None, False),
        ("not-an-address", False),
    ],
)
def test_is_loopback(remote: str | None, allowed: bool) -> None:
    assert is_loopback(remote) is allowed


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/admin/faults"), ("POST", "/admin/faults"), ("POST", "/admin/step")],
)
async def test_admin_handlers_refuse_a_non_loopback_peer(method: str, path: str) -> None:
    server = SimServer(tick_interval=3600)
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (
        ("10.1.2.3", 50000) if name == "peername" else default
    )
    request = make_mocked_request(method, path, transport=transport)
    assert request.remote == "10.1.2.3"
    handler = {
        ("GET", "/admin/faults"): server.admin_api.get_faults,
        ("POST", "/admin/faults"): server.admin_api.set_faults,
        ("POST", "/admin/step"): server.admin_api.step,
    }[(method, path)]
    ticks_before = [pm.last_ticks for pm in server.exchange.market.pairs.values()]
    response = await within(handler(request))
    assert response.status == 403
    assert [pm.last_ticks for pm in server.exchange.market.pairs.values()] == ticks_before
    assert server.faults.faults == Faults()


async def test_cli_faults_flag_sets_the_start_up_faults(http: aiohttp.ClientSession) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tradetui", "sim", "--port", "0",
        "--faults", "latency=5,lose_acks=2,cancel_only=XXBTZUSD+ETH/USD",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        endpoints = json.loads(await within(process.stdout.readline(), 30))
        async with http.get(endpoints["rest"] + "/admin/faults") as response:
            faults = await response.json()
        assert (faults["rest_latency_ms"], faults["lose_acks"]) == (5, 2)
        assert faults["cancel_only"] == ["ETH/USD", "XXBTZUSD"]
        process.send_signal(signal.SIGTERM)
        assert await within(process.wait(), 15) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_cli_bad_faults_flag_is_one_clear_line() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tradetui", "sim", "--faults", "error_rate=3",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await within(process.communicate(), 60)
    assert (process.returncode, stdout) == (2, b"")
    lines = stderr.decode().strip().splitlines()
    assert lines == [
        "tradetui sim: bad value '3' for fault 'error_rate': expected a share between 0 and 1"
    ]
