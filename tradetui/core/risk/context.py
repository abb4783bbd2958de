"""Provides the read-only view of the world that the risk gates judge an intent against."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tradetui.core.model import MarketInfo, Quote, TradingState


@dataclass(frozen=True, slots=True)
class RiskContext:
    """Everything the risk guard may look at; built by the engine from its snapshot."""

    now: float
    state: TradingState
    breaker_open: bool
    market: MarketInfo | None
    quote: Quote | None
    equity: float
    position_amount: Decimal
    """Current position in the intent's symbol (base units)."""
    open_position_symbols: frozenset[str]
    """Symbols in which a position is held."""
    free_quote: float
    """Free balance of the quote currency."""
    free_base: float
    """Free balance of the base currency (what a sell may use)."""
    orders_last_minute: int = 0
    """Orders sent (to either ledger) in the last 60 seconds."""
    day_start_equity: float = 0.0
    """Equity at the start of the UTC day (0 while unknown)."""
    peak_equity: float = 0.0
    """Highest equity seen (0 while unknown)."""
    exposure: float = 0.0
    """Notional of all positions at their marks."""
    cluster_exposure: float = 0.0
    """Notional of positions in symbols correlated with the intent's (its own included)."""
    cooldown_until: float = 0.0
    """New exposure in this symbol is blocked until this time (engine clock)."""
