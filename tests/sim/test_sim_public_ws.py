"""Public WS v2 channels (ticker, book) through ccxt.pro, and the raw protocol around them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from typing import Any, TypeVar

import aiohttp
import ccxt.pro

from tradetui.sim.server import SimServer

T = TypeVar("T")


def within(awaitable: Awaitable[T], seconds: float = 10.0) -> Awaitable[T]:
    """Bound an await so that nothing in these tests can hang."""
    return asyncio.wait_for(awaitable, seconds)


def server_book(server: SimServer, pair_id: str, depth: int) -> tuple[list[Any], list[Any]]:
    pm = server.exchange.market.pairs[pair_id]
    bids = [[float(pm.price(p)), float(pm.qty(q))] for p, q in pm.top(True, depth)]
    asks = [[float(pm.price(p)), float(pm.qty(q))] for p, q in pm.top(False, depth)]
    return bids, asks


async def test_watch_ticker_receives_changing_prices(ex: ccxt.pro.kraken) -> None:
    seen: set[tuple[float, float, float]] = set()
    for _ in range(40):
        ticker = await within(ex.watch_ticker("BTC/USD"))
        assert ticker["symbol"] == "BTC/USD"
        assert ticker["bid"] < ticker["ask"]
        seen.add((ticker["bid"], ticker["ask"], ticker["last"]))
        if len(seen) >= 3:
            break
    assert len(seen) >= 3


async def test_watch_tickers_for_several_symbols(ex: ccxt.pro.kraken) -> None:
    """Each call returns what arrived since the last one; ccxt keeps them all in `tickers`."""
    symbols: set[str] = set()
    for _ in range(20):
        await within(ex.watch_tickers(["ETH/USD", "SOL/USD"]))
        symbols = set(ex.tickers) & {"ETH/USD", "SOL/USD"}
        if symbols == {"ETH/USD", "SOL/USD"}:
            break
    assert symbols == {"ETH/USD", "SOL/USD"}


async def test_watch_order_book_snapshot_then_updates_match_server(
    manual_server: SimServer, manual_ex: ccxt.pro.kraken
) -> None:
    book = await within(manual_ex.watch_order_book("BTC/USD"))
    bids, asks = server_book(manual_server, "XXBTZUSD", 10)
    assert (book["bids"], book["asks"]) == (bids, asks)
    manual_server.exchange.market.pairs["XXBTZUSD"].drift_bps = 5.0
    for _ in range(5):
        manual_server.step()
        book = await within(manual_ex.watch_order_book("BTC/USD"))
        bids, asks = server_book(manual_server, "XXBTZUSD", 10)
        assert (book["bids"], book["asks"]) == (bids, asks)
    assert len(book["bids"]) == len(book["asks"]) == 10


async def test_watch_order_book_at_depth_25_stays_in_sync(
    manual_server: SimServer, manual_ex: ccxt.pro.kraken
) -> None:
    book = await within(manual_ex.watch_order_book("ETH/USD", 25))
    assert len(book["bids"]) == 25
    for _ in range(5):
        manual_server.step()
        book = await within(manual_ex.watch_order_book("ETH/USD", 25))
    assert (book["bids"], book["asks"]) == server_book(manual_server, "XETHZUSD", 25)


async def receive_json(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    message = await within(ws.receive_str(), 5)
    parsed = json.loads(message)
    assert isinstance(parsed, dict)
    return parsed


async def test_raw_protocol_status_ping_acks_and_unsubscribe(manual_server: SimServer) -> None:
    assert manual_server.info is not None
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(manual_server.info.ws_public) as ws,
    ):
        status = await receive_json(ws)
        assert status["channel"] == "status"
        assert status["data"][0]["system"] == "online"

        await ws.send_json({"method": "ping", "req_id": 42})
        pong = await receive_json(ws)
        assert (pong["method"], pong["req_id"]) == ("pong", 42)

        await ws.send_json(
            {"method": "subscribe", "req_id": 1,
             "params": {"channel": "ticker", "symbol": ["BTC/USD", "ETH/USD", "XYZ/USD"]}}
        )  # fmt: skip
        messages = [await receive_json(ws) for _ in range(5)]
        acks = [m for m in messages if m.get("method") == "subscribe" and m["success"]]
        assert [ack["result"]["symbol"] for ack in acks] == ["BTC/USD", "ETH/USD"]
        errors = [m for m in messages if m.get("success") is False]
        assert errors[0]["symbol"] == "XYZ/USD"
        assert "Currency pair not supported" in errors[0]["error"]
        snapshots = [m for m in messages if m.get("channel") == "ticker"]
        assert [s["data"][0]["symbol"] for s in snapshots] == ["BTC/USD", "ETH/USD"]
        assert all(len(s["data"]) == 1 for s in snapshots)

        await ws.send_json(
            {"method": "unsubscribe", "req_id": 2,
             "params": {"channel": "ticker", "symbol": ["BTC/USD", "ETH/USD"]}}
        )  # fmt: skip
        unsubscribed = [await receive_json(ws) for _ in range(2)]
        assert all(m["method"] == "unsubscribe" and m["success"] for m in unsubscribed)
        manual_server.step()
        await ws.send_json({"method": "ping", "req_id": 43})
        assert (await receive_json(ws))["method"] == "pong", "no ticker after unsubscribe"

        await ws.send_str("not json")
        assert (await receive_json(ws))["success"] is False


async def test_unsupported_book_depth_is_refused(manual_server: SimServer) -> None:
    assert manual_server.info is not None
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(manual_server.info.ws_public) as ws,
    ):
        await receive_json(ws)
        await ws.send_json(
            {"method": "subscribe", "req_id": 5,
             "params": {"channel": "book", "symbol": ["BTC/USD"], "depth": 7}}
        )  # fmt: skip
        reply = await receive_json(ws)
        assert (reply["success"], reply["req_id"]) == (False, 5)
