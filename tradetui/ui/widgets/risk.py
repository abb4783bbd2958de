"""Provides the Risk pane: every gate's latest verdict, its numbers and its last rejection."""

from __future__ import annotations

from collections.abc import Mapping

from tradetui.core.model import NOT_EVALUATED, EngineSnapshot, GateResult
from tradetui.ui import format as fmt
from tradetui.ui.palette import Cell
from tradetui.ui.widgets.table_pane import Column, Row, TablePane


def _verdict(gate: GateResult) -> Cell:
    if gate.code == NOT_EVALUATED:
        return Cell(fmt.DASH, "stale")
    return Cell("pass", "price-up") if gate.passed else Cell("FAIL", "price-down")


class RiskPane(TablePane):
    """The central risk guard, one row per gate in evaluation order."""

    TITLE = "Risk"
    COLUMNS = (
        Column("gate", "gate"),
        Column("verdict", "verdict"),
        Column("value", "value", "right"),
        Column("limit", "limit", "right"),
        Column("headroom", "room", "right"),
        Column("rejected", "last reject"),
    )
    EMPTY_TEXT = "no risk evaluations yet"
    EVERY_NTH_SNAPSHOT = 2  # gate values follow quote ages; 2.5 Hz is plenty to read
    SNAPSHOT_PHASE = 1  # the largest slow pane, on the ticks Positions and Breakers skip
    NARROW_COLUMNS = ("gate", "verdict", "headroom")

    def needs_attention(self, snapshot: EngineSnapshot) -> bool:
        return any(not gate.passed and gate.code != NOT_EVALUATED for gate in snapshot.gates)

    def build_rows(self, snapshot: EngineSnapshot) -> Mapping[str, Row]:
        rows: dict[str, Row] = {}
        for gate in snapshot.gates:
            rejection = snapshot.last_rejections.get(gate.gate)
            headroom = gate.headroom
            rows[gate.gate] = (
                Cell(gate.gate),
                _verdict(gate),
                Cell(fmt.number(gate.value)),
                Cell(fmt.number(gate.limit)),
                Cell(
                    fmt.number(headroom),
                    "price-down" if headroom is not None and headroom < 0 else "",
                ),
                Cell(
                    rejection.code if rejection else fmt.DASH, "warning" if rejection else "stale"
                ),
            )
        # A gate may have rejected earlier without appearing in the latest evaluation.
        for name, rejection in snapshot.last_rejections.items():
            if name not in rows:
                rows[name] = (
                    Cell(name),
                    Cell(fmt.DASH, "stale"),
                    Cell(fmt.number(rejection.value)),
                    Cell(fmt.number(rejection.limit)),
                    Cell(fmt.number(rejection.headroom)),
                    Cell(rejection.code, "warning"),
                )
        return rows
