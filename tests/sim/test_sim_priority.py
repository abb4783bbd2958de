"""Price-time priority between account orders and the synthetic book, seen through ccxt."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar

import ccxt.pro
import pytest

from tradetui.sim.server import SimServer

T = TypeVar("T")
PAIR = "XXBTZUSD"


def within(awaitable: Awaitable[T], seconds: float = 10.0) -> Awaitable[T]:
    """Bound an await so that nothing in these tests can hang."""
    return asyncio.wait_for(awaitable, seconds)


@pytest.fixture
async def leader_ex(manual_server: SimServer) -> AsyncIterator[ccxt.pro.kraken]:
    info = manual_server.info
    assert info is not None
    config = {**info.ccxt_config(), "apiKey": info.leader_api_key, "secret": info.leader_secret}
    client = ccxt.pro.kraken(config)
    try:
        await within(client.load_markets())
        yield client
    finally:
        await client.close()


def _synthetic_ask(server: SimServer) -> tuple[float, float]:
    pm = server.exchange.market.pairs[PAIR]
    price, lots = pm.synthetic_top(False, 1)[0]
    return float(pm.price(price)), float(pm.qty(lots))


async def test_a_better_priced_account_order_shows_in_the_book_and_trades_first(
    manual_server: SimServer, manual_ex: ccxt.pro.kraken, leader_ex: ccxt.pro.kraken
) -> None:
    ask, _ = _synthetic_ask(manual_server)
    inside = round(ask - 0.1, 1)
    resting = await within(leader_ex.create_order("BTC/USD", "limit", "sell", 0.01, inside))
    book = await within(manual_ex.fetch_order_book("BTC/USD", 5))
    assert book["asks"][0][:2] == [inside, 0.01], "the account order is the new best ask"
    await within(manual_ex.create_order("BTC/USD", "market", "buy", 0.02))
    # Both fills share a timestamp, so order them by price (the better one came first).
    fills = sorted(await within(manual_ex.fetch_my_trades("BTC/USD")), key=lambda f: f["price"])
    assert [f["price"] for f in fills] == [inside, ask], "the rest comes from the synthetic book"
    assert fills[0]["amount"] == pytest.approx(0.01) and fills[0]["takerOrMaker"] == "taker"
    leader_order = await within(leader_ex.fetch_order(resting["id"]))
    assert leader_order["status"] == "closed"
    leader_fills = await within(leader_ex.fetch_my_trades("BTC/USD"))
    assert [(f["price"], f["takerOrMaker"]) for f in leader_fills] == [(inside, "maker")]
    assert leader_fills[0]["fee"]["cost"] == pytest.approx(inside * 0.01 * 0.0016, abs=1e-4)
    tape = manual_server.exchange.market.pairs[PAIR].tape.trades
    assert [(t.price_ticks, t.side) for t in tape][-2:] == [
        (round(inside * 10), "buy"),
        (round(ask * 10), "buy"),
    ], "each execution prints once on the public tape, as the taker's side"


async def test_at_the_same_price_the_synthetic_liquidity_trades_first(
    manual_server: SimServer, manual_ex: ccxt.pro.kraken, leader_ex: ccxt.pro.kraken
) -> None:
    ask, ask_qty = _synthetic_ask(manual_server)
    resting = await within(leader_ex.create_order("BTC/USD", "limit", "sell", 0.01, ask))
    book = await within(manual_ex.fetch_order_book("BTC/USD", 5))
    assert book["asks"][0][:2] == [ask, pytest.approx(ask_qty + 0.01)]
    await within(manual_ex.create_order("BTC/USD", "market", "buy", round(ask_qty / 2, 8)))
    assert (await within(leader_ex.fetch_order(resting["id"])))["filled"] == 0


async def test_own_orders_are_passed_over(
    manual_server: SimServer, manual_ex: ccxt.pro.kraken
) -> None:
    ask, _ = _synthetic_ask(manual_server)
    mine = await within(
        manual_ex.create_order("BTC/USD", "limit", "sell", 0.01, round(ask - 0.1, 1))
    )
    await within(manual_ex.create_order("BTC/USD", "market", "buy", 0.001))
    fills = await within(manual_ex.fetch_my_trades("BTC/USD"))
    assert [f["price"] for f in fills] == [ask]
    assert (await within(manual_ex.fetch_order(mine["id"])))["status"] == "open"


async def test_background_sellers_hit_a_bid_that_improves_the_touch(
    manual_server: SimServer, manual_ex: ccxt.pro.kraken
) -> None:
    pm = manual_server.exchange.market.pairs[PAIR]
    bid = float(pm.price(pm.synthetic_top(True, 1)[0][0]))
    order = await within(manual_ex.create_order("BTC/USD", "limit", "buy", 0.001, bid + 0.1))
    for _ in range(200):
        manual_server.step()
        if not manual_server.exchange.main_account.open_orders:
            break
    filled = await within(manual_ex.fetch_order(order["id"]))
    assert filled["status"] == "closed"
    fills = await within(manual_ex.fetch_my_trades("BTC/USD"))
    assert all(f["takerOrMaker"] == "maker" and f["price"] == bid + 0.1 for f in fills)
