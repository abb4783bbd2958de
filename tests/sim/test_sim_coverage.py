"""Protocol coverage through unmodified ccxt / ccxt.pro kraken: OHLC, Trades, dead man's switch, more.

Also validate, userref, duplicate cl_ord_id, WS trade/ohlc, heartbeat and per-update book checksums.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from typing import Any, TypeVar

import aiohttp
import ccxt.pro
import pytest
from ccxt.base.errors import ExchangeError

from tradetui.sim.server import SimServer

T = TypeVar("T")


def within(awaitable: Awaitable[T], seconds: float = 10.0) -> Awaitable[T]:
    """Bound an await so that nothing in these tests can hang."""
    return asyncio.wait_for(awaitable, seconds)


def _steps(server: SimServer, count: int) -> None:
    for _ in range(count):
        server.step()


async def test_fetch_trades_returns_the_background_tape(
    manual_server: SimServer, manual_ex: ccxt.pro.kraken
) -> None:
    _steps(manual_server, 30)
    trades = await within(manual_ex.fetch_trades("BTC/USD"))
    tape = manual_server.exchange.market.pairs["XXBTZUSD"].tape.trades
    assert len(trades) == len(tape) > 10
    assert [int(t["id"]) for t in trades] == [t.trade_id for t in tape]
    assert {t["side"] for t in trades} == {"buy", "sell"}
    assert all(t["amount"] > 0 and t["price"] > 0 for t in trades)
    later = await within(manual_ex.fetch_trades("BTC/USD", since=trades[-1]["timestamp"] + 1))
    assert later == []


async def test_fetch_ohlcv_counts_the_tape(
    manual_server: SimServer, manual_ex: ccxt.pro.kraken
) -> None:
    _steps(manual_server, 30)
    candles = await within(manual_ex.fetch_ohlcv("ETH/USD", "1m"))
    tape = manual_server.exchange.market.pairs["XETHZUSD"].tape
    assert candles, "at least the current minute"
    timestamp, high, low = candles[-1][0], candles[-1][2], candles[-1][3]
    assert timestamp % 60_000 == 0 and low <= candles[-1][1] <= high
    total = sum(c[5] for c in candles)
    expected = sum(t.lots for t in tape.trades) / 10**8
    assert total == pytest.approx(expected, rel=1e-6)
    hourly = await within(manual_ex.fetch_ohlcv("ETH/USD", "1h"))
    assert sum(c[5] for c in hourly) == pytest.approx(total, rel=1e-6)


async def test_validate_checks_without_placing(ex: ccxt.pro.kraken) -> None:
    await within(ex.create_order("BTC/USD", "limit", "buy", 0.001, 40_000, {"validate": True}))
    assert await within(ex.fetch_open_orders()) == []
    with pytest.raises(ExchangeError):
        await within(ex.create_order("BTC/USD", "limit", "buy", 100, 40_000, {"validate": True}))


async def test_userref_is_kept_and_filters_open_orders(ex: ccxt.pro.kraken) -> None:
    tagged = await within(
        ex.create_order("BTC/USD", "limit", "buy", 0.001, 40_000, {"userref": 42})
    )
    await within(ex.create_order("BTC/USD", "limit", "buy", 0.001, 40_001))
    opened = await within(ex.private_post_openorders({"userref": 42}))
    assert list(opened["result"]["open"]) == [tagged["id"]]
    assert opened["result"]["open"][tagged["id"]]["userref"] == 42


async def test_duplicate_cl_ord_id_among_open_orders_is_refused(ex: ccxt.pro.kraken) -> None:
    first = await within(
        ex.create_order("BTC/USD", "limit", "buy", 0.001, 40_000, {"clientOrderId": "dup-1"})
    )
    with pytest.raises(ExchangeError, match="EOrder:Duplicate order"):
        await within(
            ex.create_order("BTC/USD", "limit", "buy", 0.001, 40_001, {"clientOrderId": "dup-1"})
        )
    await within(ex.cancel_order(first["id"]))
    # Uniqueness only holds among open orders, so the id is free again.
    await within(
        ex.create_order("BTC/USD", "limit", "buy", 0.001, 40_002, {"clientOrderId": "dup-1"})
    )


async def test_cancel_all_orders_after_cancels_when_the_timer_lapses(
    manual_server: SimServer, manual_ex: ccxt.pro.kraken
) -> None:
    exchange = manual_server.exchange
    clock_now = exchange.clock
    await within(manual_ex.create_order("BTC/USD", "limit", "buy", 0.001, 40_000))
    armed = await within(manual_ex.cancel_all_orders_after(60_000))
    assert armed["result"]["triggerTime"] > armed["result"]["currentTime"]
    manual_server.step()
    assert len(await within(manual_ex.fetch_open_orders())) == 1
    # Let the timer lapse without waiting a minute: tick at a clock a minute ahead.
    exchange.clock = lambda: clock_now() + 61
    try:
        manual_server.step()
    finally:
        exchange.clock = clock_now
    assert await within(manual_ex.fetch_open_orders()) == []
    closed = await within(manual_ex.fetch_closed_orders())
    assert [o["status"] for o in closed] == ["canceled"]


async def test_cancel_all_orders_after_zero_disarms(
    manual_server: SimServer, manual_ex: ccxt.pro.kraken
) -> None:
    exchange = manual_server.exchange
    clock_now = exchange.clock
    await within(manual_ex.create_order("BTC/USD", "limit", "buy", 0.001, 40_000))
    await within(manual_ex.cancel_all_orders_after(1_000))
    await within(manual_ex.cancel_all_orders_after(0))
    exchange.clock = lambda: clock_now() + 5
    try:
        manual_server.step()
    finally:
        exchange.clock = clock_now
    assert len(await within(manual_ex.fetch_open_orders())) == 1


async def test_watch_trades_streams_new_prints(
    manual_server: SimServer, manual_ex: ccxt.pro.kraken
) -> None:
    _steps(manual_server, 3)
    first = await within(manual_ex.watch_trades("SOL/USD"))  # the snapshot: recent prints
    seen = {t["id"] for t in first}
    tape = manual_server.exchange.market.pairs["SOLUSD"].tape
    for _ in range(10):
        # A watch waits for the next message, so step until this tick printed something.
        before = tape.last_id
        while tape.last_id == before:
            manual_server.step()
        seen |= {t["id"] for t in await within(manual_ex.watch_trades("SOL/USD"))}
    assert {str(t.trade_id) for t in tape.trades} <= seen


async def test_watch_ohlcv_updates_the_current_bar(
    manual_server: SimServer, manual_ex: ccxt.pro.kraken
) -> None:
    manual_server.step()
    candles = await within(manual_ex.watch_ohlcv("BTC/USD", "1m"))
    bar = manual_server.exchange.market.pairs["XXBTZUSD"].tape.current_bar(1)
    assert bar is not None and candles[-1][0] == bar.begin * 1000
    for _ in range(5):
        manual_server.step()
        candles = await within(manual_ex.watch_ohlcv("BTC/USD", "1m"))
    bar = manual_server.exchange.market.pairs["XXBTZUSD"].tape.current_bar(1)
    assert bar is not None
    assert candles[-1][4] == bar.close / 10


async def _raw_messages(url: str, subscribe: dict[str, Any], wanted: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await ws.send_str(json.dumps(subscribe))
        while len(messages) < wanted:
            frame = await within(ws.receive())
            messages.append(json.loads(frame.data))
    return messages


async def test_heartbeat_reaches_subscribed_sockets(sim_server: SimServer) -> None:
    assert sim_server.info is not None
    subscribe = {"method": "subscribe", "params": {"channel": "ticker", "symbol": ["BTC/USD"]},
                 "req_id": 1}  # fmt: skip

    async def until_heartbeat() -> None:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(sim_server.info.ws_public) as ws:  # type: ignore[union-attr]
                await ws.send_str(json.dumps(subscribe))
                while True:
                    frame = await ws.receive()
                    if json.loads(frame.data).get("channel") == "heartbeat":
                        return

    await within(until_heartbeat(), 10)


async def test_ohlc_subscription_rejects_unknown_interval(sim_server: SimServer) -> None:
    assert sim_server.info is not None
    messages = await _raw_messages(
        sim_server.info.ws_public,
        {
            "method": "subscribe",
            "params": {"channel": "ohlc", "symbol": ["BTC/USD"], "interval": 7},
            "req_id": 9,
        },  # fmt: skip
        2,
    )
    reply = next(m for m in messages if m.get("method") == "subscribe")
    assert reply["success"] is False and reply["req_id"] == 9


async def test_every_book_update_carries_the_checksum_of_the_book_after_it(
    manual_server: SimServer,
) -> None:
    """Updates stream one level at a time; a client applying them stays checksum-exact."""
    import zlib

    assert manual_server.info is not None
    pm = manual_server.exchange.market.pairs["XETHZUSD"]
    scale_p, scale_q = 10**pm.spec.pair_decimals, 10**pm.spec.lot_decimals

    def crc(asks: dict[int, int], bids: dict[int, int]) -> int:
        text = "".join(f"{p}{q}" for p, q in sorted(asks.items())[:10])
        text += "".join(f"{p}{q}" for p, q in sorted(bids.items(), reverse=True)[:10])
        return zlib.crc32(text.encode())

    def apply(side: dict[int, int], levels: list[dict[str, float]], is_bid: bool) -> None:
        for level in levels:
            price, qty = round(level["price"] * scale_p), round(level["qty"] * scale_q)
            if qty:
                side[price] = qty
            else:
                side.pop(price, None)
        while len(side) > 10:
            del side[min(side) if is_bid else max(side)]

    subscribe = {"method": "subscribe", "params": {"channel": "book", "symbol": ["ETH/USD"]},
                 "req_id": 1}  # fmt: skip
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(manual_server.info.ws_public) as ws:
            await ws.send_str(json.dumps(subscribe))
            bids: dict[int, int] = {}
            asks: dict[int, int] = {}
            updates = 0
            stepped = False
            while True:
                frame = await within(ws.receive())
                message = json.loads(frame.data)
                if message.get("channel") != "book":
                    continue
                data = message["data"][0]
                apply(bids, data["bids"], True)
                apply(asks, data["asks"], False)
                assert data["checksum"] == crc(asks, bids)
                if message["type"] == "update":
                    updates += 1
                    assert len(data["bids"]) + len(data["asks"]) == 1
                if not stepped:
                    for _ in range(10):
                        manual_server.step()
                    stepped = True
                    expected = (dict(pm.top(True, 10)), dict(pm.top(False, 10)))
                elif (bids, asks) == expected:
                    break
            assert updates > 10
