"""Provides ChoiceScreen, the modal that asks a question with several answers (going back to paper
with live orders still working)."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tradetui.core.model import EngineSnapshot
from tradetui.ui import format as fmt


class ChoiceScreen(ModalScreen[str]):
    """Asks one question; dismisses with the id of the answer chosen (``cancel`` on escape).

    ``answers`` are (id, label, key); the last one is the safe default that has the focus.
    """

    DEFAULT_CSS = """
    ChoiceScreen {
        align: center middle;
        background: $background 60%;
    }
    ChoiceScreen > #dialog {
        width: 76;
        max-width: 95%;
        height: auto;
        border: thick $live;
        border-title-color: $live;
        border-title-style: bold;
        background: $surface;
        padding: 1 2;
    }
    ChoiceScreen #question {
        margin-bottom: 1;
    }
    ChoiceScreen #buttons {
        height: auto;
        align-horizontal: right;
    }
    ChoiceScreen Button {
        margin-left: 1;
    }
    """

    BINDINGS = [Binding("escape", "choose('cancel')", "Cancel", id="choice.cancel")]

    def __init__(self, title: str, question: str, answers: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.title_text = title
        """Shown in the dialog's border."""
        self.question = question
        """The question, in plain text."""
        self.answers = answers
        """(id, label, key) per answer; the last is the default."""

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Content(self.question), id="question")
            with Horizontal(id="buttons"):
                last = len(self.answers) - 1
                for index, (answer, label, key) in enumerate(self.answers):
                    label_text = Content(f"{label} ({key})")
                    if index == last:
                        yield Button(label_text, variant="primary", id=answer)
                    else:
                        yield Button(label_text, variant="error", id=answer)

    def on_mount(self) -> None:
        self.query_one("#dialog").border_title = self.title_text
        self.query_one(f"#{self.answers[-1][0]}", Button).focus()  # never the consequential one

    def on_key(self, event: events.Key) -> None:
        for answer, _, key in self.answers:
            if event.key == key:
                event.stop()
                self.dismiss(answer)
                return

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(str(event.button.id))

    def action_choose(self, answer: str) -> None:
        """Dismiss with ``answer``."""
        self.dismiss(answer)


def back_to_paper_screen(snapshot: EngineSnapshot) -> ChoiceScreen | None:
    """The question before leaving live trading with orders or positions still on the venue
    (None when nothing is left there). Answers: ``cancel-orders``, ``leave``, ``stay``."""
    orders = list(snapshot.open_orders)
    held = [p for p in snapshot.positions.values() if p.amount]
    if not orders and not held:
        return None
    working = "; ".join(
        f"{o.symbol} {o.side.value} {fmt.amount(o.amount)}"
        + (f" @ {fmt.price(o.price)}" if o.price is not None else "")
        for o in orders[:3]
    ) + (f"; +{len(orders) - 3} more" if len(orders) > 3 else "")
    positions = ", ".join(f"{fmt.amount(p.amount)} {p.symbol}" for p in held[:3])
    question = (
        f"Back to paper. Left on the venue: {len(orders)} live order(s)"
        + (f" ({working})" if orders else "")
        + f"; live positions: {positions or 'none'}. They stay as they are unless you "
        "cancel the orders now (K flattens positions)."
    )
    answers = [("leave", "Paper, leave them", "p"), ("stay", "Stay live", "n")]
    if orders:
        answers.insert(0, ("cancel-orders", "Cancel orders, then paper", "c"))
    return ChoiceScreen("Back to paper", question, answers)
