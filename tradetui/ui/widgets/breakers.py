"""Provides the Circuit breaker pane: state, failures and time to half-open per category."""

from __future__ import annotations

from collections.abc import Mapping

from tradetui.core.model import BreakerState, EngineSnapshot
from tradetui.ui import format as fmt
from tradetui.ui.palette import Cell
from tradetui.ui.widgets.table_pane import Column, Row, TablePane

_STATE_TONES = {
    BreakerState.CLOSED: "price-up",
    BreakerState.HALF_OPEN: "warning",
    BreakerState.OPEN: "price-down",
}


class BreakersPane(TablePane):
    """One row per circuit-breaker category."""

    TITLE = "Circuit breaker"
    COLUMNS = (
        Column("category", "category"),
        Column("state", "state"),
        Column("failures", "fails", "right"),
        # Seconds until an open breaker lets one trial call through (half-open).
        Column("half_open", "retry s", "right"),
    )
    EMPTY_TEXT = "no breakers"
    EVERY_NTH_SNAPSHOT = 2  # the retry countdown needs no more

    def needs_attention(self, snapshot: EngineSnapshot) -> bool:
        return any(breaker.state is BreakerState.OPEN for breaker in snapshot.breakers)

    def build_rows(self, snapshot: EngineSnapshot) -> Mapping[str, Row]:
        return {
            breaker.category: (
                Cell(breaker.category),
                Cell(breaker.state.value, _STATE_TONES.get(breaker.state, "")),
                Cell(f"{breaker.consecutive_failures}/{breaker.threshold}"),
                Cell(
                    fmt.seconds(breaker.seconds_until_half_open)
                    if breaker.state is BreakerState.OPEN
                    else fmt.DASH
                ),
            )
            for breaker in snapshot.breakers
        }
