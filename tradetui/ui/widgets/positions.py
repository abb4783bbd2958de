"""Provides the Positions pane: amount, entry, mark and PnL per symbol, coloured by sign."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from tradetui.core.model import EngineSnapshot
from tradetui.ui import format as fmt
from tradetui.ui.palette import Cell
from tradetui.ui.widgets.table_pane import Column, Row, TablePane


def sign_tone(value: float | Decimal) -> str:
    """The theme variable for a PnL figure: up, down, or plain at zero."""
    return "price-up" if value > 0 else "price-down" if value < 0 else ""


_NO_DRIFT = frozenset({"drift"})
"""Without copy trading (or before its first leader fill) the drift column is left out."""


class PositionsPane(TablePane):
    """Open (and closed-with-PnL) positions marked to mid."""

    TITLE = "Positions"
    COLUMNS = (
        Column("symbol", "symbol"),
        Column("amount", "amount", "right"),
        Column("entry", "avg entry", "right"),
        Column("mark", "mark", "right"),
        Column("upnl", "uPnL", "right"),
        Column("rpnl", "rPnL", "right"),
        # Copy trading: how far our position is from what the leader's fills call for.
        Column("drift", "copy drift"),
    )
    EMPTY_TEXT = "no positions"
    EVERY_NTH_SNAPSHOT = 2  # marks move with quotes; 2.5 Hz is plenty to read
    NARROW_COLUMNS = ("symbol", "amount", "upnl", "rpnl")

    def hidden_columns(self, snapshot: EngineSnapshot | None) -> frozenset[str]:
        return frozenset() if snapshot is not None and snapshot.copy_drift else _NO_DRIFT

    def build_rows(self, snapshot: EngineSnapshot) -> Mapping[str, Row]:
        rows: dict[str, Row] = {}
        for position in sorted(snapshot.positions.values(), key=lambda p: p.symbol):
            # A flat position stays listed for its realized PnL, dimmed, with no entry price.
            flat = not position.amount
            rows[position.symbol] = (
                Cell(position.symbol, "stale" if flat else ""),
                Cell(fmt.amount(position.amount), "stale" if flat else sign_tone(position.amount)),
                Cell(
                    fmt.DASH if flat else fmt.price(position.average_entry), "stale" if flat else ""
                ),
                Cell(fmt.price(position.mark), "stale" if flat or position.mark is None else ""),
                Cell(fmt.signed_money(position.unrealized_pnl), sign_tone(position.unrealized_pnl)),
                Cell(fmt.signed_money(position.realized_pnl), sign_tone(position.realized_pnl)),
                _drift_cell(snapshot, position.symbol),
            )
        return rows


def _drift_cell(snapshot: EngineSnapshot, symbol: str) -> Cell:
    """``leader ±pct`` for each leader copied in ``symbol``; a dash when none is."""
    parts = []
    for drift in snapshot.copy_drift.values():
        if drift.symbol == symbol:
            pct = drift.drift_pct
            parts.append(f"{drift.leader} {fmt.DASH if pct is None else f'{pct:+.0f}%'}")
    if not parts:
        return Cell(fmt.DASH, "stale")
    worst = max(abs(d.drift_pct or 0.0) for d in snapshot.copy_drift.values() if d.symbol == symbol)
    return Cell(" ".join(parts), "warning" if worst >= 10 else "")
