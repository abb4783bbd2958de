"""The simulator's WebSocket server (websockets): its own port, paths, slow clients, pacing, stop."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import ccxt.pro
import pytest
from ccxt.base.errors import NetworkError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tradetui.sim.server import SimInfo, SimServer
from tradetui.sim.ws import session as ws_session
from tradetui.sim.ws.server import PACE_BYTES

from .conftest import MANUAL_TICKS

T = TypeVar("T")
DEEP_BOOK = 1000
"""Book depth of the subscriptions that pile data up fast (~70 kB snapshot per pair)."""


def within(awaitable: Awaitable[T], seconds: float = 10.0) -> Awaitable[T]:
    """Bound an await so that nothing in these tests can hang."""
    return asyncio.wait_for(awaitable, seconds)


def _info(server: SimServer) -> SimInfo:
    assert server.info is not None
    return server.info


def _port(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


async def _subscribe_deep_books(ws: ClientConnection, server: SimServer) -> None:
    symbols = [pair.symbol for pair in server.exchange.instruments.pairs.values()]
    params = {"channel": "book", "symbol": symbols, "depth": DEEP_BOOK}
    await ws.send(json.dumps({"method": "subscribe", "params": params, "req_id": 1}))


def _ticks(server: SimServer) -> int:
    return server.exchange.market.pairs["XXBTZUSD"].ticks


@pytest.fixture
async def paced_server() -> AsyncIterator[SimServer]:
    """A simulator ticking as fast as its WebSocket clients take the stream."""
    server = SimServer(host="127.0.0.1", port=0, seed=7, tick_interval=0)
    await within(server.start())
    try:
        yield server
    finally:
        await server.stop()


async def test_ws_has_its_own_port_and_refuses_other_paths(manual_server: SimServer) -> None:
    info = _info(manual_server)
    assert urlsplit(info.ws_public).path == "/v2"
    assert urlsplit(info.ws_private).path == "/auth/v2"
    assert _port(info.ws_public) == _port(info.ws_private) != _port(info.rest)
    with pytest.raises(InvalidStatus) as refused:
        await within(connect(info.ws_public.removesuffix("/v2") + "/v1"))
    assert refused.value.response.status_code == 404


async def test_ws_listens_on_the_given_host_only(manual_server: SimServer) -> None:
    """Bound to 127.0.0.1, not to every address: another loopback address is refused."""
    port = _port(_info(manual_server).ws_public)
    with pytest.raises(ConnectionRefusedError):
        await within(asyncio.open_connection("127.0.0.2", port))


async def test_a_client_that_stops_reading_is_disconnected_as_too_slow(
    manual_server: SimServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(ws_session, "MAX_BUFFERED_BYTES", 256 << 10)
    # max_queue=1: the client stops reading its socket once one message waits unread.
    async with connect(_info(manual_server).ws_public, max_queue=1, close_timeout=1) as ws:
        await _subscribe_deep_books(ws, manual_server)
        for _ in range(3000):  # about 250 steps fill the kernel's buffers, then ~20 kB a step
            if not manual_server.ws_api.sessions:
                break
            manual_server.step()
            await asyncio.sleep(0)
        assert not manual_server.ws_api.sessions, "the slow client was never dropped"
        with pytest.raises(ConnectionClosed):
            while True:
                await within(ws.recv())
    assert "ws client 1 too slow, disconnecting" in caplog.messages


async def test_paced_ticks_wait_for_a_backlogged_client_instead_of_dropping_it(
    paced_server: SimServer,
) -> None:
    async with connect(_info(paced_server).ws_public, max_queue=1, close_timeout=1) as ws:
        await _subscribe_deep_books(ws, paced_server)
        await asyncio.sleep(1.0)  # the client reads nothing: its backlog passes PACE_BYTES
        held_at = _ticks(paced_server)
        await asyncio.sleep(0.3)
        assert _ticks(paced_server) == held_at, "the market went on past a backlogged client"
        (session,) = paced_server.ws_api.sessions
        assert session.backlog_bytes() > PACE_BYTES and not session.closed
        received = 0
        while _ticks(paced_server) == held_at:
            await within(ws.recv())
            received += 1
        assert received > 0 and not session.closed


async def test_stop_with_connected_clients_ends_cleanly(manual_server: SimServer) -> None:
    """Public, private and backlogged sockets all open: stop() closes them all promptly."""
    info = _info(manual_server)
    client = ccxt.pro.kraken(info.ccxt_config())
    try:
        await within(client.load_markets())
        await within(client.watch_ticker("BTC/USD"))
        await within(client.watch_balance())
        async with connect(info.ws_public, max_queue=1, close_timeout=1) as stuck:
            await _subscribe_deep_books(stuck, manual_server)
            await asyncio.sleep(0.1)
            assert len(manual_server.ws_api.sessions) == 3
            (backlogged,) = [
                s
                for s in manual_server.ws_api.sessions
                if s.connection.remote_address == stuck.local_address
            ]
            for _ in range(1000):  # past websockets' write limit: its own close would hang
                if backlogged.backlog_bytes() > 64 << 10:
                    break
                manual_server.step()
                await asyncio.sleep(0)
            assert backlogged.backlog_bytes() > 64 << 10
            await within(manual_server.stop(), 5)
            assert not manual_server.ws_api.sessions
            with pytest.raises(ConnectionClosed):
                while True:
                    await within(stuck.recv())
        with pytest.raises(NetworkError):
            await within(client.watch_ticker("BTC/USD"))
        leftover = [t for t in asyncio.all_tasks() if t.get_name().startswith("sim-")]
        assert leftover == []
        for url in (info.rest, info.ws_public):
            with pytest.raises(ConnectionRefusedError):
                await within(asyncio.open_connection("127.0.0.1", _port(url)))
    finally:
        await client.close()


async def test_ws_port_can_be_chosen(unused_tcp_port: int) -> None:
    server = SimServer(tick_interval=MANUAL_TICKS, ws_port=unused_tcp_port)
    info = await within(server.start())
    try:
        assert info.ws_public == f"ws://127.0.0.1:{unused_tcp_port}/v2"
        async with connect(info.ws_private) as ws:
            status: dict[str, Any] = json.loads(await within(ws.recv()))
            assert status["channel"] == "status"
    finally:
        await server.stop()


async def test_a_taken_ws_port_fails_start_and_releases_the_rest_port() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = SimServer(tick_interval=MANUAL_TICKS, ws_port=taken.getsockname()[1])
        with pytest.raises(OSError):
            await within(server.start())
        assert server.info is None and server._runner is None
