"""Provides the Balances pane: free, used and total per currency."""

from __future__ import annotations

from collections.abc import Mapping

from tradetui.core.model import EngineSnapshot
from tradetui.ui import format as fmt
from tradetui.ui.palette import Cell
from tradetui.ui.widgets.table_pane import Column, Row, TablePane


class BalancesPane(TablePane):
    """The account's balances, quote currency first."""

    TITLE = "Balances"
    COLUMNS = (
        Column("currency", "ccy"),
        Column("free", "free", "right"),
        Column("used", "used", "right"),
        Column("total", "total", "right"),
    )
    EMPTY_TEXT = "no balances yet"
    EVERY_NTH_SNAPSHOT = 3  # balances change on fills only
    SNAPSHOT_PHASE = 1  # never on the same tick as all of the every-2nd-tick panes
    NARROW_COLUMNS = ("currency", "free", "total")

    def build_rows(self, snapshot: EngineSnapshot) -> Mapping[str, Row]:
        quote_first = sorted(
            snapshot.balances.values(),
            key=lambda balance: (balance.currency != snapshot.quote_currency, balance.currency),
        )
        rows: dict[str, Row] = {}
        for balance in quote_first:
            # The quote currency is money (cents); base currencies keep their satoshis.
            show = fmt.cash if balance.currency == snapshot.quote_currency else fmt.amount
            rows[balance.currency] = (
                Cell(balance.currency),
                Cell(show(balance.free)),
                Cell(show(balance.used), "" if balance.used else "stale"),
                Cell(show(balance.total)),
            )
        return rows
