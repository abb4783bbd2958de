"""Provides market types: market rules, quotes, books, public trades, balances and the market registry."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class MarketInfo:
    """Static trading rules of one market, as the venue lists them (read by core/venue/parse.py)."""

    symbol: str
    base: str
    quote: str
    amount_step: Decimal
    price_step: Decimal
    min_amount: Decimal
    min_cost: Decimal
    active: bool = True
    status: str = "online"
    """The venue's word for the market: online, cancel_only, post_only, delisted ..."""


@dataclass(frozen=True, slots=True)
class Quote:
    """Top of book for one symbol, copied out of ccxt's live objects."""

    symbol: str
    bid: float
    ask: float
    last: float
    bid_volume: float
    ask_volume: float
    received_at: float
    """Engine clock time (seconds) when the engine received this quote."""
    source: str = "ws"
    """``ws`` from the stream, ``rest`` from the polling fallback."""

    @property
    def mid(self) -> float:
        """Mid price."""
        return (self.bid + self.ask) / 2

    @property
    def spread_bps(self) -> float:
        """Spread in basis points of mid; infinite when the mid is not positive."""
        mid = self.mid
        return (self.ask - self.bid) / mid * 10_000 if mid > 0 else float("inf")


@dataclass(frozen=True, slots=True)
class OrderBook:
    """A copy of the top levels of one symbol's book: (price, amount) pairs, best first."""

    symbol: str
    bids: tuple[tuple[float, float], ...]
    asks: tuple[tuple[float, float], ...]
    received_at: float


@dataclass(frozen=True, slots=True)
class PublicTrade:
    """One trade printed by the venue's market (anyone's), copied out of ccxt."""

    symbol: str
    price: float
    amount: float


@dataclass(frozen=True, slots=True)
class Balance:
    """One currency's balance."""

    currency: str
    free: Decimal
    used: Decimal
    total: Decimal


@dataclass(frozen=True, slots=True)
class MarketRecord:
    """One row of the market registry: a symbol the venue listed, and its last known status."""

    symbol: str
    status: str
    """``active``, the venue's word for a restricted market (``reduce_only``, ``cancel_only``,
    ``delisted`` ...), or ``removed`` once the venue no longer lists it."""
    first_seen: float
    last_seen: float
    """When a reload last found it listed (engine clock)."""
    changed_at: float
    """When its status last changed."""


@dataclass(frozen=True, slots=True)
class ListingEvent:
    """A change in the venue's market list, found by the listing monitor."""

    kind: str
    """``listed``, ``status_changed`` or ``delisted`` (removed, or status ``delisted``)."""
    symbol: str
    status: str
    """The new status (see MarketRecord.status)."""
    previous: str | None
    """The status before (None for a new listing)."""
    at: float
    """When the monitor noticed it (engine clock)."""
