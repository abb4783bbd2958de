"""Provides ConfirmScreen, the modal that asks before a consequential command (going live)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmScreen(ModalScreen[bool]):
    """Asks one yes/no question; dismisses with True only on an explicit yes."""

    DEFAULT_CSS = """
    ConfirmScreen {
        align: center middle;
        background: $background 60%;
    }
    ConfirmScreen > #dialog {
        width: 64;
        max-width: 90%;
        height: auto;
        border: thick $live;
        border-title-color: $live;
        border-title-style: bold;
        background: $surface;
        padding: 1 2;
    }
    ConfirmScreen #question {
        margin-bottom: 1;
    }
    ConfirmScreen #buttons {
        height: auto;
        align-horizontal: right;
    }
    ConfirmScreen Button {
        margin-left: 2;
    }
    """

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, title: str, question: str, confirm_label: str = "Yes") -> None:
        super().__init__()
        self.title_text = title
        """Shown in the dialog's border."""
        self.question = question
        """The question, in plain text."""
        self.confirm_label = confirm_label
        """Label of the button that says yes."""

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Content(self.question), id="question")
            with Horizontal(id="buttons"):
                yield Button(Content(f"{self.confirm_label} (y)"), variant="error", id="yes")
                yield Button(Content("Cancel (n)"), variant="primary", id="no")

    def on_mount(self) -> None:
        self.query_one("#dialog").border_title = self.title_text
        # Enter on the default focus must never be the consequential answer.
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, confirmed: bool) -> None:
        """Dismiss with the given answer."""
        self.dismiss(confirmed)
