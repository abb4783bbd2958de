"""Provides the risk gates: pure functions of (intent, amount, context, limits), in fixed order."""
# Over 400 lines: the gates run in a fixed order, and this file reads in that order, one gate each.

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal

from tradetui.config import RiskSettings
from tradetui.core.model import GateResult, OrderIntent, OrderType, Side, TradingState
from tradetui.core.risk.context import RiskContext

GateOutcome = tuple[GateResult, Decimal]
"""A gate's verdict and the largest amount it allows (never more than it was given)."""
Gate = Callable[[OrderIntent, Decimal, RiskContext, RiskSettings], GateOutcome]

ZERO = Decimal(0)

# Enum member lookups cost ~0.1 us each on Python 3.11; the gates run on every intent.
BUY, LIMIT = Side.BUY, OrderType.LIMIT
HALTED, PAUSED = TradingState.HALTED, TradingState.PAUSED


_FLOOR_GATES = frozenset({"min_balance", "signal_confidence"})
"""Gates whose limit is a minimum rather than a maximum."""


def _ok(
    gate: str, amount: Decimal, value: float | None = None, limit: float | None = None
) -> GateOutcome:
    return GateResult(gate, True, "OK", value, limit, floor=gate in _FLOOR_GATES), amount


_STATUS_CODES = {
    "cancel_only": "CANCEL_ONLY",
    "delisted": "DELISTED",
    "removed": "DELISTED",  # the listing monitor's word for a market the venue no longer lists
    "post_only": "POST_ONLY",
}

_PASSED = {
    name: GateResult(name, True, "OK")
    for name in ("trading_state", "circuit_breaker", "market_status", "order_sanity")
}
"""Shared results of gates that pass without a number to report (never mutated)."""


def _reject(
    gate: str, code: str, detail: str, value: float | None = None, limit: float | None = None
) -> GateOutcome:
    return GateResult(gate, False, code, value, limit, detail, gate in _FLOOR_GATES), ZERO


_BALANCES_UNKNOWN = "the venue's balances have not been read yet"


def _equity_unknown(gate: str, ctx: RiskContext, limit: float | None) -> GateOutcome:
    """The rejection of new exposure while equity is unknown, naming why it is."""
    if not ctx.balances_known:
        return _reject(gate, "BALANCES_UNKNOWN", _BALANCES_UNKNOWN, None, limit)
    return _reject(
        gate, "EQUITY_UNKNOWN", "an asset held has no price: equity unknown", None, limit
    )


def _increases_exposure(intent: OrderIntent) -> bool:
    # On spot, only buys add exposure; sells can only reduce what is held.
    return intent.side is BUY and not intent.reduce_only


def _reference_price(intent: OrderIntent, ctx: RiskContext) -> float:
    if intent.order_type is LIMIT and intent.price is not None:
        return float(intent.price)
    # data_quality runs first and rejects a missing quote; a gate that raises is a REJECT
    # (the guard's fail-safe), so this holds even under python -O.
    assert ctx.quote is not None  # nosec B101
    return ctx.quote.ask if intent.side is BUY else ctx.quote.bid


def _round_down(amount: Decimal, step: Decimal) -> Decimal:
    return amount - amount % step  # amounts here are positive: % truncates toward zero


def _cap(amount: Decimal, limit: float, step: Decimal) -> Decimal:
    """``amount``, or ``limit`` rounded down to ``step`` when that is smaller.

    Compares in floats first so the common case (no cap) costs no Decimal arithmetic.
    """
    if float(amount) <= limit:
        return amount
    return _round_down(Decimal(repr(max(0.0, limit))), step)


def trading_state(
    intent: OrderIntent, amount: Decimal, ctx: RiskContext, lim: RiskSettings
) -> GateOutcome:
    """HALTED blocks everything; PAUSED blocks new exposure."""
    if ctx.state is HALTED and not (intent.flatten and intent.side is not BUY):
        return _reject("trading_state", "HALTED", "kill switch engaged: nothing new is sent")
    if ctx.state is PAUSED and _increases_exposure(intent):
        return _reject("trading_state", "PAUSED", "paused: only reducing orders pass")
    return _PASSED["trading_state"], amount


def circuit_breaker(
    intent: OrderIntent, amount: Decimal, ctx: RiskContext, lim: RiskSettings
) -> GateOutcome:
    """An open order-path breaker blocks new orders."""
    if ctx.breaker_open:
        return _reject("circuit_breaker", "BREAKER_OPEN", "order path circuit breaker is open")
    return _PASSED["circuit_breaker"], amount


def market_status(
    intent: OrderIntent, amount: Decimal, ctx: RiskContext, lim: RiskSettings
) -> GateOutcome:
    """Unknown, inactive and delisted markets are not traded; a reduce-only market takes sells.

    ``reduce_only`` is how a venue announces a delisting: holders may still sell out. In
    ``cancel_only`` the venue refuses every new order, so nothing is sent there at all (a refused
    order would only count against the order path's circuit breaker).
    """
    if ctx.market is None:
        return _reject("market_status", "MARKET_UNKNOWN", f"{intent.symbol} is not a known market")
    status = ctx.market.status
    if status == "reduce_only":
        if intent.side is BUY:
            return _reject(
                "market_status", "REDUCE_ONLY", f"{intent.symbol} is reduce_only: sells only"
            )
        return _PASSED["market_status"], amount
    if status in _STATUS_CODES:
        return _reject("market_status", _STATUS_CODES[status], f"{intent.symbol} is {status}")
    if not ctx.market.active:
        return _reject("market_status", "MARKET_INACTIVE", f"{intent.symbol} is not trading")
    return _PASSED["market_status"], amount


def data_quality(
    intent: OrderIntent, amount: Decimal, ctx: RiskContext, lim: RiskSettings
) -> GateOutcome:
    """A missing, stale, crossed, wide or non-finite quote never leads to a trade; nor does a
    fresh one while nothing keeps it current (its stream is down and REST fails): new exposure
    waits for market data to come back whatever the quote's age."""
    if ctx.market_data_down and _increases_exposure(intent):
        return _reject(
            "data_quality",
            "MARKET_DATA_DOWN",
            f"{intent.symbol} market data is down: its stream and REST both fail",
        )
    quote = ctx.quote
    if quote is None:
        return _reject("data_quality", "NO_QUOTE", f"no quote for {intent.symbol} yet")
    bid, ask = quote.bid, quote.ask
    if not (math.isfinite(bid) and math.isfinite(ask) and bid > 0 and ask > 0):
        return _reject("data_quality", "BAD_QUOTE", "quote has a non-finite or non-positive price")
    age = ctx.now - quote.received_at
    if age > lim.max_quote_age_s:
        return _reject(
            "data_quality", "QUOTE_STALE", f"quote is {age:.1f}s old", age, lim.max_quote_age_s
        )
    if quote.bid >= quote.ask:
        return _reject("data_quality", "BOOK_CROSSED", "bid is at or above ask")
    if not (quote.bid_volume > 0 and quote.ask_volume > 0):
        return _reject("data_quality", "NO_VOLUME", "the quote shows no size at the touch")
    spread = quote.spread_bps
    if spread > lim.max_spread_bps:
        return _reject(
            "data_quality", "SPREAD_WIDE", f"spread {spread:.1f} bps", spread, lim.max_spread_bps
        )
    return _ok("data_quality", amount, age, lim.max_quote_age_s)


def order_sanity(
    intent: OrderIntent, amount: Decimal, ctx: RiskContext, lim: RiskSettings
) -> GateOutcome:
    """Finite positive amounts and prices, on the venue's grid, within a band around mid."""
    # A gate that raises is a REJECT (the guard's fail-safe).
    assert ctx.market is not None and ctx.quote is not None  # nosec B101
    if not amount.is_finite() or amount <= 0:
        return _reject("order_sanity", "BAD_AMOUNT", f"amount {amount} is not a positive number")
    if intent.order_type is LIMIT:
        if intent.price is None or not intent.price.is_finite() or intent.price <= 0:
            return _reject("order_sanity", "BAD_PRICE", "limit order without a positive price")
        distance_pct = abs(float(intent.price) / ctx.quote.mid - 1) * 100
        if distance_pct > lim.fat_finger_pct:
            return _reject(
                "order_sanity",
                "FAT_FINGER",
                f"price {distance_pct:.1f}% from mid",
                distance_pct,
                lim.fat_finger_pct,
            )
    amount = _round_down(amount, ctx.market.amount_step)
    if amount < ctx.market.min_amount:
        return _reject(
            "order_sanity",
            "BELOW_MIN_AMOUNT",
            f"amount below venue minimum {ctx.market.min_amount}",
            float(amount),
            float(ctx.market.min_amount),
        )
    cost = float(amount) * _reference_price(intent, ctx)
    if cost < float(ctx.market.min_cost):
        return _reject(
            "order_sanity",
            "BELOW_MIN_COST",
            f"cost below venue minimum {ctx.market.min_cost}",
            cost,
            float(ctx.market.min_cost),
        )
    return _PASSED["order_sanity"], amount


def order_rate(
    intent: OrderIntent, amount: Decimal, ctx: RiskContext, lim: RiskSettings
) -> GateOutcome:
    """The engine's own budget of orders per minute; reducing orders are exempt."""
    sent, limit = ctx.orders_last_minute, lim.max_orders_per_minute
    if sent >= limit and _increases_exposure(intent):
        return _reject("order_rate", "ORDER_RATE", f"{sent} orders in the last minute", sent, limit)
    return _ok("order_rate", amount, sent, limit)


def cooldown(
    intent: OrderIntent, amount: Decimal, ctx: RiskContext, lim: RiskSettings
) -> GateOutcome:
    """After a run of losing trades, no new exposure until the cooldown ends."""
    left = ctx.cooldown_until - ctx.now
    if left > 0 and _increases_exposure(intent):
        return _reject("cooldown", "COOLDOWN", f"cooling down for {left:.0f}s more", left, 0.0)
    return _ok("cooldown", amount, max(0.0, left), 0.0)


def daily_loss(
    intent: OrderIntent, amount: Decimal, ctx: RiskContext, lim: RiskSettings
) -> GateOutcome:
    """No new exposure once today's loss (realized and unrealized) reaches the limit, nor while
    today's starting equity is unknown."""
    return _below_reference(
        "daily_loss",
        "DAILY_LOSS",
        "DAY_START_UNKNOWN",
        "below the day's start",
        ctx.day_start_equity,
        lim.max_daily_loss_pct,
        intent,
        amount,
        ctx,
    )


def drawdown(
    intent: OrderIntent, amount: Decimal, ctx: RiskContext, lim: RiskSettings
) -> GateOutcome:
    """No new exposure once equity is too far below its peak, nor while the peak is unknown."""
    return _below_reference(
        "drawdown",
        "DRAWDOWN",
        "PEAK_UNKNOWN",
        "below peak",
        ctx.peak_equity,
        lim.max_drawdown_pct,
        intent,
        amount,
        ctx,
    )


def _below_reference(
    gate: str,
    code: str,
    unknown_code: str,
    what: str,
    reference: float | None,
    limit_pct: float,
    intent: OrderIntent,
    amount: Decimal,
    ctx: RiskContext,
) -> GateOutcome:
    """Reject new exposure once equity is ``limit_pct`` or more below ``reference``, or while
    either is unknown (None). A reference of 0 or less has nothing to fall from."""
    equity = ctx.equity
    if equity is None or reference is None:
        if not _increases_exposure(intent):
            return _ok(gate, amount, None, limit_pct)
        if equity is None:
            return _equity_unknown(gate, ctx, limit_pct)
        return _reject(gate, unknown_code, f"equity {what} is not known yet", None, limit_pct)
    fallen_pct = (reference - equity) / reference * 100 if reference > 0 else 0.0
    if fallen_pct >= limit_pct and _increases_exposure(intent):
        return _reject(gate, code, f"{fallen_pct:.2f}% {what}", fallen_pct, limit_pct)
    return _ok(gate, amount, fallen_pct, limit_pct)


def position_count(
    intent: OrderIntent, amount: Decimal, ctx: RiskContext, lim: RiskSettings
) -> GateOutcome:
    """A buy may not open a position beyond the maximum number of positions."""
    held = len(ctx.open_position_symbols)
    opens_new = _increases_exposure(intent) and intent.symbol not in ctx.open_position_symbols
    if opens_new and held >= lim.max_open_positions:
        return _reject(
            "position_count",
            "TOO_MANY_POSITIONS",
            f"{held} positions open",
            held,
            lim.max_open_positions,
        )
    return _ok("position_count", amount, held, lim.max_open_positions)


def position_size(
    intent: OrderIntent, amount: Decimal, ctx: RiskContext, lim: RiskSettings
) -> GateOutcome:
    """A position may not exceed its share of equity (reduces buys); sells never exceed holdings."""
    # A gate that raises is a REJECT (the guard's fail-safe).
    assert ctx.market is not None  # nosec B101
    price = _reference_price(intent, ctx)
    if intent.side is not BUY:
        # Balances not read yet: the ledger's own position is what a sell may close (a venue
        # refuses a sell of more than is there), so reducing orders still go out.
        held = ctx.free_base if ctx.balances_known else float(ctx.position_amount)
        allowed = _cap(amount, held, ctx.market.amount_step)
        if allowed < ctx.market.min_amount:
            return _reject("position_size", "NOTHING_TO_SELL", f"no {ctx.market.base} to sell")
        return _ok("position_size", allowed)
    equity = ctx.equity
    if equity is None:
        return _equity_unknown("position_size", ctx, lim.max_position_pct)
    if equity <= 0:
        return _reject("position_size", "NO_EQUITY", "equity is not positive", equity, 0.0)
    limit_value = equity * lim.max_position_pct / 100
    held_value = float(ctx.position_amount) * price
    after_pct = (held_value + float(amount) * price) / equity * 100
    allowed = _cap(amount, (limit_value - held_value) / price, ctx.market.amount_step)
    if allowed < ctx.market.min_amount:
        return _reject(
            "position_size",
            "POSITION_TOO_LARGE",
            f"position would be {after_pct:.1f}% of equity",
            after_pct,
            lim.max_position_pct,
        )
    return _ok("position_size", allowed, after_pct, lim.max_position_pct)


def total_exposure(
    intent: OrderIntent, amount: Decimal, ctx: RiskContext, lim: RiskSettings
) -> GateOutcome:
    """All positions together stay within their share of equity (reduces buys)."""
    return _exposure_cap(
        "total_exposure",
        "EXPOSURE_TOO_HIGH",
        ctx.exposure,
        lim.max_total_exposure_pct,
        intent,
        amount,
        ctx,
    )


def correlation_cluster(
    intent: OrderIntent, amount: Decimal, ctx: RiskContext, lim: RiskSettings
) -> GateOutcome:
    """Positions in symbols that move together stay within their share of equity (reduces buys);
    while the intent's cluster is not known yet, no new exposure."""
    if not ctx.correlation_known and _increases_exposure(intent):
        return _reject(
            "correlation_cluster",
            "CORRELATION_UNKNOWN",
            f"too few samples yet to tell which positions move with {intent.symbol}",
            None,
            lim.max_cluster_exposure_pct,
        )
    return _exposure_cap(
        "correlation_cluster",
        "CLUSTER_TOO_HIGH",
        ctx.cluster_exposure,
        lim.max_cluster_exposure_pct,
        intent,
        amount,
        ctx,
    )


def _exposure_cap(
    gate: str,
    code: str,
    held: float,
    limit_pct: float,
    intent: OrderIntent,
    amount: Decimal,
    ctx: RiskContext,
) -> GateOutcome:
    # A gate that raises is a REJECT (the guard's fail-safe).
    assert ctx.market is not None  # nosec B101
    equity = ctx.equity
    if not _increases_exposure(intent):
        share_pct = held / equity * 100 if equity is not None and equity > 0 else None
        return _ok(gate, amount, share_pct, limit_pct)
    if equity is None:
        return _equity_unknown(gate, ctx, limit_pct)
    if equity <= 0:
        return _reject(gate, "NO_EQUITY", "equity is not positive", equity, 0.0)
    price = _reference_price(intent, ctx)
    after_pct = (held + float(amount) * price) / equity * 100
    allowed = _cap(amount, (equity * limit_pct / 100 - held) / price, ctx.market.amount_step)
    if allowed < ctx.market.min_amount:
        return _reject(
            gate, code, f"exposure would be {after_pct:.1f}% of equity", after_pct, limit_pct
        )
    return _ok(gate, allowed, after_pct, limit_pct)


def min_balance(
    intent: OrderIntent, amount: Decimal, ctx: RiskContext, lim: RiskSettings
) -> GateOutcome:
    """A buy must leave at least the minimum free quote balance (reduces buys); no buy while the
    balances are not known."""
    if intent.side is not BUY:
        free = ctx.free_quote if ctx.balances_known else None
        return _ok("min_balance", amount, free, lim.min_balance)
    if not ctx.balances_known:
        return _reject("min_balance", "BALANCES_UNKNOWN", _BALANCES_UNKNOWN, None, lim.min_balance)
    # A gate that raises is a REJECT (the guard's fail-safe).
    assert ctx.market is not None  # nosec B101
    price = _reference_price(intent, ctx)
    spendable = max(0.0, ctx.free_quote - lim.min_balance)
    # Leave room for the taker fee so the venue never rejects for funds.
    allowed = _cap(amount, spendable / (price * 1.01), ctx.market.amount_step)
    if allowed < ctx.market.min_amount:
        return _reject(
            "min_balance",
            "BALANCE_TOO_LOW",
            f"free {ctx.market.quote} {ctx.free_quote:.2f}",
            ctx.free_quote,
            lim.min_balance,
        )
    return _ok("min_balance", allowed, ctx.free_quote, lim.min_balance)


def signal_confidence(
    intent: OrderIntent, amount: Decimal, ctx: RiskContext, lim: RiskSettings
) -> GateOutcome:
    """Intents below the confidence threshold are rejected."""
    if not intent.confidence >= lim.min_confidence:  # also rejects NaN
        return _reject(
            "signal_confidence",
            "LOW_CONFIDENCE",
            f"confidence {intent.confidence:.2f}",
            intent.confidence,
            lim.min_confidence,
        )
    return _ok("signal_confidence", amount, intent.confidence, lim.min_confidence)


GATES: tuple[Gate, ...] = (
    trading_state,
    circuit_breaker,
    market_status,
    data_quality,
    order_sanity,
    order_rate,
    cooldown,
    daily_loss,
    drawdown,
    position_count,
    position_size,
    total_exposure,
    correlation_cluster,
    min_balance,
    signal_confidence,
)
"""The gates in the order they run; the first rejection stops the chain."""
