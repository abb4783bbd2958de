"""Provides the end-of-session summary: trades, win rate, PnL, fees, drawdown, rejections."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from tradetui.core.model import EngineSnapshot, Mode

log = logging.getLogger("tradetui.summary")

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """What one session did, from the store's fills and audit rows and the final marks."""

    mode: Mode
    duration_s: float
    quote_currency: str
    fills: int
    orders: int
    round_trips: int
    """Positions opened and closed back to flat (within the session)."""
    winning_trips: int
    realized_pnl: float
    """Realized in the session, fees included."""
    unrealized_pnl: float
    """Open positions at the final marks."""
    fees: float
    max_drawdown: float
    """Largest fall of session PnL (realized + unrealized, at fill prices) from its peak."""
    rejections: dict[str, int] = field(default_factory=dict)
    """Risk-guard rejections by ``gate:CODE``, and refusals before it by ``strategy:CODE``."""

    @property
    def pnl(self) -> float:
        """Realized plus unrealized PnL."""
        return self.realized_pnl + self.unrealized_pnl

    @property
    def win_rate(self) -> float | None:
        """Winning share of the closed round trips; None before any closed."""
        return self.winning_trips / self.round_trips if self.round_trips else None


@dataclass(slots=True)
class _Lot:
    amount: Decimal = ZERO
    average_entry: Decimal = ZERO
    trip_pnl: Decimal = ZERO
    trip_in_session: bool = False


def summarize(
    database: Path,
    mode: Mode,
    since: float,
    until: float,
    marks: Mapping[str, float],
    quote_currency: str = "USD",
    refusals: Mapping[str, int] | None = None,
) -> SessionSummary:
    """Summarise the session that started at ``since`` (engine clock) in one ledger.

    Positions held before ``since`` are replayed so their closes count, but only fills from
    ``since`` on count as the session's trades, fees and realized PnL.
    """
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        fills = db.execute(
            "SELECT symbol, side, amount, price, fee, ts FROM fills WHERE mode = ? ORDER BY ts",
            (mode.value,),
        ).fetchall()
        orders = db.execute(
            "SELECT COUNT(*) FROM audit WHERE mode = ? AND ts >= ? AND client_id IS NOT NULL",
            (mode.value, since),
        ).fetchone()[0]
        rejected = db.execute(
            "SELECT gate, code, COUNT(*) FROM audit WHERE mode = ? AND ts >= ?"
            " AND verdict = 'REJECT' GROUP BY gate, code ORDER BY COUNT(*) DESC",
            (mode.value, since),
        ).fetchall()
    lots: dict[str, _Lot] = {}
    last_price: dict[str, Decimal] = {}
    fill_count = trips = wins = 0
    realized = fees = ZERO
    peak = drawdown = 0.0
    for symbol, side, amount_text, price_text, fee_text, ts in fills:
        amount, price, fee = Decimal(amount_text), Decimal(price_text), Decimal(fee_text)
        in_session = ts >= since
        lot = lots.setdefault(symbol, _Lot())
        last_price[symbol] = price
        lot.trip_pnl -= fee
        if side == "buy":
            if lot.amount == 0:
                lot.trip_pnl, lot.trip_in_session = -fee, in_session
            cost = lot.amount * lot.average_entry + amount * price
            lot.amount += amount
            lot.average_entry = cost / lot.amount if lot.amount > 0 else ZERO
            pnl = -fee
        else:
            closed = min(amount, lot.amount)
            pnl = closed * (price - lot.average_entry) - fee
            lot.trip_pnl += closed * (price - lot.average_entry)
            lot.amount -= closed
            if lot.amount <= 0 and closed > 0:
                if in_session:
                    trips += 1
                    wins += lot.trip_pnl > 0
                lot.amount, lot.average_entry, lot.trip_pnl = ZERO, ZERO, ZERO
        if not in_session:
            continue
        fill_count += 1
        fees += fee
        realized += pnl
        session_pnl = float(realized) + _unrealized(lots, last_price)
        peak = max(peak, session_pnl)
        drawdown = max(drawdown, peak - session_pnl)
    final_marks = {s: Decimal(repr(m)) for s, m in marks.items() if m == m}
    unrealized = _unrealized(lots, {**last_price, **final_marks})
    drawdown = max(drawdown, peak - (float(realized) + unrealized))
    reasons = {f"{gate}:{code}": count for gate, code, count in rejected}
    for code, count in sorted((refusals or {}).items()):
        reasons[f"strategy:{code}"] = count
    return SessionSummary(
        mode=mode,
        duration_s=max(0.0, until - since),
        quote_currency=quote_currency,
        fills=fill_count,
        orders=int(orders),
        round_trips=trips,
        winning_trips=wins,
        realized_pnl=float(realized),
        unrealized_pnl=unrealized,
        fees=float(fees),
        max_drawdown=drawdown,
        rejections=reasons,
    )


def report_session(
    database: Path, final: EngineSnapshot, since: float, refusals: Mapping[str, int]
) -> list[str]:
    """Summarise a finished session (``final``: its last snapshot), log it, return the table."""
    summary = summarize(
        database,
        final.mode,
        since,
        final.taken_at,
        {symbol: quote.mid for symbol, quote in final.quotes.items()},
        final.quote_currency,
        refusals,
    )
    log_summary(summary)
    return format_summary(summary)


def format_summary(summary: SessionSummary) -> list[str]:
    """The summary as a small plain-text table."""
    ccy = summary.quote_currency
    win_rate = summary.win_rate
    rate = "n/a" if win_rate is None else f"{win_rate * 100:.1f} %"
    rows = [
        ("trades", f"{summary.fills} fills, {summary.orders} orders"),
        ("round trips", f"{summary.round_trips} closed, {summary.winning_trips} won"),
        ("win rate", rate),
        (
            "PnL",
            f"{summary.pnl:+,.2f} {ccy} (realized {summary.realized_pnl:+,.2f}, "
            f"unrealized {summary.unrealized_pnl:+,.2f})",
        ),
        ("fees", f"{summary.fees:,.2f} {ccy}"),
        ("max drawdown", f"{summary.max_drawdown:,.2f} {ccy}"),
        ("rejections", str(sum(summary.rejections.values()))),
    ]
    rows += [(f"  {reason}", str(count)) for reason, count in summary.rejections.items()]
    width = max(len(label) for label, _ in rows)
    title = f"session summary: {summary.mode.value}, {summary.duration_s:.0f} s"
    return [title, *(f"  {label:<{width}}  {value}" for label, value in rows)]


def log_summary(summary: SessionSummary) -> None:
    """Write the summary to the log as one record with its figures."""
    log.info(
        "session summary: %d fills, %d round trips (%d won), PnL %+.2f %s, fees %.2f, "
        "max drawdown %.2f, %d rejections",
        summary.fills,
        summary.round_trips,
        summary.winning_trips,
        summary.pnl,
        summary.quote_currency,
        summary.fees,
        summary.max_drawdown,
        sum(summary.rejections.values()),
        extra={
            "event": "summary",
            "fills": summary.fills,
            "round_trips": summary.round_trips,
            "win_rate": summary.win_rate,
            "pnl": summary.pnl,
            "fees": summary.fees,
            "max_drawdown": summary.max_drawdown,
            "rejections": summary.rejections,
        },
    )


def _unrealized(lots: Mapping[str, _Lot], prices: Mapping[str, Decimal]) -> float:
    total = ZERO
    for symbol, lot in lots.items():
        price = prices.get(symbol)
        if lot.amount > 0 and price is not None:
            total += lot.amount * (price - lot.average_entry)
    return float(total)
