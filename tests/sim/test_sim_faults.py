"""Conformance of injected faults: each one surfaces as the ccxt exception class the reference lists."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

import aiohttp
import ccxt.pro
import pytest
from ccxt.base.errors import (
    AuthenticationError,
    DDoSProtection,
    ExchangeNotAvailable,
    InvalidNonce,
    NetworkError,
    OnMaintenance,
    RequestTimeout,
)

from tradetui.sim.faults import Faults, FaultsError, parse_faults
from tradetui.sim.server import SimInfo, SimServer

T = TypeVar("T")
MANUAL_TICKS = 3600.0


def within(awaitable: Awaitable[T], seconds: float = 10.0) -> Awaitable[T]:
    """Bound an await so that nothing in these tests can hang."""
    return asyncio.wait_for(awaitable, seconds)


class FrozenClock:
    """A settable clock for rate-limit windows and token ages."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _info(server: SimServer) -> SimInfo:
    assert server.info is not None
    return server.info


async def _client(server: SimServer, **config: Any) -> ccxt.pro.kraken:
    client = ccxt.pro.kraken({**_info(server).ccxt_config(), **config})
    await within(client.load_markets())
    return client


@pytest.fixture
async def server() -> AsyncIterator[SimServer]:
    """A fault-free, manually stepped simulator; tests inject faults at runtime."""
    sim = SimServer(port=0, seed=7, tick_interval=MANUAL_TICKS)
    await within(sim.start())
    try:
        yield sim
    finally:
        await sim.stop()


@pytest.fixture
async def client(server: SimServer) -> AsyncIterator[ccxt.pro.kraken]:
    exchange = await _client(server)
    try:
        yield exchange
    finally:
        await exchange.close()


# -- the --faults syntax -------------------------------------------------------------------


def test_compact_spec_parses_aliases_and_pair_lists() -> None:
    faults = parse_faults(
        "latency=50,error_rate=0.1,rate_limit=20,ws_disconnect=30,lose_acks=1,"
        "cancel_only=XXBTZUSD+ETH/USD,ws_stall=on,error_kind=http5xx"
    )
    assert faults == Faults(
        rest_latency_ms=50,
        error_rate=0.1,
        rate_limit_per_s=20,
        ws_disconnect_every_s=30,
        lose_acks=1,
        cancel_only=frozenset({"XXBTZUSD", "ETH/USD"}),
        ws_stall_s=0.0,
        error_kind="http5xx",
    )
    assert json.loads(json.dumps(faults.to_json()))["cancel_only"] == ["ETH/USD", "XXBTZUSD"]


@pytest.mark.parametrize(
    "spec", ["nope=1", "error_rate=2", "latency=-1", "error_kind=teapot", "lose_acks=x", "latency"]
)
def test_bad_compact_spec_raises_one_clear_error(spec: str) -> None:
    with pytest.raises(FaultsError, match="fault"):
        parse_faults(spec)


def test_unknown_cancel_only_pair_is_refused() -> None:
    with pytest.raises(FaultsError, match="unknown pair 'NOPE'"):
        SimServer(faults=Faults(cancel_only=frozenset({"NOPE"})))


# -- REST ----------------------------------------------------------------------------------


async def test_error_rate_unavailable_raises_exchange_not_available(
    server: SimServer, client: ccxt.pro.kraken
) -> None:
    server.faults.update({"error_rate": 1.0})
    with pytest.raises(ExchangeNotAvailable, match="EService:Unavailable"):
        await within(client.fetch_ticker("BTC/USD"))
    with pytest.raises(ExchangeNotAvailable, match="EService:Unavailable"):
        await within(client.create_order("BTC/USD", "limit", "buy", 0.01, 50_000))
    server.faults.update({"error_rate": 0})
    assert await within(client.fetch_open_orders()) == [], "refused orders are never placed"


async def test_http_5xx_raises_exchange_not_available(
    server: SimServer, client: ccxt.pro.kraken
) -> None:
    server.faults.update({"error_rate": 1.0, "error_kind": "http5xx"})
    with pytest.raises(ExchangeNotAvailable, match="503"):
        await within(client.fetch_balance())


async def test_error_rate_draws_from_a_seeded_rng() -> None:
    """Two simulators with the same seed fail the same requests."""
    outcomes: list[list[bool]] = []
    for _ in range(2):
        sim = SimServer(tick_interval=MANUAL_TICKS, faults=Faults(error_rate=0.5))
        info = await within(sim.start())
        try:
            async with aiohttp.ClientSession() as http:
                run = []
                for _ in range(20):
                    async with http.get(info.rest + "/0/public/Time") as response:
                        run.append(bool((await response.json())["error"]))
                outcomes.append(run)
        finally:
            await sim.stop()
    assert outcomes[0] == outcomes[1]
    assert any(outcomes[0]) and not all(outcomes[0])


async def test_rate_limit_raises_ddos_protection_per_key(
    server: SimServer, client: ccxt.pro.kraken
) -> None:
    clock = FrozenClock(1000.0)
    server.faults.monotonic = clock
    server.faults.update({"rate_limit": 2})
    await within(client.fetch_balance())
    await within(client.fetch_open_orders())
    with pytest.raises(DDoSProtection, match="EAPI:Rate limit exceeded"):
        await within(client.fetch_balance())
    await within(client.fetch_ticker("BTC/USD")), "public calls are counted by address, apart"
    clock.now += 1.01
    await within(client.fetch_balance())


async def test_latency_beyond_client_timeout_raises_request_timeout(server: SimServer) -> None:
    impatient = await _client(server, timeout=100)
    try:
        server.faults.update({"latency": 1000})
        with pytest.raises(RequestTimeout):
            await within(impatient.fetch_ticker("BTC/USD"))
    finally:
        await impatient.close()


async def test_lost_ack_raises_network_error_but_the_order_is_placed(
    server: SimServer, client: ccxt.pro.kraken
) -> None:
    server.faults.update({"lose_acks": 1})
    with pytest.raises(NetworkError) as raised:
        await within(
            client.create_order("BTC/USD", "limit", "buy", 0.01, 50_000, {"clientOrderId": "lost"})
        )
    assert isinstance(raised.value, ExchangeNotAvailable | RequestTimeout)
    placed = await within(client.fetch_open_orders(params={"clientOrderId": "lost"}))
    assert [(order["clientOrderId"], order["price"]) for order in placed] == [("lost", 50_000)]
    second = await within(
        client.create_order("BTC/USD", "limit", "buy", 0.01, 49_000, {"clientOrderId": "kept"})
    )
    assert second["id"].startswith("O"), "only the next N acks are lost"
    assert server.faults.faults.lose_acks == 0


async def test_lost_ack_of_a_filled_order_shows_in_closed_orders(
    server: SimServer, client: ccxt.pro.kraken
) -> None:
    server.faults.update({"lose_ack_rate": 1.0})
    with pytest.raises(NetworkError):
        await within(
            client.create_order("BTC/USD", "market", "buy", 0.01, None, {"clientOrderId": "mkt"})
        )
    closed = await within(client.fetch_closed_orders(params={"clientOrderId": "mkt"}))
    assert [(order["clientOrderId"], order["status"]) for order in closed] == [("mkt", "closed")]


async def test_cancel_only_pair_refuses_orders_with_on_maintenance_but_cancels() -> None:
    sim = SimServer(tick_interval=MANUAL_TICKS)
    await within(sim.start())
    client = await _client(sim)
    try:
        resting = await within(client.create_order("BTC/USD", "limit", "buy", 0.01, 50_000))
        sim.faults.update({"cancel_only": ["XXBTZUSD"]})
        with pytest.raises(OnMaintenance, match="cancel_only"):
            await within(client.create_order("BTC/USD", "limit", "buy", 0.01, 50_000))
        await within(client.create_order("ETH/USD", "limit", "buy", 0.01, 1000))
        await within(client.cancel_order(resting["id"]))
        open_ids = {order["symbol"] for order in await within(client.fetch_open_orders())}
        assert open_ids == {"ETH/USD"}
    finally:
        await client.close()
        await sim.stop()


async def test_cancel_only_set_at_start_up_also_refuses_ws_orders() -> None:
    sim = SimServer(tick_interval=MANUAL_TICKS, faults=parse_faults("cancel_only=BTC/USD"))
    await within(sim.start())
    client = await _client(sim)
    try:
        with pytest.raises(OnMaintenance):
            await within(client.create_order("BTC/USD", "market", "sell", 0.01))
        with pytest.raises(Exception, match="cancel_only"):
            await within(client.create_order_ws("BTC/USD", "limit", "buy", 0.01, 50_000))
    finally:
        await client.close()
        await sim.stop()


async def test_nonce_window_accepts_late_nonces_inside_it_only(
    server: SimServer, client: ccxt.pro.kraken
) -> None:
    server.faults.update({"nonce_window": 1000})
    base = 1_900_000_000_000

    async def balance_with_nonce(nonce: int) -> None:
        client.options["lastNonce"] = 0
        client.nonce = lambda: nonce
        await within(client.fetch_balance())

    await balance_with_nonce(base)
    await balance_with_nonce(base - 500)
    with pytest.raises(InvalidNonce):
        await balance_with_nonce(base - 500)
    with pytest.raises(InvalidNonce):
        await balance_with_nonce(base - 1500)
    server.faults.update({"nonce_window": 0})
    with pytest.raises(InvalidNonce):
        await balance_with_nonce(base - 100)


# -- WebSocket -----------------------------------------------------------------------------


async def _receive_json(ws: aiohttp.ClientWebSocketResponse) -> Any:
    message = await within(ws.receive(), 5)
    assert message.type == aiohttp.WSMsgType.TEXT, message
    return json.loads(message.data)


async def test_ws_disconnect_closes_sockets_from_the_server(
    server: SimServer, client: ccxt.pro.kraken
) -> None:
    server.faults.update({"ws_disconnect": 0.2})
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(_info(server).ws_public) as ws:
            assert (await _receive_json(ws))["channel"] == "status"
            message = await within(ws.receive(), 5)
            assert message.type == aiohttp.WSMsgType.CLOSE
            assert ws.close_code == 1001
    server.faults.update({"ws_disconnect": 0})
    ticker = await within(client.watch_ticker("BTC/USD"))
    assert ticker["symbol"] == "BTC/USD", "a fresh socket works once the fault is off"


async def test_ws_disconnect_surfaces_in_ccxt_as_network_error_or_recovers(
    server: SimServer, client: ccxt.pro.kraken
) -> None:
    await within(client.watch_ticker("BTC/USD"))
    server.faults.update({"ws_disconnect": 0.1})

    async def watch_until_failure() -> None:
        for _ in range(1000):
            await client.watch_ticker("BTC/USD")
            server.step()

    with pytest.raises(NetworkError):
        await within(watch_until_failure())
    server.faults.update({"ws_disconnect": 0})
    assert (await within(client.watch_ticker("BTC/USD")))["symbol"] == "BTC/USD"


async def test_malformed_frames_reach_a_raw_client(server: SimServer) -> None:
    server.faults.update({"malformed": 2})
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(_info(server).ws_public) as ws:
            assert (await _receive_json(ws))["channel"] == "status"
            await ws.send_json({"method": "ping", "req_id": 1})
            frame = await within(ws.receive(), 5)
            assert frame.type == aiohttp.WSMsgType.TEXT
            with pytest.raises(ValueError):
                json.loads(frame.data)
            await ws.send_json({"method": "ping", "req_id": 2})
            assert (await _receive_json(ws))["method"] == "pong"


async def test_ws_stall_keeps_the_socket_open_but_silent(server: SimServer) -> None:
    server.faults.update({"ws_stall": "on"})
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(_info(server).ws_public) as ws:
            await ws.send_json({"method": "ping", "req_id": 1})
            await ws.send_json(
                {"method": "subscribe", "params": {"channel": "ticker", "symbol": ["BTC/USD"]}}
            )
            server.step()
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(ws.receive(), 0.5)
            assert not ws.closed
            server.faults.update({"ws_stall": "off"})
            await ws.send_json({"method": "ping", "req_id": 2})
            assert (await _receive_json(ws))["req_id"] == 2, "the socket was open all along"


async def test_expired_ws_token_is_refused_with_invalid_session() -> None:
    clock = FrozenClock(1_800_000_000.0)
    sim = SimServer(tick_interval=MANUAL_TICKS, clock=clock, faults=Faults(token_ttl_s=60))
    await within(sim.start())
    client = await _client(sim)
    try:
        await within(client.create_order_ws("ETH/USD", "limit", "buy", 0.01, 1000))
        token = (await within(client.private_post_getwebsocketstoken()))["result"]
        assert token["expires"] == 60
        async with aiohttp.ClientSession() as http:
            async with http.ws_connect(_info(sim).ws_private) as ws:
                assert (await _receive_json(ws))["channel"] == "status"
                subscribe = {"method": "subscribe", "req_id": 1,
                             "params": {"channel": "balances", "token": token["token"]}}  # fmt: skip
                await ws.send_json(subscribe)
                assert (await _receive_json(ws))["success"] is True
                clock.now += 61
                await ws.send_json({**subscribe, "req_id": 2,
                                    "params": {**subscribe["params"], "channel": "executions"}})  # fmt: skip
                refused = await _receive_json(ws)
                while refused.get("channel") == "balances":
                    refused = await _receive_json(ws)
                assert (refused["req_id"], refused["error"]) == (2, "ESession:Invalid session")
        with pytest.raises(AuthenticationError):
            # ccxt keeps its token for `expires` s of real time, so it sends the expired one.
            await within(client.create_order_ws("ETH/USD", "limit", "buy", 0.01, 1000))
    finally:
        await client.close()
        await sim.stop()
