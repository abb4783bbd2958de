"""Provides the market-intelligence call on one symbol and the classes behind it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class VolumeClass(StrEnum):
    """Recent traded volume against the symbol's own rolling history."""

    HIGH = "high"
    MODERATE = "moderate"
    LOW = "low"


class SpreadClass(StrEnum):
    """The quoted spread against fixed thresholds in basis points."""

    TIGHT = "tight"
    ACCEPTABLE = "acceptable"
    WIDE = "wide"


class SignalKind(StrEnum):
    """The combined call on one symbol."""

    STRONG_BUY = "strong buy"
    BUY = "buy"
    NEUTRAL = "neutral"
    SELL = "sell"
    STRONG_SELL = "strong sell"

    @property
    def is_buy(self) -> bool:
        """True for BUY and STRONG_BUY."""
        return self in (SignalKind.BUY, SignalKind.STRONG_BUY)

    @property
    def is_sell(self) -> bool:
        """True for SELL and STRONG_SELL."""
        return self in (SignalKind.SELL, SignalKind.STRONG_SELL)


@dataclass(slots=True)
class Signal:
    """The combined market-intelligence call on one symbol, with every component behind it.

    Never mutated, but not frozen: twenty are built per second, and a frozen dataclass pays
    object.__setattr__ per field (several times slower to construct).
    """

    symbol: str
    kind: SignalKind
    confidence: float
    """How sure the call is, in [0, 1]."""
    score: float
    """Combined direction in [-1, 1]: positive leans buy."""
    volume: VolumeClass
    volume_ratio: float
    """Window volume over the historical mean (1.0 while the history is short)."""
    spread: SpreadClass
    spread_bps: float
    imbalance: float
    """(bid depth - ask depth) / total over the top levels, in [-1, 1]."""
    flow: float
    """(buy volume - sell volume) / total over the volume window, in [-1, 1]."""
    liquidity: float
    """Depth near the mid and spread, in [0, 1]."""
    new_listing: bool
