"""Provides the read-only view of the world that the risk gates judge an intent against."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tradetui.core.model import MarketInfo, Quote, TradingState


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskContext:
    """Everything the risk guard may look at; built by the engine from its snapshot.

    What cannot be known is said so (None, or a flag), never encoded as 0: a gate whose input is
    unknown rejects orders that add exposure. Those inputs have no defaults, so whoever builds a
    context states them.
    """

    now: float
    state: TradingState
    breaker_open: bool
    market: MarketInfo | None
    quote: Quote | None
    market_data_down: bool
    """Nothing keeps the symbol's quote current: its stream is down and REST calls fail."""
    equity: float | None
    """Equity in the quote currency; None while the balances are not known or an asset held
    cannot be priced (``core/portfolio.py`` ``equity``)."""
    balances_known: bool
    """The ledger's balances are known (live: read from the venue at least once)."""
    position_amount: Decimal
    """Current position in the intent's symbol (base units)."""
    open_position_symbols: frozenset[str]
    """Symbols in which a position is held."""
    free_quote: float
    """Free balance of the quote currency."""
    free_base: float
    """Free balance of the base currency (what a sell may use)."""
    day_start_equity: float | None
    """Equity at the start of the UTC day (None until a priced reading today)."""
    peak_equity: float | None
    """Highest equity seen (None until the first priced reading)."""
    correlation_known: bool
    """Whether the intent's symbol is correlated with each held symbol is known (enough aligned
    samples for every such pair), so ``cluster_exposure`` is complete."""
    orders_last_minute: int = 0
    """Orders sent (to either ledger) in the last 60 seconds."""
    exposure: float = 0.0
    """Notional of all positions at their marks."""
    cluster_exposure: float = 0.0
    """Notional of positions in symbols correlated with the intent's (its own included)."""
    cooldown_until: float = 0.0
    """New exposure in this symbol is blocked until this time (engine clock)."""
