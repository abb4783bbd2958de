"""Provides the portfolio: positions and realized/unrealized PnL from fills, equity from balances."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from tradetui.core.model import Balance, Fill, Position, Quote, Side

ZERO = Decimal(0)


@dataclass(slots=True)
class Lot:
    """An average-cost holding of one symbol (the portfolio's, or one strategy's)."""

    amount: Decimal = ZERO
    average_entry: Decimal = ZERO
    realized_pnl: Decimal = ZERO

    def apply(self, fill: Fill) -> None:
        """Add a buy at its price, or close part of the holding at the fill price."""
        # Entry prices are what was paid per unit; every fee, buy or sell, is realized at once.
        self.realized_pnl -= fill.fee
        if fill.side is Side.BUY:
            cost = self.amount * self.average_entry + fill.amount * fill.price
            self.amount += fill.amount
            self.average_entry = cost / self.amount if self.amount > 0 else ZERO
        else:
            closed = min(fill.amount, self.amount)
            self.realized_pnl += closed * (fill.price - self.average_entry)
            self.amount -= closed
            if self.amount <= 0:
                self.amount = ZERO
                self.average_entry = ZERO


class Portfolio:
    """Positions of one ledger, built from its fills with average-cost accounting."""

    def __init__(self) -> None:
        self._lots: dict[str, Lot] = {}
        self._seen_fill_ids: set[str] = set()

    @property
    def fills_count(self) -> int:
        """Number of distinct fills applied."""
        return len(self._seen_fill_ids)

    def apply(self, fill: Fill) -> bool:
        """Apply a fill once; returns False (and changes nothing) for a fill already applied."""
        if fill.fill_id in self._seen_fill_ids:
            return False
        self._seen_fill_ids.add(fill.fill_id)
        self._lots.setdefault(fill.symbol, Lot()).apply(fill)
        return True

    def positions(self, quotes: dict[str, Quote]) -> dict[str, Position]:
        """Current positions (open ones, and closed ones that realized PnL), marked to mid."""
        result: dict[str, Position] = {}
        for symbol, lot in self._lots.items():
            quote = quotes.get(symbol)
            mark = quote.mid if quote is not None else None
            unrealized = (
                float(lot.amount) * (mark - float(lot.average_entry))
                if mark is not None and lot.amount > 0
                else 0.0
            )
            result[symbol] = Position(
                symbol, lot.amount, lot.average_entry, lot.realized_pnl, mark, unrealized
            )
        return result

    def open_symbols(self, min_amounts: dict[str, Decimal]) -> frozenset[str]:
        """Symbols holding at least the venue's minimum tradable amount."""
        return frozenset(
            s
            for s, lot in self._lots.items()
            if lot.amount > 0 and lot.amount >= min_amounts.get(s, ZERO)
        )

    def realized(self, symbol: str) -> Decimal:
        """Realized PnL in ``symbol`` so far (fees included)."""
        lot = self._lots.get(symbol)
        return lot.realized_pnl if lot is not None else ZERO

    def amount(self, symbol: str) -> Decimal:
        """Position amount in ``symbol``."""
        lot = self._lots.get(symbol)
        return lot.amount if lot is not None else ZERO


def equity(
    balances: Mapping[str, Balance],
    quotes: Mapping[str, Quote],
    quote_currency: str,
    followed: Collection[str],
    position_symbols: Iterable[str] = (),
) -> float | None:
    """Total account value in ``quote_currency``, or None while it cannot be known.

    The one rule of "priced": every asset held, by a non-zero balance or an open position, whose
    ``BASE/QUOTE`` market the engine follows (``followed``) needs a quote with a positive, finite
    mid; one without makes the equity unknown rather than smaller. A followed symbol nothing is
    held in (a delisted one, say) needs no quote. Assets of markets the engine does not follow
    are outside its equity: it never prices, trades nor counts them.
    """
    total = 0.0
    for currency, balance in balances.items():
        if currency == quote_currency:
            total += float(balance.total)
            continue
        symbol = f"{currency}/{quote_currency}"
        if balance.total and symbol in followed:
            mid = _mid(quotes.get(symbol))
            if mid is None:
                return None
            total += float(balance.total) * mid
    for symbol in position_symbols:
        if symbol in followed and _mid(quotes.get(symbol)) is None:
            return None
    return total


def _mid(quote: Quote | None) -> float | None:
    if quote is None:
        return None
    mid = quote.mid
    return mid if math.isfinite(mid) and mid > 0 else None
