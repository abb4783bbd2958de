"""Provides the engine's enumerations: trading state, mode, sides, order types and statuses."""

from __future__ import annotations

from enum import StrEnum


class TradingState(StrEnum):
    """What the engine may do: ACTIVE trades, PAUSED adds no exposure, HALTED sends nothing new."""

    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    HALTED = "HALTED"


class Mode(StrEnum):
    """Which ledger orders go to: the paper broker or the venue."""

    PAPER = "PAPER"
    LIVE = "LIVE"


class Side(StrEnum):
    """Order side."""

    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    """Order type."""

    MARKET = "market"
    LIMIT = "limit"


class OrderStatus(StrEnum):
    """Lifecycle of an order as the engine knows it."""

    PENDING_SUBMIT = "PENDING_SUBMIT"
    OPEN = "OPEN"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"

    @property
    def is_terminal(self) -> bool:
        """True once the order can no longer change."""
        return self in _TERMINAL


_TERMINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED})


class Verdict(StrEnum):
    """Outcome of a risk evaluation."""

    APPROVE = "APPROVE"
    REDUCE = "REDUCE"
    REJECT = "REJECT"


NOT_EVALUATED = "NOT_EVALUATED"
"""Reason code of a gate that has not judged any intent yet."""


class BreakerState(StrEnum):
    """Circuit-breaker state."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"
