"""Provides the engine's domain types (re-exported here from the modules of this package)."""

from __future__ import annotations

from tradetui.core.model.enums import (
    NOT_EVALUATED,
    BreakerState,
    Mode,
    OrderStatus,
    OrderType,
    Side,
    TradingState,
    Verdict,
)
from tradetui.core.model.market import (
    Balance,
    ListingEvent,
    MarketInfo,
    MarketRecord,
    OrderBook,
    PublicTrade,
    Quote,
)
from tradetui.core.model.orders import (
    CancelReport,
    Decision,
    Fill,
    GateResult,
    Order,
    OrderIntent,
)
from tradetui.core.model.reports import (
    OrderReport,
    TradeReport,
)
from tradetui.core.model.signal import (
    Signal,
    SignalKind,
    SpreadClass,
    VolumeClass,
)
from tradetui.core.model.snapshot import (
    BreakerSnapshot,
    CopyDrift,
    EngineSnapshot,
    Position,
)

__all__ = [
    "Balance",
    "BreakerSnapshot",
    "BreakerState",
    "CancelReport",
    "CopyDrift",
    "Decision",
    "EngineSnapshot",
    "Fill",
    "GateResult",
    "ListingEvent",
    "MarketInfo",
    "MarketRecord",
    "Mode",
    "NOT_EVALUATED",
    "Order",
    "OrderBook",
    "OrderIntent",
    "OrderReport",
    "OrderStatus",
    "OrderType",
    "Position",
    "PublicTrade",
    "Quote",
    "Side",
    "Signal",
    "TradeReport",
    "SignalKind",
    "SpreadClass",
    "TradingState",
    "Verdict",
    "VolumeClass",
]
