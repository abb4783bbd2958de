"""Provides CellTable: a keyed table that renders each row once, as one strip, and repaints only
the rows that changed.

Textual's DataTable renders every cell through Rich's console (padding, wrapping, cropping) and
throws its whole render cache away on any cell update, so one moved quote repaints the table.
A trading pane changes a few cells of a few rows ten times a second; this table keeps one
`Strip` per row, built straight from segments, and asks the compositor for just those lines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar, NamedTuple

from rich.cells import cell_len, set_cell_size
from rich.console import JustifyMethod
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tradetui.ui.palette import Cell, Palette


class Column(NamedTuple):
    """A column of a table pane."""

    key: str
    label: str
    justify: JustifyMethod = "left"


Row = tuple[Cell, ...]
"""One table row before rendering: a cell per column, in column order."""


class CellTable(ScrollView, can_focus=True):
    """Rows of coloured text cells under a fixed header, keyed, with an optional row cursor.

    Every shown cell has one space before it and the last column one after it too. A column is
    as wide as its widest cell or label; when that changes, every row is rendered again.
    """

    DEFAULT_CSS = """
    CellTable {
        height: 1fr;
        scrollbar-size: 1 1;
        & > .cell-table--header {
            color: $text-muted;
            text-style: bold;
        }
        & > .cell-table--cursor {
            background: $block-cursor-blurred-background;
        }
        &:focus > .cell-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"cell-table--header", "cell-table--cursor"}

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "cursor_to(0)", "First row", show=False),
        Binding("end", "cursor_to(-1)", "Last row", show=False),
    ]

    cursor_row: reactive[int] = reactive(0, layout=False, repaint=False)
    """Index of the selected row (only drawn when the table shows a cursor)."""

    def __init__(self, *, show_cursor: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.show_cursor = show_cursor
        self._columns: tuple[Column, ...] = ()
        self._widths: list[int] = []
        self._palette = Palette({})
        self._rows: dict[str, Row] = {}
        """The rows shown, by key, in display order."""
        self._order: list[str] = []
        self._strips: dict[str, Strip] = {}
        """Each row rendered at the current column widths (the cursor is drawn over it)."""
        self._header: Strip | None = None
        self._styles: tuple[Style, Style, Style] | None = None
        """The table's own, its header's and its cursor's style, resolved from CSS once."""

    # -- content ---------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        """How many rows the table holds."""
        return len(self._order)

    @property
    def row_keys(self) -> list[str]:
        """The rows' keys, in display order."""
        return list(self._order)

    @property
    def cursor_key(self) -> str | None:
        """Key of the row under the cursor (None when the table is empty)."""
        return self._order[self.cursor_row] if self._order else None

    def set_columns(self, columns: Sequence[Column], palette: Palette) -> None:
        """Show ``columns`` (and colour cells with ``palette``), dropping every row."""
        self._columns = tuple(columns)
        self._palette = palette
        self._rows.clear()
        self._order.clear()
        self._measure()

    def show_rows(self, rows: Mapping[str, Row]) -> None:
        """Make the table show ``rows`` (keyed, in display order); repaint only what changed.

        The cursor stays on the row it was on while that row is shown.
        """
        selected = self.cursor_key
        old_order, old_rows = self._order, self._rows
        self._rows = dict(rows)
        self._order = list(rows)
        widths_changed = self._measure()
        for key in [key for key in self._strips if key not in self._rows]:
            del self._strips[key]
        changed: list[int] = []
        for index, key in enumerate(self._order):
            row = self._rows[key]
            moved = index >= len(old_order) or old_order[index] != key
            if widths_changed or old_rows.get(key) != row:
                self._strips.pop(key, None)
                changed.append(index)
            elif moved:
                changed.append(index)
        if self.show_cursor and selected is not None and selected in self._rows:
            self.set_reactive(CellTable.cursor_row, self._order.index(selected))
        self.set_reactive(CellTable.cursor_row, self._clamped(self.cursor_row))
        if len(self._order) != len(old_order) or widths_changed:
            self.virtual_size = Size(sum(self._widths), len(self._order) + 1)
            self.refresh()
        else:
            for index in changed:
                self.refresh_lines(index + 1)

    def set_palette(self, palette: Palette) -> None:
        """Colour every cell from ``palette`` (a new theme) and repaint."""
        self._palette = palette
        self._strips.clear()
        self.refresh()

    def _measure(self) -> bool:
        """Size every column to its widest cell; True when a width changed."""
        last = len(self._columns) - 1
        widths = [cell_len(column.label) for column in self._columns]
        for row in self._rows.values():
            for index, cell in enumerate(row):
                width = cell_len(cell.text)
                if width > widths[index]:
                    widths[index] = width
        widths = [width + (2 if index == last else 1) for index, width in enumerate(widths)]
        if widths == self._widths:
            return False
        self._widths = widths
        self._strips.clear()
        self._header = None
        return True

    # -- rendering -------------------------------------------------------------------------

    def _resolved_styles(self) -> tuple[Style, Style, Style]:
        if self._styles is None:
            base = self.rich_style
            # Not partial: theme colours such as the header's muted one are translucent, and are
            # blended over the background.
            header = base + self.get_component_rich_style("cell-table--header")
            cursor = self.get_component_rich_style("cell-table--cursor")
            self._styles = (base, header, cursor)
        return self._styles

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base, _, cursor = self._resolved_styles()
        if y == 0:
            strip = self._header_strip()
        else:
            index = scroll_y + y - 1
            if index >= len(self._order):
                return Strip.blank(width, base)
            strip = self._row_strip(self._order[index])
            if self.show_cursor and index == self.cursor_row:
                strip = Strip(Segment.apply_style(strip, post_style=cursor), strip.cell_length)
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def _header_strip(self) -> Strip:
        if self._header is None:
            _, style, _ = self._resolved_styles()
            self._header = self._strip([(column.label, style) for column in self._columns])
        return self._header

    def _row_strip(self, key: str) -> Strip:
        strip = self._strips.get(key)
        if strip is None:
            base = self._resolved_styles()[0]
            cells = [(cell.text, base + self._palette.style(cell.tone)) for cell in self._rows[key]]
            strip = self._strips[key] = self._strip(cells)
        return strip

    def _strip(self, cells: Sequence[tuple[str, Style]]) -> Strip:
        """One line: each cell justified in its column, a space before it (and after the last)."""
        segments: list[Segment] = []
        base = self._resolved_styles()[0]
        last = len(cells) - 1
        for index, ((text, style), column, width) in enumerate(
            zip(cells, self._columns, self._widths, strict=True)
        ):
            inner = width - (2 if index == last else 1)
            text = set_cell_size(text, inner) if cell_len(text) > inner else text
            gap = inner - cell_len(text)
            left = 1 + {"right": gap, "center": gap // 2}.get(column.justify, 0)
            right = width - left - cell_len(text)
            segments.append(Segment(" " * left, base))
            segments.append(Segment(text, style))
            if right:
                segments.append(Segment(" " * right, base))
        return Strip(segments, sum(self._widths))

    def notify_style_update(self) -> None:
        # A theme or focus change restyles the header and rows (their colours come from CSS).
        super().notify_style_update()
        self._styles = None
        self._strips.clear()
        self._header = None

    def on_resize(self) -> None:
        self.set_reactive(CellTable.cursor_row, self._clamped(self.cursor_row))

    # -- cursor ----------------------------------------------------------------------------

    def move_cursor(self, row: int) -> None:
        """Put the cursor on row ``row`` (clamped), scrolling it into view."""
        self.cursor_row = self._clamped(row)

    def watch_cursor_row(self, old: int, new: int) -> None:
        """Repaint the rows the cursor left and reached; scroll to keep it in view."""
        if self.show_cursor:
            self.refresh_lines(old + 1)
            self.refresh_lines(new + 1)
        rows_in_view = max(1, self.size.height - 1)
        scroll_y = self.scroll_offset.y
        if new < scroll_y:
            self.scroll_to(y=new, animate=False)
        elif new >= scroll_y + rows_in_view:
            self.scroll_to(y=new - rows_in_view + 1, animate=False)

    def action_cursor(self, step: int) -> None:
        self._move(self.cursor_row + step, step)

    def action_page(self, direction: int) -> None:
        page = direction * max(1, self.size.height - 1)
        self._move(self.cursor_row + page, page)

    def action_cursor_to(self, row: int) -> None:
        end = len(self._order) - 1
        self._move(row if row >= 0 else end, -end if row == 0 else end)

    def _move(self, row: int, scroll_by: int) -> None:
        """Move the cursor to ``row``; a table without one scrolls by ``scroll_by`` rows instead."""
        if self.show_cursor:
            self.move_cursor(row)
        else:
            self.scroll_to(y=self.scroll_offset.y + scroll_by, animate=False)

    def on_click(self, event: events.Click) -> None:
        if self.show_cursor and event.y >= 1:
            self.move_cursor(self.scroll_offset.y + event.y - 1)

    def _clamped(self, row: int) -> int:
        return max(0, min(row, len(self._order) - 1))

    def refresh_lines(self, y_start: int, line_count: int = 1) -> None:
        # Our line 0 is the fixed header: row lines move with the scroll, the header never does.
        y = y_start - self.scroll_offset.y
        if 1 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, line_count))
