"""The engine against the embedded simulator over 127.0.0.1 with real ccxt, SQLite and sockets."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from decimal import Decimal

import aiohttp
import pytest
from aiohttp import web

from tests.conftest import correlations_known, go_live, quiet_settings, wait_until
from tradetui.core.api import EngineError
from tradetui.core.engine import Engine
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
        await restarted.release(confirmed=True)
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
    await go_live(engine)
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
    venue_open = (
        await engine.venue.client.exchange.fetch_open_orders()
    )  # the venue itself, over ccxt
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


class AckLosingProxy:
    """A loopback HTTP proxy in front of the simulator that answers AddOrder with a 504.

    With ``forward`` the order reaches the venue first (a lost acknowledgement); without it the
    request dies on the way (the order never existed).
    """

    def __init__(self, upstream: str, forward: bool) -> None:
        self.upstream, self.forward = upstream, forward
        self.add_orders = 0

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        host, port = self.runner.addresses[0][:2]
        return f"http://{host}:{port}"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        is_add_order = request.path.endswith("/AddOrder")
        self.add_orders += is_add_order
        if is_add_order and not self.forward:
            return web.Response(status=504, text="gateway timeout")
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                request.method, self.upstream + request.path_qs, data=body, headers=headers
            ) as reply,
        ):
            payload = await reply.read()
        if is_add_order:
            return web.Response(status=504, text="gateway timeout")
        return web.Response(status=reply.status, body=payload, content_type="application/json")


@pytest.mark.parametrize("reaches_venue", [True, False])
async def test_an_order_whose_ack_is_lost_is_resolved_by_client_id_never_resent(
    engine: Engine, reaches_venue: bool
) -> None:
    await go_live(engine)
    engine.reconciler.unknown_grace_s = 1.0
    exchange = engine.venue.client.exchange
    venue_url = exchange.urls["api"]["private"]
    proxy = AckLosingProxy(venue_url, forward=reaches_venue)
    exchange.urls["api"]["private"] = await proxy.start()
    try:
        await engine.submit(OrderIntent("ETH/USD", Side.BUY, Decimal("0.01"), confidence=0.9))
        [order] = engine.orders.open_orders(Mode.LIVE)
        assert order.status is OrderStatus.UNKNOWN
        await wait_until(lambda: order.status.is_terminal, within_s=20, what="resolution")
    finally:
        exchange.urls["api"]["private"] = venue_url
        await proxy.runner.cleanup()
    assert proxy.add_orders == 1  # resolved by looking up, never by sending again
    on_venue = [
        o
        for o in await exchange.fetch_closed_orders() + await exchange.fetch_open_orders()
        if o["clientOrderId"] == order.client_id
    ]
    if reaches_venue:
        assert order.status is OrderStatus.FILLED
        assert [o["id"] for o in on_venue] == [order.venue_id]
    else:
        assert (order.status, order.error) == (OrderStatus.REJECTED, "never reached the venue")
        assert on_venue == []


async def test_a_nonce_pushed_ahead_by_another_client_on_the_key_is_recovered_once(
    engine: Engine, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    exchange = engine.venue.client.exchange
    other = type(exchange)(
        {"apiKey": exchange.apiKey, "secret": exchange.secret, "urls": exchange.urls}
    )
    ours = exchange.nonce.__self__  # the engine's NonceManager
    now_s = time.time()
    ahead = max(ours.last_nonce, int(now_s * 1000)) + 300
    # Our clock stands still, so however slow this machine is, our next nonce trails the other's.
    monkeypatch.setattr(ours, "_clock", lambda: now_s)
    other.nonce = lambda: ahead  # a second process on the key, slightly ahead of us
    try:
        await other.fetch_balance()
    finally:
        await other.close()
    balance = await exchange.fetch_balance()  # our next nonce is now behind the venue's
    assert balance["total"]["USD"] > 0
    assert [r.message for r in caplog.records if "nonce" in r.message] == [
        "venue rejected a nonce; jumped 1000 ms ahead and retried once"
    ]


async def test_open_orders_on_the_venue_the_engine_never_sent_are_adopted_and_killed(
    engine: Engine,
) -> None:
    exchange = engine.venue.client.exchange
    bid = engine.snapshot().quotes["BTC/USD"].bid
    foreign = await exchange.create_order(
        "BTC/USD", "limit", "buy", 0.001, round(bid * 0.95, 1), {"clientOrderId": "elsewhere-1"}
    )
    [adopted] = await engine.reconciler.adopt_venue_orders()
    assert (adopted.client_id, adopted.venue_id, adopted.strategy) == (
        "elsewhere-1",
        foreign["id"],
        "adopted",
    )
    assert await engine.reconciler.adopt_venue_orders() == []  # adopted once
    await go_live(engine)
    assert [o.venue_id for o in engine.snapshot().open_orders] == [foreign["id"]]
    await engine.kill()
    assert await exchange.fetch_open_orders() == []


async def test_day_start_and_peak_equity_survive_a_restart(
    engine: Engine, make_engine: Callable[..., Engine]
) -> None:
    await engine.submit(OrderIntent("ETH/USD", Side.BUY, Decimal("0.5"), confidence=0.9))
    await wait_until(lambda: engine.risk.day_start_equity(Mode.PAPER) is not None, what="start")
    baseline = engine.risk.day_start_equity(Mode.PAPER)
    peak = engine.snapshot().peak_equity
    assert peak is not None and baseline is not None and peak >= baseline > 0
    await engine.stop()
    restarted = make_engine()
    await restarted.start()
    try:
        assert restarted.risk.day_start_equity(Mode.PAPER) == baseline
        assert restarted.risk.peak_equity(Mode.PAPER) == peak
    finally:
        await restarted.stop()


async def test_live_fills_arrive_over_the_executions_stream_without_rest_polling(
    make_engine: Callable[..., Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    import tradetui.core.execution.reconcile as reconcile_module

    monkeypatch.setattr(reconcile_module, "LIVE_SYNC_INTERVAL_S", 3600.0)  # REST sync never runs
    engine = make_engine()
    await engine.start()
    try:
        await wait_until(lambda: "ETH/USD" in engine.snapshot().quotes, what="quotes")
        await go_live(engine)
        await engine.submit(OrderIntent("ETH/USD", Side.BUY, Decimal("0.02"), confidence=0.9))
        await wait_until(lambda: "ETH/USD" in engine.snapshot().positions, what="WS fill")
        assert engine.snapshot().positions["ETH/USD"].amount == Decimal("0.02")
        await wait_until(lambda: engine.snapshot().recent_orders != (), what="WS order status")
        assert engine.snapshot().recent_orders[-1].status is OrderStatus.FILLED
    finally:
        await engine.stop()


async def test_live_balances_follow_the_balances_stream_between_rest_reads(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tradetui.core.venue.balances as balances_module

    await go_live(engine)  # seeds over REST once
    sol_before = engine.snapshot().balances["SOL"].total
    monkeypatch.setattr(balances_module, "REST_EVERY_S", 3600.0)
    monkeypatch.setattr(balances_module, "DIRTY_MIN_GAP_S", 3600.0)  # no REST from here on
    await engine.submit(OrderIntent("SOL/USD", Side.BUY, Decimal("2"), confidence=0.9))
    await wait_until(
        lambda: engine.snapshot().balances["SOL"].total == sol_before + 2, what="WS balances"
    )
    assert engine.snapshot().balances["SOL"].free == sol_before + 2


async def test_losing_trades_start_a_cooldown_that_survives_a_restart(
    engine: Engine, make_engine: Callable[..., Engine]
) -> None:
    for _ in range(3):  # each round trip pays the spread and fees: a losing trade
        await engine.submit(OrderIntent("SOL/USD", Side.BUY, Decimal("1"), confidence=0.9))
        await engine.submit(
            OrderIntent("SOL/USD", Side.SELL, Decimal("1"), confidence=0.9, reduce_only=True)
        )
    blocked = await engine.submit(OrderIntent("SOL/USD", Side.BUY, Decimal("1"), confidence=0.9))
    assert blocked.rejected_by is not None and blocked.rejected_by.code == "COOLDOWN"
    other = await engine.submit(OrderIntent("ETH/USD", Side.BUY, Decimal("0.1"), confidence=0.9))
    assert other.approved  # the cooldown is SOL's alone
    await engine.stop()
    restarted = make_engine()
    await restarted.start()
    try:
        await wait_until(lambda: "SOL/USD" in restarted.snapshot().quotes, what="quotes")
        again = await restarted.submit(
            OrderIntent("SOL/USD", Side.BUY, Decimal("1"), confidence=0.9)
        )
        assert again.rejected_by is not None and again.rejected_by.code == "COOLDOWN"
    finally:
        await restarted.stop()


async def test_flatten_halts_cancels_closes_every_position_and_survives_a_restart(
    make_engine: Callable[..., Engine],
) -> None:
    from tradetui.core.api import EngineError

    engine = make_engine(quiet_settings(risk={"correlation_sample_s": 1.0}))
    await engine.start()
    try:
        await wait_until(lambda: len(engine.snapshot().quotes) == 3, what="quotes")
        await correlations_known(engine)  # buys beside a position wait for that
        await engine.submit(OrderIntent("SOL/USD", Side.BUY, Decimal("2"), confidence=0.9))
        await engine.submit(OrderIntent("ETH/USD", Side.BUY, Decimal("0.2"), confidence=0.9))
        assert (await engine.submit(resting_bid(engine))).approved
        with pytest.raises(EngineError, match="confirm"):
            await engine.flatten()
        assert engine.snapshot().state is TradingState.ACTIVE  # nothing happened unconfirmed
        assert await engine.flatten(confirmed=True)
        snapshot = engine.snapshot()
        assert snapshot.state is TradingState.HALTED and snapshot.open_orders == ()
        assert {s: p.amount for s, p in snapshot.positions.items()} == {
            "SOL/USD": 0,
            "ETH/USD": 0,
        }
        halted = await engine.submit(OrderIntent("SOL/USD", Side.BUY, Decimal("1"), flatten=True))
        assert halted.rejected_by is not None and halted.rejected_by.code == "HALTED"
    finally:
        await engine.stop()
    restarted = make_engine()
    await restarted.start()
    try:
        assert restarted.snapshot().state is TradingState.HALTED
        assert all(p.amount == 0 for p in restarted.snapshot().positions.values())
    finally:
        await restarted.stop()


async def test_live_flatten_is_checked_against_the_venue(engine: Engine) -> None:
    await go_live(engine)
    await engine.submit(OrderIntent("SOL/USD", Side.BUY, Decimal("3"), confidence=0.9))
    await wait_until(lambda: "SOL/USD" in engine.snapshot().positions, what="live fill")
    assert await engine.flatten(confirmed=True)
    venue_trades = await engine.venue.client.exchange.fetch_my_trades("SOL/USD")
    bought = sum(t["amount"] for t in venue_trades if t["side"] == "buy")
    sold = sum(t["amount"] for t in venue_trades if t["side"] == "sell")
    assert bought == sold == 3


async def test_live_mode_keeps_the_venue_dead_mans_switch_armed(engine: Engine) -> None:
    deadman = engine.venue.sim.server.exchange.deadman  # type: ignore[union-attr]
    assert deadman.triggers == {}
    await go_live(engine)
    await wait_until(lambda: bool(deadman.triggers), what="armed")
    [(_, trigger)] = deadman.triggers.values()
    assert trigger > time.time() + 30  # about a minute ahead
    await engine.set_mode(Mode.PAPER)
    await wait_until(lambda: not deadman.triggers, what="disarmed")


@pytest.mark.parametrize(
    ("control", "expected"),
    [("pause", TradingState.PAUSED), ("kill-release", TradingState.PAUSED)],
)
async def test_each_control_survives_a_restart_on_the_same_data_dir(
    engine: Engine, make_engine: Callable[..., Engine], control: str, expected: TradingState
) -> None:
    if control == "pause":
        await engine.pause()
        blocked = await engine.submit(
            OrderIntent("ETH/USD", Side.BUY, Decimal("0.1"), confidence=0.9)
        )
        assert blocked.rejected_by is not None and blocked.rejected_by.code == "PAUSED"
    else:
        await engine.kill()
        await engine.release(confirmed=True)
    assert engine.snapshot().state is expected
    await engine.stop()
    restarted = make_engine()
    await restarted.start()
    try:
        assert restarted.snapshot().state is expected
        await restarted.resume()
        assert restarted.snapshot().state is TradingState.ACTIVE
    finally:
        await restarted.stop()


@pytest.mark.parametrize("mode", [Mode.PAPER, Mode.LIVE])
async def test_one_open_order_can_be_canceled_and_only_that_one(engine: Engine, mode: Mode) -> None:
    await engine.set_mode(mode)
    await engine.resume()  # the first live trading on a data dir comes up PAUSED
    await engine.submit(resting_bid(engine, "BTC/USD"))
    await engine.submit(resting_bid(engine, "ETH/USD"))
    first, second = engine.snapshot().open_orders
    assert await engine.cancel_order(first.client_id)
    assert [o.client_id for o in engine.snapshot().open_orders] == [second.client_id]
    assert not await engine.cancel_order(first.client_id)  # already gone
    if mode is Mode.LIVE:
        venue_open = [
            o["clientOrderId"] for o in await engine.venue.client.exchange.fetch_open_orders()
        ]
        assert venue_open == [second.client_id]


async def test_an_order_approved_just_before_the_kill_switch_is_never_sent(engine: Engine) -> None:
    """Guards the race where an order passed the guard, the kill switch fired during its
    write-ahead commit, and the order then went out after the cancel-all."""
    submitting = asyncio.create_task(engine.submit(resting_bid(engine)))
    await asyncio.sleep(0)  # the intent is approved; its row is being committed
    await engine.kill()
    decision = await submitting
    assert decision.approved
    assert engine.snapshot().open_orders == ()
    [order] = engine.snapshot().recent_orders
    assert (order.status, order.error) == (
        OrderStatus.REJECTED,
        "kill switch engaged before it was sent",
    )
