"""Provides the venue's reports as typed values: an order and a trade as the venue states them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tradetui.core.model.enums import OrderStatus, OrderType, Side


@dataclass(frozen=True, slots=True)
class OrderReport:
    """One order as the venue reports it (REST or the executions stream)."""

    venue_id: str
    client_id: str | None
    """The client order id the venue holds for it (None when it has none)."""
    symbol: str
    side: Side | None
    """None when the report leaves it out (or it is not buy/sell)."""
    order_type: OrderType | None
    """None when the report leaves it out, or for a kind of order the engine does not place
    (stop-loss, take-profit ...)."""
    amount: Decimal | None
    price: Decimal | None
    status: OrderStatus | None
    """OPEN, FILLED (closed), CANCELED (canceled or expired) or REJECTED; None when the venue's
    word is unknown or missing (a stream update that only carries fills)."""
    filled: Decimal
    average_price: Decimal | None
    timestamp: float | None
    """Venue time the order was created, in seconds (None when not given)."""


@dataclass(frozen=True, slots=True)
class TradeReport:
    """One execution of one of the account's orders, as the venue reports it."""

    trade_id: str
    order_id: str
    """The venue id of the order it filled."""
    symbol: str
    side: Side
    amount: Decimal
    price: Decimal
    fee: Decimal
    fee_currency: str
    timestamp: float
    """Venue time of the trade, in seconds."""
