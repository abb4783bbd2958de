"""Where the venue's word and the engine's records could part: fills behind a page of newer
trades, cancels that came too late, malformed frames. The engine on the simulator, real ccxt."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import go_live, wait_until
from tradetui.core.engine import Engine
from tradetui.core.execution import reconcile as reconcile_module
from tradetui.core.model import Mode, Order, OrderIntent, OrderStatus, OrderType, Side
from tradetui.core.venue.client import create_exchange
from tradetui.core.venue.connect import nonce_file
from tradetui.sim.server import SimServer
from tradetui.sim.venue.order_params import build_request

MANUAL_TICKS = 3600.0
"""A tick interval long enough that the simulator's market stands still."""


def rows(engine: Engine, sql: str, *args: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(engine.paths.database) as db:
        return db.execute(sql, args).fetchall()


def embedded_sim(engine: Engine) -> SimServer:
    assert engine.venue.sim is not None
    server = engine.venue.sim.server
    assert isinstance(server, SimServer)
    return server


async def rest_a_bid(engine: Engine, symbol: str = "BTC/USD") -> Order:
    """A live limit buy resting half a percent under the bid; returns it once the venue has it."""
    await wait_until(lambda: symbol in engine.snapshot().quotes, what="quotes")
    await go_live(engine)
    bid = engine.snapshot().quotes[symbol].bid
    price = Decimal(str(round(bid * 0.995, 1)))
    decision = await engine.submit(
        OrderIntent(symbol, Side.BUY, Decimal("0.002"), OrderType.LIMIT, price, confidence=0.9)
    )
    assert decision.approved
    [order] = engine.orders.open_orders(Mode.LIVE)
    assert order.status is OrderStatus.OPEN and order.venue_id
    return order


def sell_through(sim: SimServer, symbol: str, price: Decimal) -> None:
    """Another trader's market sell, just big enough to trade every bid down to ``price``: the
    market moves through a resting bid there. Runs inside the simulator between two ticks, so
    the book it sizes the sell from is the book it sells into."""
    exchange = sim.exchange
    pair = exchange.instruments.pair_by_symbol(symbol)
    assert pair is not None
    market = exchange.market.pairs[pair.pair_id]
    limit_ticks = int(price.scaleb(pair.pair_decimals))
    lots = sum(lots for ticks, lots in market.levels_of(True) if ticks >= limit_ticks)
    volume = market.qty(lots)
    trader = exchange.accounts.create("sells-through", {pair.base: volume, pair.quote: Decimal(0)})
    request = build_request(pair, side="sell", ordertype="market", volume=str(volume))
    exchange.engine.place(trader, request)


def filled_on_venue(sim: SimServer, order: Order) -> bool:
    assert order.venue_id is not None
    venue_order = sim.exchange.main_account.orders[order.venue_id]
    return venue_order.status == "closed" and venue_order.vol_exec == order.amount


async def test_a_fill_behind_more_than_a_page_of_newer_trades_is_recovered_at_restart(
    make_engine: Callable[..., Engine],
) -> None:
    """Guards the REST recovery reading the whole trade history: Kraken returns 50 trades a
    page, newest first, and an order that filled while the engine was stopped, followed by 60
    newer trades of the account, must still get its fill row and its filled amount."""
    engine = make_engine()
    await engine.start()
    try:
        order = await rest_a_bid(engine)
    finally:
        await engine.stop()

    # The engine is down: its bid fills, then someone else trades on the same key 60 times.
    sim = SimServer(
        seed=engine.settings.venue.sim_seed,
        tick_interval=MANUAL_TICKS,
        state_file=engine.paths.root / "sim-state.json",
    )
    info = await sim.start()
    try:
        sell_through(sim, order.symbol, order.price or Decimal(0))
        assert filled_on_venue(sim, order)
        # The engine's nonce file: that key's nonces must keep rising across both clients.
        other = create_exchange("kraken", info.ccxt_config(), nonce_file(info.api_key))
        try:
            for _ in range(30):
                await other.create_order("SOL/USD", "market", "buy", 0.1)
                await other.create_order("SOL/USD", "market", "sell", 0.1)
        finally:
            await other.close()
        newer = [f for f in sim.exchange.main_account.fills if f.order_txid != order.venue_id]
        assert len(newer) >= 60
    finally:
        await sim.stop()

    restarted = make_engine()
    await restarted.start()  # reconciles with the venue before it returns
    await restarted.stop()
    [(status, filled)] = rows(
        restarted, "SELECT status, filled FROM orders WHERE client_id = ?", order.client_id
    )
    assert (status, Decimal(filled)) == ("FILLED", order.amount)
    fills = rows(restarted, "SELECT amount FROM fills WHERE client_id = ?", order.client_id)
    assert sum(Decimal(amount) for (amount,) in fills) == order.amount


@pytest.mark.parametrize("cancel_by", ["txid", "cl_ord_id"])
async def test_cancelling_an_order_that_already_filled_leaves_it_filled(
    make_engine: Callable[..., Engine], monkeypatch: pytest.MonkeyPatch, cancel_by: str
) -> None:
    """Guards a cancel that arrives after the fill: by txid Kraken answers Unknown order, by
    cl_ord_id ``count: 0``; either way the order ends FILLED with its fill, never CANCELED
    with nothing filled."""
    monkeypatch.setattr(reconcile_module, "LIVE_SYNC_INTERVAL_S", 3600.0)  # only the test syncs
    engine = make_engine()
    await engine.start()
    try:
        order = await rest_a_bid(engine)
        sim = embedded_sim(engine)
        sim.faults.update({"ws_stall": 0.05})  # the executions stream goes quiet: no fill seen
        sell_through(sim, order.symbol, order.price or Decimal(0))
        assert filled_on_venue(sim, order)
        if cancel_by == "cl_ord_id":
            exchange = engine.venue.client.exchange
            by_txid = exchange.cancel_order

            async def by_client_id(
                venue_id: str, symbol: str | None = None, params: object = None
            ) -> Any:
                return await by_txid(venue_id, symbol, {"clientOrderId": order.client_id})

            monkeypatch.setattr(exchange, "cancel_order", by_client_id)
        assert not await engine.cancel_order(order.client_id)  # nothing was canceled
        assert (order.status, order.filled) == (OrderStatus.FILLED, order.amount)
        sim.faults.update({"ws_stall": None})
        await engine.reconciler.sync_live()  # type: ignore[union-attr]
    finally:
        await engine.stop()
    [(status, filled)] = rows(
        engine, "SELECT status, filled FROM orders WHERE client_id = ?", order.client_id
    )
    assert (status, Decimal(filled)) == ("FILLED", order.amount)
    fills = rows(engine, "SELECT amount FROM fills WHERE client_id = ?", order.client_id)
    assert sum(Decimal(amount) for (amount,) in fills) == order.amount


async def test_malformed_frames_are_one_warning_each_and_never_an_error_traceback(
    make_engine: Callable[..., Engine], caplog: pytest.LogCaptureFixture
) -> None:
    """Guards ccxt's receive loop against a frame that is not JSON: one WARNING naming the
    frame, where asyncio logged an ERROR traceback and the socket stopped being read."""
    engine = make_engine()
    await engine.start()
    try:
        await wait_until(lambda: len(engine.snapshot().quotes) == 3, what="quotes")
        await go_live(engine)  # the private streams too
        embedded_sim(engine).faults.update({"malformed": 7})

        def dropped() -> list[logging.LogRecord]:
            return [r for r in caplog.records if "dropped a malformed frame" in r.getMessage()]

        await wait_until(lambda: len(dropped()) >= 5, what="malformed frames dropped")
        embedded_sim(engine).faults.update({"malformed": 0})
    finally:
        await engine.stop()
    assert {r.levelno for r in dropped()} == {logging.WARNING}
    assert all("ws://127.0.0.1:" in r.getMessage() for r in dropped())
    assert all("'{" in r.getMessage() for r in dropped())  # the frame itself, quoted
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
