"""Declares what the matching engine tells its listeners (the WS private feeds, later faults)."""

from __future__ import annotations

from typing import Protocol

from tradetui.sim.venue.accounts import Account, BalanceChange
from tradetui.sim.venue.orders import Fill, Order


class ExchangeListener(Protocol):
    """Receives account events synchronously, in the order they happen."""

    def on_order(self, account: Account, order: Order, exec_type: str) -> None:
        """An order changed; `exec_type` is WS v2's (pending_new, new, status, filled, canceled)."""

    def on_fill(self, account: Account, order: Order, fill: Fill) -> None:
        """An order traded; `order` already includes the fill."""

    def on_balances(self, account: Account, changes: list[BalanceChange]) -> None:
        """Balances or holds changed; each entry carries the post-change state."""
