"""The ledger keeps up with the venue: each REST sync step stands alone, and a clean stop reads the
venue once more, so the database equals the venue at a clean stop."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import go_live, wait_until
from tradetui.config import PaperSettings
from tradetui.core.engine import Engine
from tradetui.core.execution.orders import OrderManager
from tradetui.core.execution.paper import PaperBroker
from tradetui.core.execution.reconcile import Reconciler
from tradetui.core.model import (
    Mode,
    Order,
    OrderIntent,
    OrderReport,
    OrderStatus,
    OrderType,
    Side,
    TradeReport,
)
from tradetui.core.store import Store
from tradetui.core.venue.breaker import CircuitBreaker
from tradetui.core.venue.errors import VenueUnavailable

ETH = "ETH/USD"


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute(sql).fetchall()


async def test_a_clean_stop_brings_in_what_the_streams_missed(
    make_engine: Callable[..., Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Streams silent and no REST sync cycle: only the stop's final sync can see the fill."""
    import tradetui.core.execution.reconcile as reconcile_module

    monkeypatch.setattr(reconcile_module, "LIVE_SYNC_INTERVAL_S", 3600.0)
    engine = make_engine()
    await engine.start()
    await wait_until(lambda: ETH in engine.snapshot().quotes, what="quotes")
    await go_live(engine)
    engine.venue.sim.server.faults.update({"ws_stall": 0.1})  # type: ignore[union-attr]
    await asyncio.sleep(0.5)  # every socket is older than the stall's 0.1 s from here on
    ask = engine.snapshot().quotes[ETH].ask
    price = Decimal(str(round(ask * 1.01, 2)))  # marketable: it fills at once on the venue
    intent = OrderIntent(ETH, Side.BUY, Decimal("0.02"), OrderType.LIMIT, price, confidence=0.9)
    await engine.submit(intent)
    [order] = engine.snapshot().open_orders
    assert order.status is OrderStatus.OPEN and engine.snapshot().fills_count == 0
    await engine.stop()
    assert rows(engine.paths.database, "SELECT status, filled FROM orders") == [("FILLED", "0.02")]
    assert rows(engine.paths.database, "SELECT side, amount FROM fills") == [("buy", "0.02")]


class FlakyVenue:
    """One order's lookup fails at the transport; every other call answers."""

    def __init__(self, orders: list[Order]) -> None:
        self.failing, self.fine = orders
        self.looked_up: list[str] = []

    async def fetch_order(self, venue_id: str, symbol: str) -> OrderReport:
        self.looked_up.append(venue_id)
        if venue_id == self.failing.venue_id:
            raise VenueUnavailable("RequestTimeout", "no answer")
        return OrderReport(
            venue_id, None, symbol, Side.BUY, OrderType.LIMIT, Decimal(1), Decimal(100),
            OrderStatus.FILLED, Decimal(1), Decimal(100), None,
        )  # fmt: skip

    async def fetch_my_trades(self, symbol: str | None, since_ms: int | None) -> list[TradeReport]:
        return [
            TradeReport(
                "T1",
                str(self.fine.venue_id),
                "BTC/USD",
                Side.BUY,
                Decimal(1),
                Decimal(100),
                Decimal(0),
                "USD",
                time.time(),
            )  # fmt: skip
        ]


async def test_one_failing_lookup_stops_neither_the_others_nor_the_trade_history(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "t.db")
    await store.open()
    fills: list[str] = []
    breaker = CircuitBreaker("orders", time.time, threshold=10)
    manager = OrderManager(
        store,
        time.time,
        PaperBroker(PaperSettings(), time.time),
        {},
        breaker,
        on_fill=lambda fill: fills.append(fill.fill_id),
    )
    orders = []
    for venue_id in ("OFAIL", "OFINE"):
        order = Order(
            f"tt-{venue_id}", "BTC/USD", Side.BUY, OrderType.LIMIT, Decimal(1), Decimal(100),
            Mode.LIVE, "test", OrderStatus.OPEN, venue_id=venue_id, created_at=time.time(),
        )  # fmt: skip
        manager.track(order)
        orders.append(order)
    venue = FlakyVenue(orders)
    reconciler = Reconciler(manager, venue, time.time)  # type: ignore[arg-type]
    await reconciler.sync_live()
    await store.close()
    assert fills == ["T1"], "the trade history was read although a lookup failed"
    assert venue.looked_up == ["OFAIL", "OFINE"]
    assert orders[1].status is OrderStatus.FILLED and orders[0].status is OrderStatus.OPEN


async def test_the_sync_runs_while_the_breaker_is_half_open_even_with_a_trial_in_flight(
    tmp_path: Path,
) -> None:
    now = [1_800_000_000.0]
    breaker = CircuitBreaker("orders", lambda: now[0], threshold=1, open_seconds=5)
    breaker.record_failure()  # open
    now[0] += 6  # half-open
    assert breaker.allow()  # an order send took the one trial call and has not answered yet
    store = Store(tmp_path / "t.db")
    await store.open()
    manager = OrderManager(
        store, time.time, PaperBroker(PaperSettings(), time.time), {}, breaker, lambda fill: None
    )
    orders = []
    for venue_id in ("OFAIL", "OFINE"):
        order = Order(
            f"tt-{venue_id}", "BTC/USD", Side.BUY, OrderType.LIMIT, Decimal(1), Decimal(100),
            Mode.LIVE, "test", OrderStatus.OPEN, venue_id=venue_id, created_at=time.time(),
        )  # fmt: skip
        manager.track(order)
        orders.append(order)
    venue = FlakyVenue(orders)
    await Reconciler(manager, venue, time.time).sync_live()  # type: ignore[arg-type]
    await store.close()
    assert venue.looked_up == ["OFAIL", "OFINE"], "the sync ran"
    assert breaker.state.value == "closed", "and its answers closed the breaker"
