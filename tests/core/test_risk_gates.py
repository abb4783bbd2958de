"""Unit tests of the risk gates and the guard's decisions."""

from __future__ import annotations

import math
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.core.markets import BTC
from tradetui.config import RiskSettings
from tradetui.core.model import (
    Decision,
    OrderIntent,
    OrderType,
    Quote,
    Side,
    TradingState,
    Verdict,
)
from tradetui.core.risk import GATE_NAMES, RiskContext, RiskGuard

NOW = 1_800_000_000.0
QUOTE = Quote("BTC/USD", 59_990.0, 60_010.0, 60_000.0, 1.0, 1.0, NOW - 0.5)


def context(**changes: object) -> RiskContext:
    """A sound world: every reference known, nothing held, equity at its day start and peak."""
    base = RiskContext(
        now=NOW,
        state=TradingState.ACTIVE,
        breaker_open=False,
        market=BTC,
        quote=QUOTE,
        market_data_down=False,
        equity=10_000.0,
        balances_known=True,
        position_amount=Decimal(0),
        open_position_symbols=frozenset(),
        free_quote=10_000.0,
        free_base=0.0,
        day_start_equity=10_000.0,
        peak_equity=10_000.0,
        correlation_known=True,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def buy(amount: str = "0.01", **changes: object) -> OrderIntent:
    intent = OrderIntent("BTC/USD", Side.BUY, Decimal(amount), confidence=0.9)
    return replace(intent, **changes)  # type: ignore[arg-type]


guard = RiskGuard(RiskSettings())


def test_a_sound_small_buy_is_approved_by_every_gate() -> None:
    decision = guard.evaluate(buy(), context())
    assert decision.verdict is Verdict.APPROVE
    assert decision.amount == Decimal("0.01")
    assert [g.gate for g in decision.gates] == list(GATE_NAMES)
    assert all(g.passed for g in decision.gates)


@pytest.mark.parametrize(
    ("intent", "ctx", "gate", "code"),
    [
        (buy(), context(state=TradingState.HALTED), "trading_state", "HALTED"),
        (buy(), context(state=TradingState.PAUSED), "trading_state", "PAUSED"),
        (buy(), context(breaker_open=True), "circuit_breaker", "BREAKER_OPEN"),
        (buy(), context(market=None), "market_status", "MARKET_UNKNOWN"),
        (buy(), context(market=replace(BTC, active=False)), "market_status", "MARKET_INACTIVE"),
        (buy(), context(quote=None), "data_quality", "NO_QUOTE"),
        (buy(), context(quote=replace(QUOTE, received_at=NOW - 6)), "data_quality", "QUOTE_STALE"),
        (buy(), context(quote=replace(QUOTE, bid=60_020.0)), "data_quality", "BOOK_CROSSED"),
        (buy(), context(quote=replace(QUOTE, bid=59_000.0)), "data_quality", "SPREAD_WIDE"),
        (buy(), context(quote=replace(QUOTE, ask=math.nan)), "data_quality", "BAD_QUOTE"),
        (buy("0.00001"), context(), "order_sanity", "BELOW_MIN_AMOUNT"),
        (buy("NaN"), context(), "order_sanity", "BAD_AMOUNT"),
        (
            buy(order_type=OrderType.LIMIT, price=Decimal("70000")),
            context(),
            "order_sanity",
            "FAT_FINGER",
        ),
        (
            buy(),
            context(open_position_symbols=frozenset({"ETH/USD", "SOL/USD", "ADA/USD"})),
            "position_count",
            "TOO_MANY_POSITIONS",
        ),
        (buy(), context(position_amount=Decimal("0.04")), "position_size", "POSITION_TOO_LARGE"),
        (buy(), context(free_quote=12.0), "min_balance", "BALANCE_TOO_LOW"),
        (buy(confidence=0.5), context(), "signal_confidence", "LOW_CONFIDENCE"),
        (buy(), context(orders_last_minute=30), "order_rate", "ORDER_RATE"),
        (buy(), context(cooldown_until=NOW + 60), "cooldown", "COOLDOWN"),
        (buy(), context(day_start_equity=10_600.0), "daily_loss", "DAILY_LOSS"),
        (buy(), context(peak_equity=11_200.0), "drawdown", "DRAWDOWN"),
        (buy(), context(exposure=5_999.0), "total_exposure", "EXPOSURE_TOO_HIGH"),
        (buy(), context(cluster_exposure=3_999.0), "correlation_cluster", "CLUSTER_TOO_HIGH"),
        (buy(), context(quote=replace(QUOTE, bid_volume=0.0)), "data_quality", "NO_VOLUME"),
        (
            buy(),
            context(market=replace(BTC, status="cancel_only", active=False)),
            "market_status",
            "CANCEL_ONLY",
        ),
        (buy(confidence=math.nan), context(), "signal_confidence", "LOW_CONFIDENCE"),
        # What a gate cannot know blocks new exposure, each with its own code.
        (buy(), context(market_data_down=True), "data_quality", "MARKET_DATA_DOWN"),
        (buy(), context(equity=None), "daily_loss", "EQUITY_UNKNOWN"),
        (buy(), context(equity=None, balances_known=False), "daily_loss", "BALANCES_UNKNOWN"),
        (buy(), context(day_start_equity=None), "daily_loss", "DAY_START_UNKNOWN"),
        (buy(), context(peak_equity=None), "drawdown", "PEAK_UNKNOWN"),
        (buy(), context(correlation_known=False), "correlation_cluster", "CORRELATION_UNKNOWN"),
        (buy(), context(balances_known=False), "min_balance", "BALANCES_UNKNOWN"),
    ],
)
def test_each_gate_rejects_with_its_reason_code(
    intent: OrderIntent, ctx: RiskContext, gate: str, code: str
) -> None:
    decision = guard.evaluate(intent, ctx)
    assert decision.verdict is Verdict.REJECT
    assert decision.amount == 0
    assert decision.rejected_by is not None
    assert (decision.rejected_by.gate, decision.rejected_by.code) == (gate, code)


def test_headroom_is_positive_while_within_limits_for_maximums_and_minimums() -> None:
    gates = {g.gate: g for g in guard.evaluate(buy(), context()).gates}
    assert gates["data_quality"].headroom == 4.5  # quote 0.5 s old, limit 5 s
    assert gates["min_balance"].headroom == 9_990.0  # 10,000 free, minimum 10
    assert gates["signal_confidence"].headroom is not None
    assert gates["signal_confidence"].headroom > 0


def test_reducing_orders_are_exempt_from_the_order_rate_budget() -> None:
    sell = OrderIntent("BTC/USD", Side.SELL, Decimal("0.01"), confidence=0.9, reduce_only=True)
    ctx = context(orders_last_minute=500, free_base=0.01, position_amount=Decimal("0.01"))
    assert guard.evaluate(sell, ctx).verdict is Verdict.APPROVE


def test_paused_still_lets_a_reducing_sell_through() -> None:
    sell = OrderIntent("BTC/USD", Side.SELL, Decimal("0.01"), confidence=0.9, reduce_only=True)
    ctx = context(state=TradingState.PAUSED, free_base=0.01, position_amount=Decimal("0.01"))
    assert guard.evaluate(sell, ctx).verdict is Verdict.APPROVE


def test_an_oversized_buy_is_reduced_to_the_position_limit() -> None:
    # 20 % of 10,000 equity at an ask of 60,010 is 0.0333 BTC.
    decision = guard.evaluate(buy("0.1"), context())
    assert decision.verdict is Verdict.REDUCE
    assert decision.amount == Decimal("0.03332777")
    assert decision.amount * Decimal("60010") <= Decimal(2000)


def test_a_sell_larger_than_the_holding_is_cut_to_the_holding() -> None:
    sell = OrderIntent("BTC/USD", Side.SELL, Decimal("1"), confidence=0.9)
    decision = guard.evaluate(sell, context(free_base=0.25))
    assert decision.verdict is Verdict.REDUCE
    assert decision.amount == Decimal("0.25")


def test_a_gate_that_raises_rejects_the_intent() -> None:
    def broken(*_: object) -> object:
        raise RuntimeError("boom")

    broken.__name__ = "broken"
    decision = RiskGuard(RiskSettings(), gates=(broken,)).evaluate(buy(), context())  # type: ignore[arg-type]
    assert decision.verdict is Verdict.REJECT
    assert decision.rejected_by is not None and decision.rejected_by.code == "GATE_ERROR"


LIMITS = RiskSettings()
money = st.floats(min_value=0, max_value=1e7, allow_nan=False)


@st.composite
def contexts(draw: st.DrawFn) -> RiskContext:
    """Any plausible state of the world, including bad quotes and every trading state."""
    bid = draw(st.floats(min_value=1, max_value=200_000) | st.just(math.nan))
    spread_bps = draw(st.floats(min_value=-5, max_value=200))
    quote = Quote(
        "BTC/USD",
        bid,
        bid * (1 + spread_bps / 10_000),
        bid,
        draw(st.floats(min_value=0, max_value=10)),
        draw(st.floats(min_value=0, max_value=10)),
        NOW - draw(st.floats(min_value=0, max_value=20)),
    )
    return context(
        state=draw(st.sampled_from(TradingState)),
        breaker_open=draw(st.booleans()),
        quote=draw(st.none() | st.just(quote)),
        equity=draw(st.floats(min_value=-100, max_value=1e7)),
        position_amount=draw(st.decimals(min_value=0, max_value=10, places=8)),
        free_quote=draw(money),
        free_base=draw(st.floats(min_value=0, max_value=10)),
        orders_last_minute=draw(st.integers(0, 60)),
        day_start_equity=draw(money),
        peak_equity=draw(money),
        exposure=draw(money),
        cluster_exposure=draw(money),
        cooldown_until=NOW + draw(st.floats(min_value=-100, max_value=100)),
    )


@st.composite
def intents(draw: st.DrawFn) -> OrderIntent:
    limit = draw(st.booleans())
    return OrderIntent(
        "BTC/USD",
        draw(st.sampled_from(Side)),
        draw(st.decimals(min_value="0", max_value="100", places=8)),
        OrderType.LIMIT if limit else OrderType.MARKET,
        draw(st.decimals(min_value="1", max_value="200000", places=1)) if limit else None,
        confidence=draw(st.floats(min_value=0, max_value=1)),
        reduce_only=draw(st.booleans()),
    )


UNKNOWN = {
    "equity": None,
    "day_start_equity": None,
    "peak_equity": None,
    "balances_known": False,
    "correlation_known": False,
    "market_data_down": True,
}
"""How a context says it does not know each thing a gate needs."""


unknowns = st.builds(
    lambda names: {name: UNKNOWN[name] for name in names}, st.sets(st.sampled_from(sorted(UNKNOWN)))
)
"""Any further references unknown (maybe none)."""


@st.composite
def sound_contexts(draw: st.DrawFn) -> RiskContext:
    """Worlds in which a modest buy passes every gate: what an unknown must still stop."""
    equity = draw(st.floats(min_value=1_000, max_value=1e7))
    return context(
        equity=equity,
        free_quote=equity,
        day_start_equity=equity * draw(st.floats(min_value=0.97, max_value=1.03)),
        peak_equity=equity * draw(st.floats(min_value=1.0, max_value=1.05)),
        position_amount=draw(st.decimals(min_value=0, max_value="0.002", places=8)),
        free_base=draw(st.floats(min_value=0, max_value=0.01)),
    )


sound_buys = st.builds(
    lambda amount: buy(str(amount)), st.decimals(min_value="0.0001", max_value="0.01", places=8)
)
"""Market buys that a sound context approves or reduces."""


@pytest.mark.parametrize("name", sorted(UNKNOWN))
@given(intent=intents() | sound_buys, ctx=contexts() | sound_contexts(), more=unknowns)
def test_no_exposure_increasing_intent_passes_while_a_reference_is_unknown(
    name: str, intent: OrderIntent, ctx: RiskContext, more: dict[str, object]
) -> None:
    """Guards the fail-closed rule: day start, peak, a price (equity), balances, correlations or
    market data unknown: a buy is never APPROVED nor REDUCED."""
    increasing = replace(intent, side=Side.BUY, reduce_only=False)
    unsure = replace(ctx, **{**more, name: UNKNOWN[name]})  # type: ignore[arg-type]
    assert guard.evaluate(increasing, unsure).verdict is Verdict.REJECT


@pytest.mark.parametrize("name", sorted(UNKNOWN))
@given(intent=intents(), ctx=contexts() | sound_contexts(), more=unknowns)
def test_a_reducing_intent_is_judged_alike_whatever_is_unknown(
    name: str, intent: OrderIntent, ctx: RiskContext, more: dict[str, object]
) -> None:
    """Guards the other half: what is unknown never blocks (nor resizes) a sell."""
    sell = replace(intent, side=Side.SELL)
    # Balances unknown, a sell may close the ledger's own position: make that what is free.
    ctx = replace(ctx, free_base=float(ctx.position_amount))
    known = guard.evaluate(sell, ctx)
    unsure = guard.evaluate(sell, replace(ctx, **{**more, name: UNKNOWN[name]}))  # type: ignore[arg-type]
    assert (unsure.verdict, unsure.amount, _why(unsure)) == (
        known.verdict,
        known.amount,
        _why(known),
    )


def _why(decision: Decision) -> tuple[str, str] | None:
    rejected = decision.rejected_by
    return None if rejected is None else (rejected.gate, rejected.code)


def test_with_balances_unknown_a_sell_may_close_the_position_the_ledger_holds() -> None:
    sell = OrderIntent("BTC/USD", Side.SELL, Decimal("1"), confidence=0.9, reduce_only=True)
    unknown = context(balances_known=False, equity=None, free_base=0.0)
    decision = guard.evaluate(sell, replace(unknown, position_amount=Decimal("0.02")))
    assert (decision.verdict, decision.amount) == (Verdict.REDUCE, Decimal("0.02"))
    nothing = guard.evaluate(sell, unknown)
    assert nothing.rejected_by is not None and nothing.rejected_by.code == "NOTHING_TO_SELL"


def test_unknown_values_are_reported_as_unknown_not_zero() -> None:
    """The Risk pane shows a gate's value: unknown must reach it as None (a dash), not 0."""
    sell = OrderIntent("BTC/USD", Side.SELL, Decimal("0.01"), confidence=0.9)
    ctx = context(equity=None, day_start_equity=None, peak_equity=None, free_base=0.01)
    gates = {g.gate: g for g in guard.evaluate(sell, ctx).gates}
    assert all(g.passed for g in gates.values())
    for name in ("daily_loss", "drawdown", "total_exposure", "correlation_cluster"):
        assert gates[name].value is None and gates[name].headroom is None
    refused = guard.evaluate(buy(), context(day_start_equity=None)).rejected_by
    assert refused is not None and refused.value is None


def test_a_day_start_of_zero_has_nothing_to_fall_from() -> None:
    decision = guard.evaluate(buy(), context(day_start_equity=0.0, peak_equity=0.0))
    assert decision.verdict is Verdict.APPROVE


@given(intent=intents(), ctx=contexts(), unknown=unknowns)
def test_an_approved_or_reduced_order_never_breaches_a_limit(
    intent: OrderIntent, ctx: RiskContext, unknown: dict[str, object]
) -> None:
    ctx = replace(ctx, **unknown)  # type: ignore[arg-type]
    decision = guard.evaluate(intent, ctx)
    assert 0 <= decision.amount <= intent.amount  # REDUCE never increases
    if not decision.approved:
        return
    assert ctx.state is not TradingState.HALTED and not ctx.breaker_open
    assert ctx.quote is not None and ctx.now - ctx.quote.received_at <= LIMITS.max_quote_age_s
    assert 0 < ctx.quote.spread_bps <= LIMITS.max_spread_bps
    assert intent.confidence >= LIMITS.min_confidence
    assert decision.amount >= BTC.min_amount and decision.amount % BTC.amount_step == 0
    if intent.side is Side.SELL or intent.reduce_only:
        if intent.side is Side.SELL:  # balances unknown: the ledger's position is the bound
            held = ctx.free_base if ctx.balances_known else float(ctx.position_amount)
            assert float(decision.amount) <= held
        return
    assert not unknown, "new exposure approved with something unknown"
    assert ctx.equity is not None and ctx.day_start_equity is not None
    assert ctx.peak_equity is not None
    price = float(intent.price) if intent.price is not None else ctx.quote.ask
    notional = float(decision.amount) * price
    slack = 1e-6 * max(1.0, ctx.equity)
    assert ctx.orders_last_minute < LIMITS.max_orders_per_minute
    assert ctx.now >= ctx.cooldown_until
    assert float(ctx.position_amount) * price + notional <= ctx.equity * 0.20 + slack
    assert ctx.exposure + notional <= ctx.equity * 0.60 + slack
    assert ctx.cluster_exposure + notional <= ctx.equity * 0.40 + slack
    assert ctx.free_quote - notional >= LIMITS.min_balance
    if ctx.day_start_equity > 0:
        assert ctx.equity > ctx.day_start_equity * 0.95
    if ctx.peak_equity > 0:
        assert ctx.equity > ctx.peak_equity * 0.90


@given(intent=intents(), ctx=contexts())
def test_halted_approves_nothing(intent: OrderIntent, ctx: RiskContext) -> None:
    assert not guard.evaluate(intent, replace(ctx, state=TradingState.HALTED)).approved


@given(
    amount=st.decimals(min_value="0.00001", max_value="1000", places=8),
    free_quote=st.floats(min_value=0, max_value=1e7),
    equity=st.floats(min_value=1, max_value=1e7),
)
def test_the_guard_never_allows_more_than_asked(
    amount: Decimal, free_quote: float, equity: float
) -> None:
    decision = guard.evaluate(buy(str(amount)), context(free_quote=free_quote, equity=equity))
    assert 0 <= decision.amount <= amount
    if decision.approved:
        spent = float(decision.amount) * QUOTE.ask
        assert spent <= equity * 0.2 + 1e-6
        assert free_quote - spent >= 10.0
