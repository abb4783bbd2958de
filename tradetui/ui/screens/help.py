"""Provides HelpScreen: every key of the console, as the operator's keymap has bound it."""

from __future__ import annotations

from typing import NamedTuple

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static


class KeyHelp(NamedTuple):
    """One row of the help screen."""

    keys: str
    """The keys as the footer shows them, e.g. ``k`` or ``ctrl+p``."""
    binding_id: str
    """The id that ``[ui.keys]`` in the config remaps."""
    action: str
    """What the key does, in a word or two."""
    details: str
    """One line more about it."""


class HelpScreen(ModalScreen[None]):
    """A table of keys, what each does, and where the config can remap it."""

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
        background: $background 60%;
    }
    HelpScreen > #help {
        width: 100;
        max-width: 96%;
        height: auto;
        max-height: 96%;
        border: round $border;
        border-title-color: $text-accent;
        border-title-style: bold;
        background: $surface;
        padding: 0 1;
    }
    HelpScreen DataTable {
        height: auto;
        max-height: 1fr;
        background: $surface;
        scrollbar-size: 1 0;
    }
    HelpScreen DataTable > .datatable--header {
        background: $surface;
        color: $text-muted;
        text-style: bold;
    }
    HelpScreen #remap {
        color: $text-muted;
        margin-top: 1;
    }
    """

    BINDINGS = [Binding("escape,question_mark,q", "close", "Close", id="help.close")]

    def __init__(self, rows: list[KeyHelp]) -> None:
        super().__init__()
        self.rows = rows
        """What the table lists, in order."""

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield DataTable(cursor_type="none", show_cursor=False, zebra_stripes=False)
            yield Static(
                Content(
                    "Remap a key in the config file, by the id in the third column: "
                    '[ui.keys] kill = "ctrl+x". Press esc to close.'
                ),
                id="remap",
            )

    def on_mount(self) -> None:
        self.query_one("#help").border_title = "Keys"
        table = self.query_one(DataTable)
        table.add_columns("key", "action", "id", "details")
        for row in self.rows:
            table.add_row(Text(row.keys, style="bold"), row.action, row.binding_id, row.details)

    def action_close(self) -> None:
        """Back to the console."""
        self.dismiss(None)
