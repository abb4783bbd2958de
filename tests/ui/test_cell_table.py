"""Tests of CellTable: what each line shows, which lines repaint, and where the cursor goes."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tradetui.ui.palette import Cell, Palette
from tradetui.ui.widgets.cell_table import CellTable, Column, Row

COLUMNS = (Column("id", "id"), Column("price", "price", "right"))


def record_repaints(table: CellTable) -> list[int]:
    """From now on, the lines (0 is the header) the table asks to repaint, in order."""
    repainted: list[int] = []
    refresh_lines = table.refresh_lines

    def spy(y_start: int, line_count: int = 1) -> None:
        repainted.append(y_start)
        refresh_lines(y_start, line_count)

    table.refresh_lines = spy  # type: ignore[method-assign]
    return repainted


def rows(*items: tuple[str, str]) -> dict[str, Row]:
    return {key: (Cell(key), Cell(price)) for key, price in items}


class TableApp(App[None]):
    def __init__(self, show_cursor: bool = False) -> None:
        super().__init__()
        self.table = CellTable(show_cursor=show_cursor)

    def compose(self) -> ComposeResult:
        yield self.table

    def on_mount(self) -> None:
        self.table.set_columns(COLUMNS, Palette({}))


async def test_lines_show_the_header_then_rows_with_each_column_as_wide_as_its_widest_cell() -> (
    None
):
    app = TableApp()
    async with app.run_test(size=(30, 6)) as pilot:
        app.table.show_rows(rows(("a", "1.5"), ("bb", "10.25")))
        await pilot.pause()
        lines = [app.table.render_line(y).text.rstrip() for y in range(4)]
        # One space before each cell and after the last; prices right-aligned.
        assert lines == [" id price", " a    1.5", " bb 10.25", ""]


async def test_a_wider_cell_realigns_every_row_and_an_unchanged_row_is_not_repainted() -> None:
    app = TableApp()
    async with app.run_test(size=(30, 6)) as pilot:
        table = app.table
        table.show_rows(rows(("a", "1.5"), ("b", "2.5")))
        await pilot.pause()
        repainted = record_repaints(table)
        table.show_rows(rows(("a", "1.5"), ("b", "2.6")))
        assert repainted == [2]
        table.show_rows(rows(("a", "1.5"), ("b", "1002.6")))
        assert table.render_line(1).text.rstrip() == " a     1.5"
        assert table.render_line(2).text.rstrip() == " b  1002.6"


async def test_the_cursor_stays_on_its_row_when_rows_come_and_go_around_it() -> None:
    app = TableApp(show_cursor=True)
    async with app.run_test(size=(30, 6)) as pilot:
        table = app.table
        table.show_rows(rows(("o1", "1"), ("o2", "2")))
        table.move_cursor(1)
        table.show_rows(rows(("o0", "0"), ("o1", "1"), ("o2", "2")))
        assert table.cursor_key == "o2"
        table.show_rows(rows(("o0", "0"), ("o1", "1")))  # the selected order went away
        assert table.cursor_key == "o1"
        table.show_rows({})
        assert table.cursor_key is None
        await pilot.pause()


async def test_moving_the_cursor_past_the_bottom_scrolls_and_the_header_stays_put() -> None:
    app = TableApp(show_cursor=True)
    async with app.run_test(size=(30, 4)) as pilot:  # a header and three rows fit
        table = app.table
        table.focus()
        table.show_rows(rows(*((f"o{i}", str(i)) for i in range(10))))
        await pilot.pause()
        for _ in range(5):
            await pilot.press("down")
        await pilot.pause()
        assert table.cursor_key == "o5"
        assert table.scroll_offset.y == 3
        assert table.render_line(0).text.split() == ["id", "price"]
        assert table.render_line(3).text.split() == ["o5", "5"]
        await pilot.press("home")
        await pilot.pause()
        assert (table.cursor_key, table.scroll_offset.y) == ("o0", 0)


async def test_a_click_selects_the_row_under_the_pointer() -> None:
    app = TableApp(show_cursor=True)
    async with app.run_test(size=(30, 6)) as pilot:
        app.table.show_rows(rows(("o1", "1"), ("o2", "2"), ("o3", "3")))
        await pilot.pause()
        await pilot.click(CellTable, offset=(2, 3))
        assert app.table.cursor_key == "o3"
