"""Provides TablePane, the base of the titled table panes: keyed rows shown in a CellTable."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.theme import Theme
from textual.widgets import Static

from tradetui.core.model import EngineSnapshot
from tradetui.ui.palette import Palette
from tradetui.ui.widgets.cell_table import CellTable, Column, Row

__all__ = ["NARROW_BELOW", "Column", "Row", "TablePane"]

NARROW_BELOW = 100
"""Terminals narrower than this (an 80-column SSH session) get each pane's essential columns."""


class TablePane(Vertical):
    """A bordered pane holding one CellTable, which repaints only the rows that changed."""

    DEFAULT_CSS = """
    TablePane {
        border: round $border-blurred;
        border-title-color: $text-accent;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
        height: 1fr;
        min-height: 4;
        background: $surface;
    }
    TablePane:focus-within {
        border: round $border;
    }
    TablePane.-alert {
        border: round $halted;
        border-title-color: $halted;
    }
    TablePane > CellTable {
        background: $surface;
    }
    TablePane > .placeholder {
        color: $text-muted;
        padding: 0 1;
        height: 1fr;
    }
    """

    ALLOW_MAXIMIZE = True
    """The zoom key (z) fills the screen with the pane, every column shown."""

    TITLE: ClassVar[str] = ""
    """Shown in the top border."""
    COLUMNS: ClassVar[tuple[Column, ...]] = ()
    """The table's columns, left to right."""
    EMPTY_TEXT: ClassVar[str] = "nothing to show"
    """Shown instead of the table when it has no rows."""
    EVERY_NTH_SNAPSHOT: ClassVar[int] = 1
    """Slow-moving panes redraw on every Nth timer tick only (commands always redraw all)."""
    SNAPSHOT_PHASE: ClassVar[int] = 0
    """Which of those N ticks: panes on different phases share out the work of the slow ticks."""

    def due(self, tick: int) -> bool:
        """Whether the pane redraws on timer tick number ``tick``."""
        return (tick + self.SNAPSHOT_PHASE) % self.EVERY_NTH_SNAPSHOT == 0

    SELECTABLE: ClassVar[bool] = False
    """Whether the operator can move a row cursor (to act on the selected row)."""
    NARROW_COLUMNS: ClassVar[tuple[str, ...] | None] = None
    """Keys of the columns kept in a terminal narrower than NARROW_BELOW (None keeps them all)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._last_snapshot: EngineSnapshot | None = None
        self._visible: tuple[int, ...] = tuple(range(len(self.COLUMNS)))
        """Indexes into COLUMNS of the columns the table shows."""

    def compose(self) -> ComposeResult:
        yield Static("connecting…", classes="placeholder")
        yield CellTable(show_cursor=self.SELECTABLE)

    @property
    def table(self) -> CellTable:
        """The pane's table."""
        return self.query_one(CellTable)

    def on_mount(self) -> None:
        self.border_title = self.TITLE
        self._visible = self._columns_for(self.app.size.width, None)
        self._set_columns()
        self.table.display = False
        self.app.theme_changed_signal.subscribe(self, self._on_theme_changed)

    def on_resize(self) -> None:
        if self._last_snapshot is not None:
            self.show_snapshot(self._last_snapshot)
        elif (visible := self._columns_for(self.app.size.width, None)) != self._visible:
            self._visible = visible
            self._set_columns()

    @property
    def visible_columns(self) -> list[str]:
        """Keys of the columns shown at the terminal's current width."""
        return [self.COLUMNS[index].key for index in self._visible]

    def _columns_for(self, terminal_width: int, snapshot: EngineSnapshot | None) -> tuple[int, ...]:
        zoomed = self.is_mounted and self.screen.maximized is self
        narrow = self.NARROW_COLUMNS is not None and terminal_width < NARROW_BELOW and not zoomed
        hidden = self.hidden_columns(snapshot)
        return tuple(
            index
            for index, column in enumerate(self.COLUMNS)
            if column.key not in hidden
            and (not narrow or column.key in (self.NARROW_COLUMNS or ()))
        )

    def hidden_columns(self, snapshot: EngineSnapshot | None) -> frozenset[str]:
        """Keys of columns with nothing to say for ``snapshot`` (e.g. copy drift, copying off)."""
        return frozenset()

    def _set_columns(self) -> None:
        columns = [self.COLUMNS[index] for index in self._visible]
        self.table.set_columns(columns, Palette(self.app.theme_variables))

    @property
    def row_keys(self) -> list[str]:
        """Keys of the rows the table shows, in display order."""
        return self.table.row_keys

    def selected_key(self) -> str | None:
        """Key of the row under the cursor (None when nothing is selectable or shown)."""
        return self.table.cursor_key if self.SELECTABLE else None

    def show_waiting(self, text: str) -> None:
        """Show a line of text (e.g. ``connecting…``) instead of the table."""
        self.query_one(".placeholder", Static).update(text)
        self._set_table_visible(False)

    def show_snapshot(self, snapshot: EngineSnapshot) -> None:
        """Bring the table in line with ``snapshot``, repainting only the rows that changed."""
        self._last_snapshot = snapshot
        visible = self._columns_for(self.app.size.width, snapshot)
        if visible != self._visible:
            self._visible = visible
            self._set_columns()
        rows = self.build_rows(snapshot)
        if len(visible) == len(self.COLUMNS):
            self.table.show_rows(rows)
        else:
            self.table.show_rows(
                {key: tuple(row[index] for index in visible) for key, row in rows.items()}
            )
        if not rows:
            self.query_one(".placeholder", Static).update(self.EMPTY_TEXT)
        self._set_table_visible(bool(rows))
        self.set_class(self.needs_attention(snapshot), "-alert")

    def build_rows(self, snapshot: EngineSnapshot) -> Mapping[str, Row]:
        """Return the rows to show for ``snapshot``, keyed by a stable id, in display order."""
        raise NotImplementedError

    def needs_attention(self, snapshot: EngineSnapshot) -> bool:
        """True when the pane shows a problem: its border turns the halted colour."""
        return False

    def _set_table_visible(self, visible: bool) -> None:
        table = self.table
        if table.display != visible:
            # Focus never wanders on its own to another pane when this table empties; a
            # selectable pane (Orders) takes the keyboard back when rows return and nothing has it.
            if not visible and table.has_focus:
                self.screen.set_focus(None)
            table.display = visible
            self.query_one(".placeholder", Static).display = not visible
            if visible and self.SELECTABLE and self.screen.focused is None:
                table.focus()

    def _on_theme_changed(self, theme: Theme) -> None:
        # Cell colours were resolved from the old theme, so every row is rendered again.
        self.table.set_palette(Palette(self.app.theme_variables))
