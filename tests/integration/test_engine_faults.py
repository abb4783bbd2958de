"""The engine against the simulator's injected faults: outages, stalls and lost acknowledgements."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import pytest

from tests.conftest import go_live, quiet_settings, wait_until
from tradetui.core.engine import Engine
from tradetui.core.execution import reconcile as reconcile_module
from tradetui.core.model import BreakerState, Mode, OrderIntent, OrderStatus, Side, Verdict


def breaker(engine: Engine, category: str) -> BreakerState:
    return next(b.state for b in engine.snapshot().breakers if b.category == category)


def buy(symbol: str = "SOL/USD", amount: str = "0.5") -> OrderIntent:
    return OrderIntent(symbol, Side.BUY, Decimal(amount), confidence=0.9)


@contextlib.asynccontextmanager
async def live(make_engine: Callable[..., Engine], **overrides: object) -> AsyncIterator[Engine]:
    """A started engine in live mode on the embedded simulator, with quotes for every symbol."""
    engine = make_engine(quiet_settings(venue={"breaker_open_s": 1.0}, **overrides))
    await engine.start()
    try:
        await wait_until(lambda: len(engine.snapshot().quotes) == 3, what="quotes")
        await go_live(engine)
        engine.reconciler.unknown_grace_s = 1.0
        yield engine
    finally:
        await engine.stop()


@pytest.fixture
async def live_engine(make_engine: Callable[..., Engine]) -> AsyncIterator[Engine]:
    async with live(make_engine) as engine:
        yield engine


async def test_a_5xx_burst_opens_the_order_breaker_and_it_closes_after_recovery(
    live_engine: Engine,
) -> None:
    faults = live_engine.venue.sim.server.faults  # type: ignore[union-attr]
    faults.update({"error_rate": 1.0, "error_kind": "http5xx"})
    for _ in range(3):
        await live_engine.submit(buy())
    assert breaker(live_engine, "orders") is BreakerState.OPEN
    blocked = await live_engine.submit(buy())
    assert blocked.rejected_by is not None and blocked.rejected_by.code == "BREAKER_OPEN"
    faults.update({"error_rate": 0.0})
    await wait_until(lambda: breaker(live_engine, "orders") is BreakerState.CLOSED, what="close")
    # The refused orders never reached the venue: each is resolved, none is sent again.
    await wait_until(lambda: not live_engine.orders.open_orders(Mode.LIVE), what="resolution")
    assert {o.error for o in live_engine.snapshot().recent_orders} == {"never reached the venue"}
    assert await live_engine.venue.client.exchange.fetch_closed_orders() == []
    again = await live_engine.submit(buy())
    assert again.verdict is Verdict.APPROVE


async def test_stale_data_blocks_trading_until_data_flows_again(
    make_engine: Callable[..., Engine],
) -> None:
    # A 3 s limit (not the default 5 s) so the quotes go stale sooner; still over the 2 s after
    # which a quiet stream is bridged over REST, so only the outage makes them stale.
    async with live(make_engine, risk={"max_quote_age_s": 3.0}) as live_engine:
        # Paper: the order path never calls the venue, so only market data sees the outage.
        await live_engine.set_mode(Mode.PAPER)
        faults = live_engine.venue.sim.server.faults  # type: ignore[union-attr]
        faults.update({"ws_stall": 0.1, "error_rate": 1.0})  # streams silent, REST refused
        await wait_until(
            lambda: (live_engine.snapshot().quote_age_s("SOL/USD") or 0) > 3.5,
            within_s=20,
            what="stale",
        )
        blocked = await live_engine.submit(buy())
        # Stale, and market data is down too: the gate names the outage (it blocks at once, not
        # only once the quote is old; test_risk_unknown.py shows that).
        assert blocked.rejected_by is not None and blocked.rejected_by.code == "MARKET_DATA_DOWN"
        faults.update({"ws_stall": None, "error_rate": 0.0})
        await wait_until(
            lambda: (live_engine.snapshot().quote_age_s("SOL/USD") or 99) < 2,
            within_s=20,
            what="fresh",
        )
        assert (await live_engine.submit(buy())).verdict is Verdict.APPROVE


async def test_a_lost_ack_leaves_exactly_one_order_on_the_venue_matching_local_state(
    live_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    live_engine.venue.sim.server.faults.update({"lose_acks": 1})  # type: ignore[union-attr]
    add_order_url = live_engine.venue.client.exchange.urls["api"]["private"] + "/0/private/AddOrder"
    await live_engine.submit(buy("ETH/USD", "0.01"))
    [order] = live_engine.orders.open_orders(Mode.LIVE)
    # The reason names the error, even when the stream clears the order's error meanwhile.
    [unknown] = [r.getMessage() for r in caplog.records if "outcome unknown" in r.getMessage()]
    assert unknown.endswith(f"outcome unknown: ExchangeNotAvailable: kraken POST {add_order_url}")
    await wait_until(lambda: order.status.is_terminal, what="resolution")
    venue = [
        o
        for o in await live_engine.venue.client.exchange.fetch_closed_orders()
        if o["clientOrderId"] == order.client_id
    ]
    assert len(venue) == 1
    assert (order.status, order.venue_id, order.filled, order.error) == (
        OrderStatus.FILLED,
        venue[0]["id"],
        Decimal(str(venue[0]["filled"])),
        "",
    )
    await wait_until(lambda: "ETH/USD" in live_engine.snapshot().positions, what="fill")
    assert live_engine.snapshot().positions["ETH/USD"].amount == order.filled


async def sample_quotes(engine: Engine, seconds: float) -> tuple[float, set[str]]:
    """The worst SOL/USD quote age seen, and the sources seen, over ``seconds``."""
    worst_age, sources = 0.0, set()
    for _ in range(int(seconds * 10)):
        await asyncio.sleep(0.1)
        quote = engine.snapshot().quotes["SOL/USD"]
        worst_age = max(worst_age, engine.snapshot().quote_age_s("SOL/USD") or 0.0)
        sources.add(quote.source)
    return worst_age, sources


async def test_dropped_and_stalled_streams_never_leave_stale_quotes_and_the_stream_returns(
    live_engine: Engine,
) -> None:
    faults = live_engine.venue.sim.server.faults  # type: ignore[union-attr]
    limit = live_engine.settings.risk.max_quote_age_s
    faults.update({"ws_disconnect": 0.5})  # every socket closed half a second after it opens
    worst_age, _ = await sample_quotes(live_engine, 4)
    assert worst_age < limit
    faults.update({"ws_disconnect": 0, "ws_stall": 0.1})  # sockets open, nothing arrives
    worst_age, sources = await sample_quotes(live_engine, 5)
    assert worst_age < limit and "rest" in sources  # REST bridged the silence
    faults.update({"ws_stall": None})
    await wait_until(
        lambda: live_engine.snapshot().quotes["SOL/USD"].source == "ws", within_s=25, what="WS"
    )


async def test_under_a_rate_limit_every_order_is_resolved_and_none_is_sent_twice(
    live_engine: Engine, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The REST sync that resolves the refused orders runs every second, not every 5 s.
    monkeypatch.setattr(reconcile_module, "REST_FALLBACK_S", 1.0)
    faults = live_engine.venue.sim.server.faults  # type: ignore[union-attr]
    faults.update({"rate_limit": 2})
    decisions = [await live_engine.submit(buy("SOL/USD", "0.1")) for _ in range(6)]
    faults.update({"rate_limit": 0})
    assert any("DDoSProtection" in r.message for r in caplog.records)  # the limit did bite
    await wait_until(lambda: not live_engine.orders.open_orders(Mode.LIVE), what="resolution")
    sent = [o for o in live_engine.snapshot().recent_orders if o.venue_id is not None]
    on_venue = {
        o["clientOrderId"]: o["id"]
        for o in await live_engine.venue.client.exchange.fetch_closed_orders()
    }
    assert on_venue == {o.client_id: o.venue_id for o in sent}
    refused = [d for d in decisions if not d.approved]
    assert all(d.rejected_by.code == "BREAKER_OPEN" for d in refused)  # type: ignore[union-attr]
