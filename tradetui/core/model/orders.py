"""Provides order types: intents, the risk guard's decisions, orders, fills and cancel reports."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tradetui.core.model.enums import Mode, OrderStatus, OrderType, Side, Verdict


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """What a strategy (or an operator) wants to trade; nothing reaches a broker without a Decision."""

    symbol: str
    side: Side
    amount: Decimal
    order_type: OrderType = OrderType.MARKET
    price: Decimal | None = None
    strategy: str = "manual"
    confidence: float = 1.0
    reduce_only: bool = False
    flatten: bool = False
    """Set only by the kill switch's FLATTEN step: the one kind of order HALTED lets through."""


@dataclass(slots=True)
class GateResult:
    """One gate's verdict on one intent, with the numbers behind it.

    Not frozen, but never mutated: the guard builds nine per evaluation, and a frozen dataclass
    pays object.__setattr__ per field (about 6x slower to construct).
    """

    gate: str
    passed: bool
    code: str
    """Stable reason code, e.g. ``OK``, ``QUOTE_STALE``, ``POSITION_TOO_LARGE``."""
    value: float | None = None
    limit: float | None = None
    detail: str = ""
    floor: bool = False
    """True when the limit is a minimum (balance, confidence) rather than a maximum."""

    @property
    def headroom(self) -> float | None:
        """How far the value is from the limit; positive means room left either way."""
        if self.value is None or self.limit is None:
            return None
        return self.value - self.limit if self.floor else self.limit - self.value


@dataclass(slots=True)
class Decision:
    """The risk guard's answer to one intent (never mutated; not frozen for speed, see GateResult)."""

    verdict: Verdict
    intent: OrderIntent
    amount: Decimal
    """Amount allowed: the intent's amount on APPROVE, less on REDUCE, zero on REJECT."""
    gates: tuple[GateResult, ...]
    rejected_by: GateResult | None = None

    @property
    def approved(self) -> bool:
        """True when an order may be sent (APPROVE or REDUCE)."""
        return self.verdict is not Verdict.REJECT


@dataclass(slots=True)
class Order:
    """An order the engine created; persisted before it is sent."""

    client_id: str
    symbol: str
    side: Side
    order_type: OrderType
    amount: Decimal
    price: Decimal | None
    mode: Mode
    strategy: str
    status: OrderStatus = OrderStatus.PENDING_SUBMIT
    filled: Decimal = Decimal(0)
    average_price: Decimal | None = None
    venue_id: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0
    error: str = ""

    @property
    def remaining(self) -> Decimal:
        """Amount not yet filled."""
        return self.amount - self.filled


@dataclass(frozen=True, slots=True)
class CancelReport:
    """What one cancel-all did with the open orders it found."""

    canceled: tuple[str, ...] = ()
    """Client ids of the orders it canceled."""
    failed: tuple[str, ...] = ()
    """One line per order it could not cancel and that may still be open."""


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of (part of) an order."""

    fill_id: str
    client_id: str
    symbol: str
    side: Side
    amount: Decimal
    price: Decimal
    fee: Decimal
    fee_currency: str
    mode: Mode
    timestamp: float
