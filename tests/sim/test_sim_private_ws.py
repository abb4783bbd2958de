"""Private WS v2 channels (executions, balances) and WS trading, through ccxt.pro and raw."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
import ccxt.pro
import pytest
from ccxt.base.errors import InsufficientFunds, OrderNotFound

from tradetui.sim.server import SimServer

T = TypeVar("T")


def within(awaitable: Awaitable[T], seconds: float = 10.0) -> Awaitable[T]:
    """Bound an await so that nothing in these tests can hang."""
    return asyncio.wait_for(awaitable, seconds)


async def settle(
    first: asyncio.Future[T], again: Callable[[], Awaitable[T]], done: Callable[[T], bool]
) -> T:
    """Wait for `first`, then keep watching until `done`.

    ccxt.pro drops an update that arrives while nobody awaits its watch (only its caches
    see it), so callers start `first` before acting and `done` may inspect the caches.
    """

    async def run() -> T:
        value = await first
        while not done(value):
            value = await again()
        return value

    try:
        return await asyncio.wait_for(run(), 10)
    finally:
        first.cancel()


def cached_order(ex: ccxt.pro.kraken, order_id: str) -> dict[str, Any] | None:
    return next((order for order in ex.orders or [] if order["id"] == order_id), None)


async def test_watch_orders_and_my_trades_see_a_market_fill(ex: ccxt.pro.kraken) -> None:
    resting = await within(ex.create_order("ETH/USD", "limit", "buy", 0.01, 1000))
    await within(ex.watch_orders("ETH/USD"))  # the open-orders snapshot proves the subscription
    assert cached_order(ex, resting["id"]) is not None

    pending = asyncio.ensure_future(ex.watch_orders("ETH/USD"))
    created = await within(ex.create_order("ETH/USD", "market", "buy", 0.5))

    def is_closed(_: object) -> bool:
        order = cached_order(ex, created["id"])
        return order is not None and order["status"] == "closed"

    await settle(pending, lambda: ex.watch_orders("ETH/USD"), is_closed)
    closed = cached_order(ex, created["id"])
    assert closed is not None
    assert (closed["symbol"], closed["side"], closed["type"]) == ("ETH/USD", "buy", "market")
    assert closed["amount"] == 0.5
    assert closed["clientOrderId"] == "0", "ccxt reads order_userref, not cl_ord_id"
    trades = [trade for trade in ex.myTrades or [] if trade["order"] == created["id"]]
    assert trades and all(trade["takerOrMaker"] == "taker" for trade in trades)
    assert sum(trade["amount"] for trade in trades) == pytest.approx(0.5)
    assert trades[0]["fee"]["currency"] == "USD"


async def test_watch_my_trades_sees_a_resting_fill(
    sim_server: SimServer, ex: ccxt.pro.kraken
) -> None:
    best_ask = (await within(ex.fetch_order_book("BTC/USD", 1)))["asks"][0][0]
    price = round(best_ask - 0.1, 1)
    created = await within(ex.create_order("BTC/USD", "limit", "buy", 0.001, price))
    pending = asyncio.ensure_future(ex.watch_my_trades("BTC/USD"))
    sim_server.exchange.market.pairs["XXBTZUSD"].drift_bps = -20.0

    def filled(_: object) -> bool:
        return any(trade["order"] == created["id"] for trade in ex.myTrades or [])

    await settle(pending, lambda: ex.watch_my_trades("BTC/USD"), filled)
    fill = next(trade for trade in ex.myTrades if trade["order"] == created["id"])
    assert fill["takerOrMaker"] == "maker"
    assert (fill["price"], fill["amount"], fill["symbol"]) == (price, 0.001, "BTC/USD")


async def test_watch_balance_sees_update_after_fill(ex: ccxt.pro.kraken) -> None:
    snapshot = await within(ex.watch_balance())
    assert snapshot["total"]["SOL"] == 100
    assert snapshot["total"]["USD"] == 100_000
    pending = asyncio.ensure_future(ex.watch_balance())
    await within(ex.create_order("SOL/USD", "market", "sell", 2))
    balance = await settle(pending, ex.watch_balance, lambda b: b["total"]["SOL"] == 98)
    rest = await within(ex.fetch_balance())
    assert balance["total"]["USD"] == pytest.approx(rest["total"]["USD"])
    assert balance["total"]["USD"] > 100_000


async def test_create_and_cancel_order_over_ws(ex: ccxt.pro.kraken) -> None:
    created = await within(
        ex.create_order_ws("ETH/USD", "limit", "buy", 0.01, 1000, {"clientOrderId": "ws-1"})
    )
    assert created["id"].startswith("O")
    assert created["clientOrderId"] == "ws-1"
    open_orders = await within(ex.fetch_open_orders())
    assert [order["clientOrderId"] for order in open_orders] == ["ws-1"]
    await within(ex.cancel_order_ws(created["id"]))
    assert await within(ex.fetch_open_orders()) == []
    with pytest.raises(OrderNotFound):
        await within(ex.cancel_order_ws("OAAAAA-BBBBB-CCCCCC"))
    with pytest.raises(InsufficientFunds):
        await within(ex.create_order_ws("BTC/USD", "market", "sell", 5))


async def receive_json(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    parsed = json.loads(await within(ws.receive_str(), 5))
    assert isinstance(parsed, dict)
    return parsed


async def test_raw_executions_sequence_for_a_fill(
    manual_server: SimServer, manual_ex: ccxt.pro.kraken
) -> None:
    """A fill is a `trade` message, then a separate status message; every entry names its
    symbol, side, type and client id (ccxt merges updates by symbol and order id)."""
    assert manual_server.info is not None
    token = (await within(manual_ex.private_post_getwebsocketstoken()))["result"]["token"]
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(manual_server.info.ws_private) as ws,
    ):
        await receive_json(ws)
        await ws.send_json(
            {
                "method": "subscribe",
                "req_id": 1,
                "params": {"channel": "executions", "token": "bad"},
            }
        )
        refused = await receive_json(ws)
        assert (refused["success"], refused["error"]) == (False, "ESession:Invalid session")
        await ws.send_json(
            {
                "method": "subscribe",
                "req_id": 2,
                "params": {"channel": "executions", "token": token},
            }
        )
        ack = await receive_json(ws)
        assert (ack["success"], ack["result"]["channel"]) == (True, "executions")
        snapshot = await receive_json(ws)
        assert (snapshot["type"], snapshot["data"]) == ("snapshot", [])

        await within(
            manual_ex.create_order("BTC/USD", "market", "buy", 0.01, None, {"clientOrderId": "c1"})
        )
        updates: list[dict[str, Any]] = []
        while not updates or updates[-1]["data"][0]["exec_type"] != "filled":
            updates.append(await receive_json(ws))
        exec_types = [update["data"][0]["exec_type"] for update in updates]
        assert exec_types[:2] == ["pending_new", "new"]
        assert exec_types[-2:] == ["trade", "filled"]
        for update in updates:
            assert update["channel"] == "executions" and len(update["data"]) == 1
            entry = update["data"][0]
            assert (entry["symbol"], entry["side"], entry["order_type"]) == (
                "BTC/USD", "buy", "market",
            )  # fmt: skip
            assert entry["cl_ord_id"] == "c1"
        sequences = [update["sequence"] for update in updates]
        assert sequences == sorted(sequences)
        trade = updates[-2]["data"][0]
        assert trade["last_qty"] == 0.01 and trade["liquidity_ind"] == "t"

        await within(manual_ex.create_order("BTC/USD", "limit", "buy", 0.01, 50_000))
        await within(manual_ex.cancel_all_orders())
        cancelled = None
        while cancelled is None:
            entry = (await receive_json(ws))["data"][0]
            if entry["exec_type"] == "canceled":
                cancelled = entry
        assert (cancelled["symbol"], cancelled["limit_price"]) == ("BTC/USD", 50_000)


async def test_private_channels_need_the_auth_endpoint(
    manual_server: SimServer, manual_ex: ccxt.pro.kraken
) -> None:
    assert manual_server.info is not None
    token = (await within(manual_ex.private_post_getwebsocketstoken()))["result"]["token"]
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(manual_server.info.ws_public) as ws,
    ):
        await receive_json(ws)
        await ws.send_json(
            {"method": "subscribe", "req_id": 1, "params": {"channel": "balances", "token": token}}
        )
        assert (await receive_json(ws))["success"] is False


async def test_ws_cancel_of_a_closed_order_is_an_unknown_order_by_either_id(
    sim_server: SimServer, ex: ccxt.pro.kraken
) -> None:
    """WS v2 answers carry no count: a cancel that cancels nothing fails with Unknown order,
    by order_id (ccxt raises OrderNotFound) and by cl_ord_id alike."""
    assert sim_server.info is not None
    filled = await within(
        ex.create_order("ETH/USD", "market", "buy", 0.01, None, {"clientOrderId": "done-ws"})
    )
    with pytest.raises(OrderNotFound):
        await within(ex.cancel_order_ws(filled["id"]))
    token = (await within(ex.private_post_getwebsocketstoken()))["result"]["token"]
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(sim_server.info.ws_private) as ws,
    ):
        await receive_json(ws)  # the status message
        await ws.send_json(
            {
                "method": "cancel_order",
                "req_id": 5,
                "params": {"cl_ord_id": ["done-ws"], "token": token},
            }
        )
        answer = await receive_json(ws)
        while answer.get("method") != "cancel_order":
            answer = await receive_json(ws)
    assert (answer["req_id"], answer["success"], answer["error"]) == (
        5,
        False,
        "EOrder:Unknown order",
    )
