"""Provides the Orders pane: the engine's open orders with their fill progress."""

from __future__ import annotations

from collections.abc import Mapping

from tradetui.core.model import EngineSnapshot, OrderStatus, Side
from tradetui.ui import format as fmt
from tradetui.ui.palette import Cell
from tradetui.ui.widgets.table_pane import Column, Row, TablePane

_STATUS_LABELS = {
    OrderStatus.PENDING_SUBMIT: "pending",
    OrderStatus.OPEN: "open",
    OrderStatus.PARTIALLY_FILLED: "partial",
    OrderStatus.UNKNOWN: "UNKNOWN",
}


class OrdersPane(TablePane):
    """Open orders, keyed by client order id."""

    TITLE = "Orders"
    COLUMNS = (
        Column("id", "id"),
        Column("symbol", "symbol"),
        Column("side", "side"),
        Column("type", "type"),
        Column("price", "price", "right"),
        Column("amount", "amount", "right"),
        Column("filled", "filled", "right"),
        Column("status", "status"),
    )
    EMPTY_TEXT = "no open orders"
    SELECTABLE = True
    NARROW_COLUMNS = ("symbol", "side", "price", "filled", "status")

    def build_rows(self, snapshot: EngineSnapshot) -> Mapping[str, Row]:
        return {
            order.client_id: (
                Cell(fmt.short_id(order.client_id), "stale"),
                Cell(order.symbol),
                Cell(order.side.value, "bid" if order.side is Side.BUY else "ask"),
                Cell(order.order_type.value),
                Cell(fmt.price(order.price) if order.price is not None else "market"),
                Cell(fmt.amount(order.amount)),
                Cell(fmt.percent(order.filled, order.amount), "" if order.filled else "stale"),
                Cell(
                    _STATUS_LABELS.get(order.status, order.status.value.lower()),
                    "warning" if order.status is OrderStatus.UNKNOWN else "",
                ),
            )
            for order in sorted(snapshot.open_orders, key=lambda o: (o.created_at, o.client_id))
        }
