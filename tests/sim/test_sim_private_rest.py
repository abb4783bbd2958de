"""Signed private REST endpoints: orders, fills, balances, auth and nonce errors."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

import ccxt.pro
import pytest
from ccxt.base.errors import (
    AuthenticationError,
    ExchangeError,
    InsufficientFunds,
    InvalidNonce,
    InvalidOrder,
    OrderNotFound,
)

from tradetui.sim.server import SimServer

T = TypeVar("T")


def within(awaitable: Awaitable[T], seconds: float = 10.0) -> Awaitable[T]:
    """Bound an await so that nothing in these tests can hang."""
    return asyncio.wait_for(awaitable, seconds)


async def test_fetch_balance_starts_with_seed_balances(ex: ccxt.pro.kraken) -> None:
    balance = await within(ex.fetch_balance())
    assert balance["total"]["USD"] == 100_000
    assert balance["total"]["BTC"] == 1
    assert balance["total"]["ETH"] == 10
    assert balance["total"]["SOL"] == 100
    assert balance["used"]["USD"] == 0
    assert balance["free"]["USD"] == 100_000


async def test_resting_limit_holds_funds_until_cancelled(ex: ccxt.pro.kraken) -> None:
    created = await within(ex.create_order("BTC/USD", "limit", "buy", 0.01, 50_000))
    assert created["id"].startswith("O")
    assert created["status"] is None, "ccxt parses AddOrder's descr only"
    open_orders = await within(ex.fetch_open_orders("BTC/USD"))
    assert [order["id"] for order in open_orders] == [created["id"]]
    order = open_orders[0]
    assert (order["status"], order["side"], order["type"]) == ("open", "buy", "limit")
    assert (order["price"], order["amount"], order["filled"]) == (50_000, 0.01, 0)
    balance = await within(ex.fetch_balance())
    assert balance["used"]["USD"] == pytest.approx(500 * 1.0026)
    assert balance["free"]["USD"] == pytest.approx(100_000 - 500 * 1.0026)

    await within(ex.cancel_order(created["id"]))
    assert await within(ex.fetch_open_orders()) == []
    cancelled = await within(ex.fetch_order(created["id"]))
    assert cancelled["status"] == "canceled"
    assert (await within(ex.fetch_balance()))["used"]["USD"] == 0
    closed = await within(ex.fetch_closed_orders("BTC/USD"))
    assert [order["id"] for order in closed] == [created["id"]]


async def test_cancel_unknown_order_raises_order_not_found(ex: ccxt.pro.kraken) -> None:
    with pytest.raises(OrderNotFound):
        await within(ex.cancel_order("OAAAAA-BBBBB-CCCCCC"))
    with pytest.raises(OrderNotFound):
        await within(ex.fetch_order("OAAAAA-BBBBB-CCCCCC"))


async def test_market_buy_fills_against_book(ex: ccxt.pro.kraken) -> None:
    before = await within(ex.fetch_balance())
    created = await within(ex.create_order("BTC/USD", "market", "buy", 0.02))
    order = await within(ex.fetch_order(created["id"]))
    assert order["status"] == "closed"
    assert order["filled"] == 0.02
    assert order["average"] > 0
    trades = await within(ex.fetch_my_trades("BTC/USD"))
    assert trades and {trade["order"] for trade in trades} == {created["id"]}
    assert all(trade["takerOrMaker"] == "taker" for trade in trades)
    assert sum(trade["amount"] for trade in trades) == pytest.approx(0.02)
    cost = sum(trade["cost"] for trade in trades)
    fee = sum(trade["fee"]["cost"] for trade in trades)
    assert trades[0]["fee"]["currency"] == "USD"
    assert fee == pytest.approx(cost * 0.0026, abs=1e-3)
    after = await within(ex.fetch_balance())
    assert after["total"]["BTC"] == pytest.approx(before["total"]["BTC"] + 0.02)
    assert after["total"]["USD"] == pytest.approx(before["total"]["USD"] - cost - fee)


async def test_market_buy_walks_levels_when_large(manual_ex: ccxt.pro.kraken) -> None:
    ex = manual_ex
    book = await within(ex.fetch_order_book("SOL/USD", 3))
    amount = round(book["asks"][0][1] + book["asks"][1][1] / 2, 4)
    created = await within(ex.create_order("SOL/USD", "market", "buy", amount))
    order = await within(ex.fetch_order(created["id"]))
    assert order["status"] == "closed"
    assert len(order["trades"]) == 2
    assert book["asks"][0][0] < order["average"] < book["asks"][1][0]
    after = await within(ex.fetch_order_book("SOL/USD", 3))
    assert after["asks"][0][:2] == [book["asks"][1][0], pytest.approx(book["asks"][1][1] / 2)]


async def test_resting_limit_fills_when_market_moves_through(
    manual_server: SimServer, manual_ex: ccxt.pro.kraken
) -> None:
    ex = manual_ex
    best_ask = (await within(ex.fetch_order_book("BTC/USD", 1)))["asks"][0][0]
    price = round(best_ask - 0.1, 1)
    created = await within(ex.create_order("BTC/USD", "limit", "buy", 0.001, price))
    manual_server.exchange.market.pairs["XXBTZUSD"].drift_bps = -20.0
    for _ in range(20):
        manual_server.step()
        order = await within(ex.fetch_order(created["id"]))
        if order["status"] == "closed":
            break
    assert order["status"] == "closed"
    assert (order["filled"], order["average"]) == (0.001, price)
    trades = await within(ex.fetch_my_trades())
    assert [trade["takerOrMaker"] for trade in trades] == ["maker"]
    assert trades[0]["fee"]["cost"] == pytest.approx(price * 0.001 * 0.0016, abs=1e-4)
    balance = await within(ex.fetch_balance())
    assert balance["used"]["USD"] == 0
    assert balance["total"]["BTC"] == pytest.approx(1.001)


async def test_crossing_limit_takes_then_rests(manual_ex: ccxt.pro.kraken) -> None:
    ex = manual_ex
    best_ask = (await within(ex.fetch_order_book("SOL/USD", 1)))["asks"][0]
    amount = round(best_ask[1] + 1, 4)
    created = await within(ex.create_order("SOL/USD", "limit", "buy", amount, best_ask[0]))
    order = await within(ex.fetch_order(created["id"]))
    assert order["status"] == "open"
    assert order["filled"] == pytest.approx(best_ask[1])
    balance = await within(ex.fetch_balance())
    resting = amount - best_ask[1]
    assert balance["used"]["USD"] == pytest.approx(best_ask[0] * resting * 1.0026, abs=1e-3)
    assert balance["total"]["SOL"] == pytest.approx(100 + best_ask[1])


async def test_post_only_that_would_cross_is_cancelled(ex: ccxt.pro.kraken) -> None:
    best_ask = (await within(ex.fetch_order_book("BTC/USD", 1)))["asks"][0][0]
    created = await within(
        ex.create_order("BTC/USD", "limit", "buy", 0.001, best_ask + 100, {"postOnly": True})
    )
    order = await within(ex.fetch_order(created["id"]))
    assert order["status"] == "canceled"
    assert order["postOnly"] is True
    assert order["filled"] == 0


async def test_client_order_id_round_trips(ex: ccxt.pro.kraken) -> None:
    created = await within(
        ex.create_order("ETH/USD", "limit", "buy", 0.01, 1000, {"clientOrderId": "abc"})
    )
    assert created["clientOrderId"] is None, "AddOrder's answer does not echo cl_ord_id"
    open_orders = await within(ex.fetch_open_orders())
    assert [order["clientOrderId"] for order in open_orders] == ["abc"]
    by_client_id = await within(ex.fetch_open_orders(params={"clientOrderId": "abc"}))
    assert [order["id"] for order in by_client_id] == [created["id"]]
    assert await within(ex.fetch_open_orders(params={"clientOrderId": "nope"})) == []
    await within(ex.cancel_order("ignored", params={"clientOrderId": "abc"}))
    cancelled = await within(ex.fetch_order(created["id"]))
    assert (cancelled["status"], cancelled["clientOrderId"]) == ("canceled", "abc")


async def test_cancelling_a_closed_order_answers_as_kraken_does(ex: ccxt.pro.kraken) -> None:
    """Guards the answers the engine's cancel relies on: a closed order's txid is an unknown
    order (ccxt raises OrderNotFound), while its cl_ord_id answers `count: 0` without an error."""
    filled = await within(
        ex.create_order("ETH/USD", "market", "buy", 0.01, None, {"clientOrderId": "done-1"})
    )
    assert (await within(ex.fetch_order(filled["id"])))["status"] == "closed"
    with pytest.raises(OrderNotFound):
        await within(ex.cancel_order(filled["id"]))
    by_client_id = await within(ex.cancel_order("ignored", params={"clientOrderId": "done-1"}))
    assert by_client_id["info"]["result"]["count"] == 0
    with pytest.raises(OrderNotFound):
        await within(ex.cancel_order("ignored", params={"clientOrderId": "never-sent"}))

    resting = await within(
        ex.create_order("ETH/USD", "limit", "buy", 0.01, 1000, {"clientOrderId": "rest-1"})
    )
    assert (await within(ex.cancel_order(resting["id"])))["info"]["result"]["count"] == 1
    with pytest.raises(OrderNotFound):
        await within(ex.cancel_order(resting["id"]))  # canceled is closed too
    again = await within(ex.cancel_order("ignored", params={"clientOrderId": "rest-1"}))
    assert again["info"]["result"]["count"] == 0


async def test_insufficient_funds(ex: ccxt.pro.kraken) -> None:
    with pytest.raises(InsufficientFunds):
        await within(ex.create_order("BTC/USD", "limit", "buy", 2, 60_000))
    with pytest.raises(InsufficientFunds):
        await within(ex.create_order("ETH/USD", "market", "sell", 11))
    await within(ex.create_order("SOL/USD", "limit", "sell", 100, 1_000))
    with pytest.raises(InsufficientFunds):
        await within(ex.create_order("SOL/USD", "limit", "sell", 1, 1_000))


async def test_below_minimum_is_invalid_order(ex: ccxt.pro.kraken) -> None:
    with pytest.raises(InvalidOrder):
        await within(ex.create_order("BTC/USD", "limit", "buy", 0.00001, 50_000))
    assert await within(ex.fetch_open_orders()) == []


async def test_stale_nonce_is_rejected(ex: ccxt.pro.kraken) -> None:
    await within(ex.fetch_balance())
    ex.options["lastNonce"] = 0
    ex.nonce = lambda: 1_000
    with pytest.raises(InvalidNonce):
        await within(ex.fetch_balance())


async def test_nonce_is_per_key_and_strict(sim_server: SimServer, ex: ccxt.pro.kraken) -> None:
    """A far-future nonce poisons the key, as on Kraken; a refused request burns nothing."""
    far = ex.milliseconds() + 10_000_000
    ex.nonce = lambda: far
    await within(ex.fetch_balance())
    ex.options["lastNonce"] = 0
    ex.nonce = lambda: far
    with pytest.raises(InvalidNonce):
        await within(ex.fetch_balance())
    assert sim_server.exchange.main_account.last_nonce == far


async def test_bad_secret_and_bad_key(sim_server: SimServer) -> None:
    assert sim_server.info is not None
    config = sim_server.info.ccxt_config()
    wrong_secret = ccxt.pro.kraken({**config, "secret": "c2VjcmV0"})
    wrong_key = ccxt.pro.kraken({**config, "apiKey": "nobody"})
    try:
        with pytest.raises(ExchangeError, match="EAPI:Invalid signature"):
            await within(wrong_secret.fetch_balance())
        with pytest.raises(AuthenticationError):
            await within(wrong_key.fetch_balance())
    finally:
        await wrong_secret.close()
        await wrong_key.close()
    assert sim_server.exchange.main_account.last_nonce == 0, "refused requests burn no nonce"


async def test_cancel_all_and_closed_orders(ex: ccxt.pro.kraken) -> None:
    for price in (1000, 1001):
        await within(ex.create_order("ETH/USD", "limit", "buy", 0.01, price))
    await within(ex.cancel_all_orders())
    assert await within(ex.fetch_open_orders()) == []
    closed = await within(ex.fetch_closed_orders())
    assert sorted(order["price"] for order in closed) == [1000, 1001]
    assert {order["status"] for order in closed} == {"canceled"}
