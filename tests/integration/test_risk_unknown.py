"""The risk gates fail closed on the engine against the simulator: what a gate cannot know (a
venue gone quiet, a holding without a price, correlations not sampled yet) blocks new exposure,
and reducing orders still go out."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal

from tests.conftest import quiet_settings, wait_until
from tradetui.core.engine import Engine
from tradetui.core.model import Decision, MarketInfo, OrderIntent, Side, Verdict
from tradetui.core.venue.connect import Venue
from tradetui.sim.venue.exchange import SimExchange

DOT = "DOT/USD"


def order(symbol: str, amount: str, side: Side = Side.BUY) -> OrderIntent:
    return OrderIntent(symbol, side, Decimal(amount), confidence=0.9, reduce_only=side is Side.SELL)


def why(decision: Decision) -> tuple[str, str] | None:
    rejected = decision.rejected_by
    return None if rejected is None else (rejected.gate, rejected.code)


def failures(engine: Engine, category: str) -> int:
    return next(
        b.consecutive_failures for b in engine.snapshot().breakers if b.category == category
    )


async def test_market_data_down_blocks_new_exposure_while_the_quote_is_still_young(
    make_engine: Callable[..., Engine],
) -> None:
    """Guards defect 7: with every stream silent and REST failing, a buy used to go out for as
    long as the last quote was younger than 5 s."""
    engine = make_engine(quiet_settings())
    await engine.start()
    try:
        await wait_until(lambda: len(engine.snapshot().quotes) == 3, what="quotes")
        assert (await engine.submit(order("SOL/USD", "1"))).verdict is Verdict.APPROVE
        faults = engine.venue.sim.server.faults  # type: ignore[union-attr]
        faults.update({"ws_stall": 0.1, "error_rate": 1.0})  # streams silent, REST refused
        await wait_until(lambda: failures(engine, "market_data") > 0, what="a failed REST poll")
        age = engine.snapshot().quote_age_s("SOL/USD")
        refused = await engine.submit(order("SOL/USD", "0.5"))
        assert age is not None and age < engine.settings.risk.max_quote_age_s
        assert why(refused) == ("data_quality", "MARKET_DATA_DOWN")
        # Reducing what is held is still allowed while the quote is fresh enough to price it.
        assert (await engine.submit(order("SOL/USD", "0.5", Side.SELL))).verdict is Verdict.APPROVE
        faults.update({"ws_stall": None, "error_rate": 0.0})
        await wait_until(
            lambda: not engine.feeds.market_data_down("SOL/USD"), within_s=25, what="back"
        )
        assert (await engine.submit(order("SOL/USD", "0.5"))).verdict is Verdict.APPROVE
    finally:
        await engine.stop()


def delist_dot_once_markets_are_loaded(engine: Engine) -> None:
    """DOT/USD is listed when the engine loads its markets and gone before any stream asks for
    it: the engine follows a symbol that is never priced."""
    open_venue = engine._open_venue

    async def open_then_delist_after_loading() -> Venue:
        venue = await open_venue()
        load_markets = venue.load_markets

        async def load_then_delist(symbols: list[str]) -> dict[str, MarketInfo]:
            markets = await load_markets(symbols)
            exchange: SimExchange = venue.sim.server.exchange  # type: ignore[union-attr]
            runner = exchange.schedule
            runner.skip_ahead(361 - (time.time() - runner.started_at))  # past DOT's removal
            await wait_until(
                lambda: DOT not in {p.symbol for p in exchange.instruments.pairs.values()},
                what="DOT delisted",
            )
            return markets

        venue.load_markets = load_then_delist  # type: ignore[method-assign]
        return venue

    engine._open_venue = open_then_delist_after_loading  # type: ignore[method-assign]


async def test_a_symbol_never_priced_does_not_keep_the_day_start_unknown(
    make_engine: Callable[..., Engine],
) -> None:
    """Guards defect 6: the equity marks waited for a quote of every configured symbol, so a
    delisted one kept the day start unknown (and the daily-loss limit off) for good."""
    engine = make_engine(quiet_settings(symbols=["BTC/USD", "ETH/USD", DOT]))
    delist_dot_once_markets_are_loaded(engine)
    await engine.start()
    try:
        await wait_until(lambda: len(engine.snapshot().quotes) == 2, what="BTC and ETH quotes")
        await wait_until(
            lambda: engine.snapshot().day_pnl is not None, within_s=5, what="the day start"
        )
        decision = await engine.submit(order("BTC/USD", "0.01"))
        assert decision.verdict is Verdict.APPROVE
        daily_loss = next(g for g in decision.gates if g.gate == "daily_loss")
        assert daily_loss.value is not None  # measured against a known day start
        assert DOT not in engine.snapshot().quotes  # DOT was never priced
    finally:
        await engine.stop()


async def test_a_holding_without_a_price_blocks_new_exposure_and_sells_still_go(
    make_engine: Callable[..., Engine],
) -> None:
    """Guards defect 6's equity with a missing price: DOT held and unpriced counted as 0, so the
    limits measured a smaller account instead of refusing to guess."""
    paper = {"starting_balances": {"USD": "10000", "BTC": "0.02", "DOT": "50"}}
    engine = make_engine(quiet_settings(symbols=["BTC/USD", "ETH/USD", DOT], paper=paper))
    delist_dot_once_markets_are_loaded(engine)
    await engine.start()
    try:
        await wait_until(lambda: len(engine.snapshot().quotes) == 2, what="BTC and ETH quotes")
        refused = await engine.submit(order("ETH/USD", "0.1"))
        assert why(refused) == ("daily_loss", "EQUITY_UNKNOWN")
        snapshot = engine.snapshot()
        assert (snapshot.equity, snapshot.day_pnl, snapshot.peak_equity) == (None, None, None)
        assert (await engine.submit(order("BTC/USD", "0.01", Side.SELL))).verdict is Verdict.APPROVE
    finally:
        await engine.stop()


async def test_a_buy_beside_a_position_waits_until_their_correlation_is_known(
    make_engine: Callable[..., Engine],
) -> None:
    """Guards the correlation gate: with too few samples to tell whether ETH moves with the BTC
    held, the cluster limit could not be applied and the buy went out unchecked."""
    engine = make_engine(quiet_settings(risk={"correlation_sample_s": 2.0}))
    await engine.start()
    try:
        await wait_until(lambda: len(engine.snapshot().quotes) == 3, what="quotes")
        # Nothing held: there is no cluster to know, so the first buy is not held back.
        assert (await engine.submit(order("BTC/USD", "0.01"))).verdict is Verdict.APPROVE
        refused = await engine.submit(order("ETH/USD", "0.1"))
        assert why(refused) == ("correlation_cluster", "CORRELATION_UNKNOWN")
        # Four samples 2 s apart: three aligned returns.
        await wait_until(
            lambda: engine.risk.correlation_known("ETH/USD", ["BTC/USD"]),
            within_s=20,
            what="the BTC/ETH correlation",
        )
        assert (await engine.submit(order("ETH/USD", "0.1"))).verdict is Verdict.APPROVE
    finally:
        await engine.stop()
