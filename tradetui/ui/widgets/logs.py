"""Provides the Logs pane: the tail of the engine's log sink plus the UI's own notices."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.theme import Theme
from textual.widgets import RichLog

from tradetui.ui import format as fmt
from tradetui.ui.bridge import LogSource
from tradetui.ui.palette import Palette

_LEVEL_TONES = {"WARNING": "warning", "ERROR": "error", "CRITICAL": "error", "DEBUG": "stale"}

MAX_LINES = 500
"""Lines kept in the pane; older ones scroll away (the log file keeps everything)."""


class LogsPane(Vertical):
    """Appends new log lines on each refresh; never re-renders lines already shown."""

    DEFAULT_CSS = """
    LogsPane {
        border: round $border-blurred;
        border-title-color: $text-accent;
        border-title-style: bold;
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
    """

    def __init__(
        self, source: LogSource | None, *, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.source = source
        """Where lines come from; None shows only the UI's own notices."""
        self.last_seq = 0
        """Sequence number of the last line shown."""
        self._palette = Palette({})

    def compose(self) -> ComposeResult:
        yield RichLog(max_lines=MAX_LINES, min_width=20, wrap=True, markup=False, auto_scroll=True)

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
        """Append one line: time, level, logger and message."""
        tone = _LEVEL_TONES.get(level.upper(), "")
        text = Text(end="")
        text.append(fmt.clock(ts), style=self._palette.style("stale"))
        text.append(f" {level.upper()[:4]:<4} ", style=self._palette.style(tone))
        text.append(f"{logger.removeprefix('tradetui.')}: ", style=self._palette.style("stale"))
        text.append(message, style=self._palette.style(tone))
        self.query_one(RichLog).write(text)

    def _on_theme_changed(self, theme: Theme) -> None:
        # Only lines written from now on take the new theme's colours; history is kept as is.
        self._palette = Palette(self.app.theme_variables)
