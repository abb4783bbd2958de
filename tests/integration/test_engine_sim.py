"""The engine against the embedded simulator over 127.0.0.1 with real ccxt, SQLite and sockets."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from decimal import Decimal

import pytest

from tests.conftest import quiet_settings, wait_until
from tradetui.core.engine import Engine, EngineError
from tradetui.core.model import (
    Mode,
    OrderIntent,
    OrderStatus,
    OrderType,
    Side,
    TradingState,
    Verdict,
)


def rows(engine: Engine, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(engine.paths.database) as db:
        return db.execute(sql).fetchall()


def resting_bid(engine: Engine, symbol: str = "BTC/USD") -> OrderIntent:
    quote = engine.snapshot().quotes[symbol]
    price = Decimal(str(round(quote.bid * 0.99, 1)))
    return OrderIntent(
        symbol, Side.BUY, Decimal(100) / price, OrderType.LIMIT, price, confidence=0.9
    )


async def test_a_paper_market_buy_fills_against_the_live_book_and_is_audited(
    engine: Engine,
) -> None:
    snapshot = engine.snapshot()
    assert snapshot.connected and snapshot.mode is Mode.PAPER
    decision = await engine.submit(
        OrderIntent("ETH/USD", Side.BUY, Decimal("0.05"), confidence=0.9)
    )
    assert decision.verdict is Verdict.APPROVE
    after = engine.snapshot()
    position = after.positions["ETH/USD"]
    assert position.amount == Decimal("0.05")
    ask = snapshot.quotes["ETH/USD"].ask
    assert abs(float(position.average_entry) / ask - 1) < 0.01  # filled near the live ask
    assert after.balances["USD"].total < Decimal(10_000)
    await engine.stop()  # flush the writer before reading the file
    assert rows(engine, "SELECT mode, side, amount FROM fills") == [("PAPER", "buy", "0.05")]
    assert rows(engine, "SELECT verdict, client_id IS NOT NULL FROM audit") == [("APPROVE", 1)]
    assert rows(engine, "SELECT status FROM orders") == [("FILLED",)]


async def test_rejected_intents_are_audited_and_never_reach_a_broker(engine: Engine) -> None:
    decision = await engine.submit(
        OrderIntent("BTC/USD", Side.BUY, Decimal("0.01"), confidence=0.1)
    )
    assert decision.verdict is Verdict.REJECT
    assert engine.snapshot().last_rejections["signal_confidence"].code == "LOW_CONFIDENCE"
    await engine.stop()
    assert rows(engine, "SELECT verdict, code FROM audit") == [("REJECT", "LOW_CONFIDENCE")]
    assert rows(engine, "SELECT COUNT(*) FROM orders") == [(0,)]


async def test_kill_switch_halts_cancels_and_survives_a_restart(
    engine: Engine, make_engine: Callable[..., Engine]
) -> None:
    await engine.submit(resting_bid(engine))
    assert [o.status for o in engine.snapshot().open_orders] == [OrderStatus.OPEN]
    await engine.kill()
    snapshot = engine.snapshot()
    assert snapshot.state is TradingState.HALTED and snapshot.open_orders == ()
    again = await engine.submit(OrderIntent("BTC/USD", Side.BUY, Decimal("0.001"), confidence=0.9))
    assert again.rejected_by is not None and again.rejected_by.code == "HALTED"
    await engine.stop()
    assert rows(engine, "SELECT status FROM orders") == [("CANCELED",)]

    restarted = make_engine()
    await restarted.start()
    try:
        assert restarted.snapshot().state is TradingState.HALTED
        await restarted.release()
        assert restarted.snapshot().state is TradingState.PAUSED
    finally:
        await restarted.stop()


async def test_paper_resting_order_survives_a_restart_on_the_paper_book(
    engine: Engine, make_engine: Callable[..., Engine]
) -> None:
    await engine.submit(resting_bid(engine))
    [order] = engine.snapshot().open_orders
    await engine.stop()
    restarted = make_engine()
    await restarted.start()
    try:
        [restored] = restarted.snapshot().open_orders
        assert restored.client_id == order.client_id
        assert restarted.snapshot().balances["USD"].used == order.amount * order.price  # type: ignore[operator]
    finally:
        await restarted.stop()


async def test_live_mode_on_the_simulator_trades_through_ccxt(engine: Engine) -> None:
    await engine.set_mode(Mode.LIVE)
    await wait_until(lambda: "USD" in engine.snapshot().balances, what="live balances")
    usd_before = engine.snapshot().balances["USD"].total
    decision = await engine.submit(OrderIntent("SOL/USD", Side.BUY, Decimal("1"), confidence=0.9))
    assert decision.approved
    await wait_until(
        lambda: engine.snapshot().positions.get("SOL/USD") is not None, what="live fill"
    )
    assert engine.snapshot().positions["SOL/USD"].amount == Decimal("1")
    await wait_until(lambda: engine.snapshot().balances["USD"].total < usd_before, what="balance")

    await engine.submit(resting_bid(engine, "SOL/USD"))
    [open_order] = engine.snapshot().open_orders
    assert open_order.mode is Mode.LIVE and open_order.venue_id
    await engine.kill()
    assert engine.snapshot().open_orders == ()
    venue_open = await engine._exchange.fetch_open_orders()  # the venue itself, over ccxt
    assert venue_open == []
    await engine.stop()
    live_fills = rows(engine, "SELECT side, amount FROM fills WHERE mode = 'LIVE'")
    assert [(side, Decimal(str(amount))) for side, amount in live_fills] == [("buy", 1)]


async def test_going_live_on_a_real_venue_without_credentials_is_refused_offline(
    make_engine: Callable[..., Engine],
) -> None:
    engine = make_engine(
        quiet_settings(mode="live", venue={"exchange": "kraken", "account": "nobody"})
    )
    with pytest.raises(EngineError, match="no credentials stored for account 'nobody'"):
        await engine.start()  # refused before any request could leave the machine
    await engine.stop()


async def test_an_order_whose_send_times_out_is_resolved_by_client_id_never_resent(
    engine: Engine,
) -> None:
    await engine.set_mode(Mode.LIVE)
    engine._orders.unknown_grace_s = 1.0
    exchange = engine._exchange
    normal_timeout, exchange.timeout = exchange.timeout, 1  # ms: the reply cannot arrive in time
    try:
        await engine.submit(OrderIntent("ETH/USD", Side.BUY, Decimal("0.01"), confidence=0.9))
    finally:
        exchange.timeout = normal_timeout
    [order] = engine._orders.open_orders(Mode.LIVE)
    assert order.status is OrderStatus.UNKNOWN
    await wait_until(lambda: order.status.is_terminal, within_s=20, what="resolution")
    on_venue = [
        o
        for o in await exchange.fetch_closed_orders() + await exchange.fetch_open_orders()
        if o["clientOrderId"] == order.client_id
    ]
    assert len(on_venue) <= 1  # never sent twice
    if on_venue:
        assert order.status is OrderStatus.FILLED and order.venue_id == on_venue[0]["id"]
    else:
        assert (order.status, order.error) == (OrderStatus.REJECTED, "never reached the venue")
