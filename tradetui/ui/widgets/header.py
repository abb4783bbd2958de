"""Provides the status header: mode badge, trading state, venue, equity, day PnL and clock."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Static

from tradetui.core.model import EngineSnapshot, Mode, TradingState
from tradetui.ui import format as fmt

UNKNOWN = "unknown"
"""What a figure the engine cannot know shows (never a made-up 0)."""


class StatusHeader(Horizontal):
    """One line at the top; every colour comes from the theme's app variables."""

    DEFAULT_CSS = """
    StatusHeader {
        height: 1;
        background: $panel;
        color: $foreground;
    }
    StatusHeader > Static {
        width: auto;
        padding: 0 1;
    }
    StatusHeader > #mode { text-style: bold; color: $background; background: $paper; }
    StatusHeader > #mode.-live { background: $live; }
    StatusHeader > #state { text-style: bold; color: $text-success; }
    StatusHeader > #state.-paused { color: $warning; }
    StatusHeader > #state.-halted { color: $background; background: $halted; }
    StatusHeader > #venue {
        width: 1fr;
        color: $text-muted;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    StatusHeader > #venue.-disconnected { color: $warning; }
    StatusHeader > #day-pnl.-up { color: $price-up; }
    StatusHeader > #day-pnl.-down { color: $price-down; }
    StatusHeader > #clock { color: $text-muted; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._shown: dict[str, str] = {}
        """Text each part shows now, so unchanged parts are not updated."""

    def compose(self) -> ComposeResult:
        yield Static("PAPER", id="mode")
        yield Static("-", id="state")
        yield Static("connecting…", id="venue")
        yield Static("", id="equity")
        yield Static("", id="day-pnl")
        yield Static("", id="clock")

    @property
    def state_text(self) -> str:
        """What the trading-state part shows (ACTIVE, PAUSED or HALTED)."""
        return self._shown.get("state", "")

    def shown(self, part: str) -> str:
        """What ``part`` (``equity``, ``day-pnl`` ...) shows now."""
        return self._shown.get(part, "")

    def show_snapshot(self, snapshot: EngineSnapshot, venue_note: str = "") -> None:
        """Show ``snapshot``; ``venue_note`` replaces the connection status when given."""
        live = snapshot.mode is Mode.LIVE
        self._show("mode", snapshot.mode.value)
        self.query_one("#mode").set_class(live, "-live")
        state = self.query_one("#state")
        self._show("state", snapshot.state.value)
        state.set_class(snapshot.state is TradingState.PAUSED, "-paused")
        state.set_class(snapshot.state is TradingState.HALTED, "-halted")
        status = venue_note or ("" if snapshot.connected else "disconnected")
        venue = snapshot.venue or "venue"
        self._show("venue", f"{venue} · {status}" if status else venue)
        self.query_one("#venue").set_class(bool(status), "-disconnected")
        # Unknown (a holding without a price, balances not read, no day start yet) says so.
        equity, pnl = snapshot.equity, snapshot.day_pnl
        money = fmt.money(equity) if equity is not None else UNKNOWN
        self._show("equity", f"equity {money} {snapshot.quote_currency}")
        self._show("day-pnl", f"day {fmt.signed_money(pnl) if pnl is not None else UNKNOWN}")
        day_pnl = self.query_one("#day-pnl")
        day_pnl.set_class(pnl is not None and pnl > 0, "-up")
        day_pnl.set_class(pnl is not None and pnl < 0, "-down")
        self._show("clock", f"{fmt.clock(snapshot.taken_at)} UTC")

    def _show(self, part: str, text: str) -> None:
        previous = self._shown.get(part)
        if previous != text:
            self._shown[part] = text
            # Same width (a ticking equity, the clock): no need to lay the whole screen out again.
            same_width = previous is not None and len(previous) == len(text)
            self.query_one(f"#{part}", Static).update(Content(text), layout=not same_width)
