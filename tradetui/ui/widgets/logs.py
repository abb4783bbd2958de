"""Provides the Logs pane: the tail of the engine's log sink plus the UI's own notices, filterable."""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.theme import Theme
from textual.widgets import Input, RichLog

from tradetui.ui import format as fmt
from tradetui.ui.bridge import LogSource
from tradetui.ui.palette import Palette

_LEVEL_TONES = {"WARNING": "warning", "ERROR": "error", "CRITICAL": "error", "DEBUG": "stale"}
_LEVEL_RANKS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}

LEVEL_FILTERS = ("DEBUG", "INFO", "WARNING", "ERROR")
"""The minimum levels the operator cycles through, most to least verbose."""

MAX_LINES = 500
"""Lines kept in the pane; older ones scroll away (the log file keeps everything)."""


class LogEntry(NamedTuple):
    """One line the pane holds, kept so that a new filter can show it again."""

    ts: float
    level: str
    logger: str
    message: str

    def matches(self, min_rank: int, search: str) -> bool:
        """True when the line is at least ``min_rank`` and contains ``search`` (any case)."""
        if _LEVEL_RANKS.get(self.level, 20) < min_rank:
            return False
        if not search:
            return True
        return search in self.message.lower() or search in self.logger.lower()


class LogsPane(Vertical):
    """Appends new log lines on each refresh; re-renders only when the filter changes."""

    DEFAULT_CSS = """
    LogsPane {
        border: round $border-blurred;
        border-title-color: $text-accent;
        border-title-style: bold;
        border-subtitle-color: $warning;
        height: 1fr;
        min-height: 4;
        background: $surface;
    }
    LogsPane:focus-within {
        border: round $border;
    }
    LogsPane > RichLog {
        height: 1fr;
        padding: 0 1;
        background: $surface;
        scrollbar-size: 1 1;
    }
    LogsPane > Input {
        dock: bottom;
        height: 1;
        border: none;
        padding: 0 1;
        background: $boost;
        display: none;
    }
    LogsPane > Input:focus {
        border: none;
    }
    LogsPane.-searching > Input {
        display: block;
    }
    """

    BINDINGS = [Binding("escape", "clear_search", "Clear search", show=False)]
    ALLOW_MAXIMIZE = True

    def __init__(
        self, source: LogSource | None, *, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.source = source
        """Where lines come from; None shows only the UI's own notices."""
        self.last_seq = 0
        """Sequence number of the last line taken from the source."""
        self.entries: deque[LogEntry] = deque(maxlen=MAX_LINES)
        """Every line the pane holds, shown or filtered out."""
        self.search = ""
        """Lines must contain this (lower case); empty shows every line."""
        self.min_level = "DEBUG"
        """Lines below this level are hidden (the log file still has them)."""
        self.shown = 0
        """How many held lines pass the filter."""
        self._palette = Palette({})

    def compose(self) -> ComposeResult:
        yield RichLog(max_lines=MAX_LINES, min_width=20, wrap=True, markup=False, auto_scroll=True)
        yield Input(placeholder="search logs (enter: keep, esc: clear)", id="log-search")

    def on_mount(self) -> None:
        self.border_title = "Logs"
        self._palette = Palette(self.app.theme_variables)
        self.app.theme_changed_signal.subscribe(self, self._on_theme_changed)

    def poll(self) -> None:
        """Append the lines the source gained since the last poll."""
        if self.source is None:
            return
        for line in self.source.lines(self.last_seq):
            self.write_line(line.ts, line.level, line.logger, line.message)
            self.last_seq = max(self.last_seq, line.seq)

    def write_line(self, ts: float, level: str, logger: str, message: str) -> None:
        """Hold one line and show it when it passes the filter."""
        entry = LogEntry(ts, level.upper(), logger, message)
        self.entries.append(entry)
        if entry.matches(_LEVEL_RANKS[self.min_level], self.search):
            self.shown += 1
            self.query_one(RichLog).write(self._line_text(entry))
            if self.search or self.min_level != "DEBUG":
                self._show_filter()

    def open_search(self) -> None:
        """Show the search field and give it the keyboard."""
        self.add_class("-searching")
        search = self.query_one(Input)
        search.value = self.search
        search.focus()

    def set_search(self, text: str) -> None:
        """Show only lines containing ``text`` (any case); empty shows them all."""
        if text.strip().lower() != self.search:
            self.search = text.strip().lower()
            self._rerender()

    def cycle_level(self) -> str:
        """Raise the minimum level one step (ERROR wraps to DEBUG); returns the new level."""
        index = LEVEL_FILTERS.index(self.min_level)
        self.min_level = LEVEL_FILTERS[(index + 1) % len(LEVEL_FILTERS)]
        self._rerender()
        return self.min_level

    def action_clear_search(self) -> None:
        """Drop the search text, hide the field and hand the keyboard back."""
        self.remove_class("-searching")
        self.query_one(Input).value = ""
        self.set_search("")
        self.screen.set_focus(None)

    @on(Input.Changed, "#log-search")
    def _search_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.set_search(event.value)

    @on(Input.Submitted, "#log-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        # Keep the filter, give the keys back to the console; the subtitle says what is filtered.
        self.remove_class("-searching")
        self.screen.set_focus(None)

    def _rerender(self) -> None:
        log = self.query_one(RichLog)
        log.clear()
        rank = _LEVEL_RANKS[self.min_level]
        self.shown = 0
        for entry in self.entries:
            if entry.matches(rank, self.search):
                self.shown += 1
                log.write(self._line_text(entry))
        self._show_filter()

    def _show_filter(self) -> None:
        parts = []
        if self.search:
            parts.append(f"/{self.search}")
        if self.min_level != "DEBUG":
            parts.append(f"≥{self.min_level}")
        if parts:
            parts.append(f"{self.shown} of {len(self.entries)}")
        self.border_subtitle = " · ".join(parts)

    def _line_text(self, entry: LogEntry) -> Text:
        tone = _LEVEL_TONES.get(entry.level, "")
        text = Text(end="")
        text.append(fmt.clock(entry.ts), style=self._palette.style("stale"))
        text.append(f" {entry.level[:4]:<4} ", style=self._palette.style(tone))
        text.append(
            f"{entry.logger.removeprefix('tradetui.')}: ", style=self._palette.style("stale")
        )
        text.append(entry.message, style=self._palette.style(tone))
        return text

    def _on_theme_changed(self, theme: Theme) -> None:
        # Lines are held as data, so every line takes the new theme's colours.
        self._palette = Palette(self.app.theme_variables)
        self._rerender()
