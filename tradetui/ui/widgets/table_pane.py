"""Provides TablePane, the base of the titled table panes: keyed-row diffs into a DataTable."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, NamedTuple

from rich.console import JustifyMethod
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.coordinate import Coordinate
from textual.theme import Theme
from textual.widgets import DataTable, Static

from tradetui.core.model import EngineSnapshot
from tradetui.ui.palette import Cell, Palette

Row = tuple[Cell, ...]
"""One table row before rendering."""

NARROW_BELOW = 100
"""Terminals narrower than this (an 80-column SSH session) get each pane's essential columns."""


class Column(NamedTuple):
    """A column of a table pane."""

    key: str
    label: str
    justify: JustifyMethod = "left"


class TablePane(Vertical):
    """A bordered pane holding one DataTable that only touches the cells that changed."""

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
    TablePane > DataTable {
        height: 1fr;
        background: $surface;
        scrollbar-size: 1 1;
    }
    TablePane > DataTable > .datatable--header {
        background: $surface;
        color: $text-muted;
        text-style: bold;
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
    SELECTABLE: ClassVar[bool] = False
    """Whether the operator can move a row cursor (to act on the selected row)."""
    NARROW_COLUMNS: ClassVar[tuple[str, ...] | None] = None
    """Keys of the columns kept in a terminal narrower than NARROW_BELOW (None keeps them all)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._rendered: dict[str, Row] = {}
        """What each table row shows now, by row key; the diff runs against this."""
        self._palette = Palette({})
        self._last_snapshot: EngineSnapshot | None = None
        self._visible: tuple[int, ...] = tuple(range(len(self.COLUMNS)))
        """Indexes into COLUMNS of the columns the table shows."""

    def compose(self) -> ComposeResult:
        yield Static("connecting…", classes="placeholder")
        # Cells carry their own one-space gap (see _render_cell): half DataTable's default padding,
        # which lets the panes fit 80-column terminals.
        yield DataTable(
            cursor_type="row" if self.SELECTABLE else "none",
            show_cursor=self.SELECTABLE,
            zebra_stripes=False,
            cell_padding=0,
        )

    def on_mount(self) -> None:
        self.border_title = self.TITLE
        self._visible = self._columns_for(self.app.size.width)
        self._add_columns()
        self.query_one(DataTable).display = False
        self._palette = Palette(self.app.theme_variables)
        self.app.theme_changed_signal.subscribe(self, self._on_theme_changed)

    def on_resize(self) -> None:
        visible = self._columns_for(self.app.size.width)
        if visible != self._visible:
            self._visible = visible
            self._rebuild(columns=True)

    @property
    def visible_columns(self) -> list[str]:
        """Keys of the columns shown at the terminal's current width."""
        return [self.COLUMNS[index].key for index in self._visible]

    def _columns_for(self, terminal_width: int) -> tuple[int, ...]:
        zoomed = self.is_mounted and self.screen.maximized is self
        if self.NARROW_COLUMNS is None or terminal_width >= NARROW_BELOW or zoomed:
            return tuple(range(len(self.COLUMNS)))
        return tuple(i for i, c in enumerate(self.COLUMNS) if c.key in self.NARROW_COLUMNS)

    def _add_columns(self) -> None:
        table = self.query_one(DataTable)
        for position, index in enumerate(self._visible):
            column = self.COLUMNS[index]
            label = Text(self._pad(position, column.label), justify=column.justify, end="")
            table.add_column(label, key=column.key)

    @property
    def row_keys(self) -> list[str]:
        """Keys of the rows the table shows, in display order."""
        return list(self._rendered)

    def selected_key(self) -> str | None:
        """Key of the row under the cursor (None when nothing is selectable or shown)."""
        table = self.query_one(DataTable)
        if not self.SELECTABLE or table.row_count == 0:
            return None
        return table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value

    def show_waiting(self, text: str) -> None:
        """Show a line of text (e.g. ``connecting…``) instead of the table."""
        self.query_one(".placeholder", Static).update(text)
        self._set_table_visible(False)

    def show_snapshot(self, snapshot: EngineSnapshot) -> None:
        """Bring the table in line with ``snapshot``, updating only the cells that changed."""
        self._last_snapshot = snapshot
        self._sync(self.build_rows(snapshot))
        self.set_class(self.needs_attention(snapshot), "-alert")

    def build_rows(self, snapshot: EngineSnapshot) -> Mapping[str, Row]:
        """Return the rows to show for ``snapshot``, keyed by a stable id, in display order."""
        raise NotImplementedError

    def needs_attention(self, snapshot: EngineSnapshot) -> bool:
        """True when the pane shows a problem: its border turns the halted colour."""
        return False

    def _sync(self, rows: Mapping[str, Row]) -> None:
        table = self.query_one(DataTable)
        for key in [key for key in self._rendered if key not in rows]:
            table.remove_row(key)
            del self._rendered[key]
        for key, row in rows.items():
            previous = self._rendered.get(key)
            if previous is None:
                table.add_row(*self._render_row(row), key=key)
            elif previous != row:
                for position, index in enumerate(self._visible):
                    old, new = previous[index], row[index]
                    if old != new:
                        # Re-measuring a column costs a pass over all its rows: only when a
                        # cell's width changed (prices of one symbol keep their width).
                        table.update_cell(
                            key,
                            self.COLUMNS[index].key,
                            self._render_cell(position, index, new),
                            update_width=len(old.text) != len(new.text),
                        )
            self._rendered[key] = row
        if not rows:
            self.query_one(".placeholder", Static).update(self.EMPTY_TEXT)
        self._set_table_visible(bool(rows))

    def _render_row(self, row: Row) -> list[Text]:
        return [
            self._render_cell(position, index, row[index])
            for position, index in enumerate(self._visible)
        ]

    def _render_cell(self, position: int, index: int, cell: Cell) -> Text:
        padded = cell._replace(text=self._pad(position, cell.text))
        return self._palette.render(padded, self.COLUMNS[index].justify)

    def _pad(self, position: int, text: str) -> str:
        """One space before every shown cell, and one after the last shown column's."""
        return f" {text} " if position == len(self._visible) - 1 else f" {text}"

    def _set_table_visible(self, visible: bool) -> None:
        table = self.query_one(DataTable)
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
        self._palette = Palette(self.app.theme_variables)
        self._rebuild(columns=False)

    def _rebuild(self, *, columns: bool) -> None:
        """Render every row again (and the columns too, when ``columns``)."""
        table = self.query_one(DataTable)
        table.clear(columns=columns)
        if columns:
            self._add_columns()
        self._rendered.clear()
        if self._last_snapshot is not None:
            self.show_snapshot(self._last_snapshot)
