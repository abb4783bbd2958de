"""Provides SetupScreen: `tradetui setup` as one form (venue, account and storage, key and secret)
over the UI-free steps in tradetui.credentials.setup."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from dataclasses import replace

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Footer, Input, Label, RadioButton, RadioSet, Static

from tradetui.credentials.records import (
    ENV_API_KEY,
    CredentialsError,
)
from tradetui.credentials.setup import (
    DEFAULT_ACCOUNT,
    SIM_VENUE,
    SetupError,
    VenueInfo,
)
from tradetui.credentials.stores import (
    ENV_KEYRING_PASSPHRASE,
    BackendKind,
    env_variables,
    file_keyring_exists,
)
from tradetui.ui.screens.setup_support import (
    PROG,
    CheckFinished,
    SetupOptions,
    StorageCheck,
    StorageChecked,
    Typed,
    VenueDescribed,
    VenueIdsLoaded,
    check_and_store,
    describe_and_warm,
    describe_venue_locked,
    venue_ids,
)

BACKEND_OF_BUTTON: dict[str, BackendKind] = {
    "backend-os": "os",
    "backend-file": "file",
    "backend-env": "env",
}


def _row(label: str, field: Widget, row_id: str) -> Horizontal:
    return Horizontal(Label(label, classes="label"), field, classes="row", id=row_id)


def _step(title: str, step_id: str, *children: Widget) -> Vertical:
    step = Vertical(*children, classes="step", id=step_id)
    step.border_title = title
    return step


def _secret(widget_id: str, placeholder: str) -> Input:
    return Input(password=True, placeholder=placeholder, id=widget_id, compact=True)


class SetupScreen(Screen[None]):
    """Venue, account and storage, API key; then one signed check and, if it passes, the save."""

    DEFAULT_CSS = """
    SetupScreen #title { padding: 0 1; background: $panel; color: $text; text-style: bold; }
    SetupScreen #form { padding: 0 1; }
    SetupScreen .step {
        height: auto; border-top: solid $border; border-title-color: $text-accent;
        border-title-style: bold; padding: 0 1; margin-bottom: 1;
    }
    SetupScreen .row { height: 1; }
    SetupScreen .row > .label { width: 14; color: $text-muted; }
    SetupScreen .row > Input { width: 1fr; }
    SetupScreen .note { color: $text-muted; }
    SetupScreen .-problem { color: $text-error; }
    SetupScreen #check { margin: 0 1 1 1; }
    SetupScreen #result { padding: 0 1; }
    SetupScreen #result.-stored { color: $text-success; }
    SetupScreen #result.-rejected { color: $text-error; }
    """

    AUTO_FOCUS = "#venue"
    BINDINGS = [
        Binding("ctrl+s", "check_and_save", "Check and save", id="setup.check"),
        Binding("escape", "app.quit", "Quit", id="setup.quit"),
    ]

    def __init__(self, options: SetupOptions, storage: StorageCheck | None = None) -> None:
        super().__init__()
        self.options = options
        """What the command line prefilled."""
        self.storage = storage
        """The storage probe; None until it has run (the backend choice waits for it)."""
        self.venue: VenueInfo | None = None
        """The venue as last described; None while unknown."""
        self.stored = False
        """True once an account was checked and saved."""
        self.outcome: tuple[str, ...] = ()
        """The last attempt's lines (the rejection, or the result and where it was stored)."""

    def compose(self) -> ComposeResult:
        options = self.options
        title = f"{PROG}: check an exchange API key with a signed call, then store it"
        yield Static(Content(title), id="title")
        venue = Input(
            options.exchange or SIM_VENUE,
            placeholder="a ccxt exchange id, or sim",
            id="venue",
            compact=True,
        )
        sim_url = Input(
            options.sim_url or "",
            placeholder="http://127.0.0.1:PORT (`tradetui sim` prints it)",
            id="sim-url",
            compact=True,
        )
        account = Input(options.account or DEFAULT_ACCOUNT, id="account", compact=True)
        backends = RadioSet(
            RadioButton("OS keyring", id="backend-os"),
            RadioButton("encrypted file, protected by a passphrase", id="backend-file", value=True),
            RadioButton("environment variables (containers)", id="backend-env"),
            id="backend",
            disabled=True,  # until the OS keyring probe says what to offer
            compact=True,
        )
        with VerticalScroll(id="form"):
            yield _step(
                "1 Venue",
                "step-venue",
                _row("Exchange", venue, "venue-row"),
                Static(id="venue-note", classes="note"),
                _row("Simulator URL", sim_url, "sim-url-row"),
                Checkbox("Use the sandbox/testnet", bool(options.sandbox), id="sandbox"),
            )
            yield _step(
                "2 Account and storage",
                "step-storage",
                _row("Account", account, "account-row"),
                Static("Checking the OS keyring...", id="keyring-note", classes="note"),
                backends,
                Static(id="file-note", classes="note"),
                _row("Passphrase", _secret("file-pass", "of the encrypted file"), "file-pass-row"),
                _row("Again", _secret("file-pass-again", "the same passphrase"), "file-again-row"),
            )
            yield _step(
                "3 API key",
                "step-key",
                Static(id="key-note", classes="note"),
                _row("API key", _secret("api-key", "not shown; paste works"), "api-key-row"),
                _row("Secret", _secret("secret", "not shown; paste works"), "secret-row"),
                _row("Passphrase", _secret("api-passphrase", "not shown"), "api-passphrase-row"),
            )
            yield Button("Check and save", id="check", variant="primary", compact=True)
            yield Static(id="result")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        for row_id in ("sim-url-row", "sandbox", "api-passphrase-row", "backend-os"):
            self.query_one(f"#{row_id}").display = False
        if self.storage is None:
            self._probe_storage()
        else:
            self.post_message(StorageChecked(self.storage))
        self._load_venue_ids()  # the venue Input's first Changed event describes the venue

    @work(thread=True, group="probe")
    def _probe_storage(self) -> None:
        self.post_message(StorageChecked(StorageCheck.probe()))

    @work(thread=True, group="probe")
    def _load_venue_ids(self) -> None:
        self.post_message(VenueIdsLoaded(venue_ids()))

    def on_venue_ids_loaded(self, message: VenueIdsLoaded) -> None:
        suggester = SuggestFromList(message.venue_ids, case_sensitive=False)
        self.query_one("#venue", Input).suggester = suggester

    @work(thread=True, exclusive=True, group="venue")
    def _describe(self, typed: str) -> None:
        try:
            info = describe_venue_locked(typed)
        except SetupError as exc:
            self.post_message(VenueDescribed(typed, None, str(exc)))
            return
        self.post_message(VenueDescribed(typed, info))
        describe_and_warm(typed)  # the signed check's imports, while the user types

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "venue":
            self._note("venue-note", "Looking the exchange up in ccxt...")
            self._describe(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.focus_next()

    def on_venue_described(self, message: VenueDescribed) -> None:
        if message.typed != self.query_one("#venue", Input).value:
            return  # the user typed on since this lookup started
        info = self.venue = message.info
        if info is None:
            note = f"{message.problem} (the right arrow key takes a suggestion)"
        elif info.is_sim:
            note = "The tradetui simulator: give the REST URL `tradetui sim` printed."
        else:
            extra = " and a passphrase" if info.needs_passphrase else ""
            sandbox = "; ccxt knows its sandbox/testnet" if info.has_sandbox else ""
            note = f"{info.venue}: asks for an API key, a secret{extra}{sandbox}."
        self._note("venue-note", note, problem=info is None)
        self.query_one("#sim-url-row").display = info is not None and info.is_sim
        sandbox_box = self.query_one("#sandbox", Checkbox)
        sandbox_box.display = info is not None and info.has_sandbox
        if info is not None:
            sandbox_box.label = f"Use the {info.venue} sandbox/testnet"
        self._show_backend()  # what the env backend reads, and whether a passphrase is asked

    def on_storage_checked(self, message: StorageChecked) -> None:
        check = self.storage = message.check
        report, allow = check.report, self.options.allow_plaintext
        os_button = self.query_one("#backend-os", RadioButton)
        os_button.display = check.offers_os(allow)
        if report.ok:
            note = f"The OS keyring ({report.name}) encrypts what it stores."
            os_button.label = f"OS keyring ({report.name})"
        elif report.plaintext:
            allowed = "offered because of --allow-plaintext" if allow else "so it is not offered"
            note = f"The OS keyring ({report.name}) stores secrets UNENCRYPTED, {allowed}."
            os_button.label = f"OS keyring ({report.name}), UNENCRYPTED"
        else:
            note = (
                f"No secure OS keyring here ({report.name}): keep the credentials in an "
                "encrypted file (file) or in environment variables (env)."
            )
        wanted = self.options.backend or ("os" if report.ok else "file")
        if wanted == "os" and not check.offers_os(allow):
            wanted = "file"
        self._note("keyring-note", note, problem=not report.ok)
        self.query_one(f"#backend-{wanted}", RadioButton).value = True
        self.query_one("#backend", RadioSet).disabled = False
        self._show_backend()

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        self._show_backend()

    def _backend(self) -> BackendKind:
        pressed = self.query_one("#backend", RadioSet).pressed_button
        button_id = pressed.id if pressed is not None else None
        return BACKEND_OF_BUTTON.get(button_id or "", "file")

    def _show_backend(self) -> None:
        check, kind = self.storage, self._backend()
        if check is None:
            return
        asks_passphrase = kind == "file" and not check.passphrase_in_env
        self.query_one("#file-pass-row").display = asks_passphrase
        self.query_one("#file-again-row").display = asks_passphrase and not check.file_exists
        if kind == "file" and check.passphrase_in_env:
            file_note = f"The passphrase of {check.file_path} comes from {ENV_KEYRING_PASSPHRASE}."
        elif kind == "file" and check.file_exists:
            file_note = f"{check.file_path} exists: type its passphrase."
        elif kind == "file":
            file_note = f"{check.file_path} is new: choose its passphrase (typed twice)."
        else:
            needs = self.venue is not None and self.venue.needs_passphrase
            names = ", ".join(env_variables(needs))
            file_note = f"Nothing is written: live mode reads {names} where it runs."
        self._note("file-note", file_note if kind != "os" else "")
        from_env = kind == "env" and check.key_in_env
        for row_id in ("api-key-row", "secret-row"):
            self.query_one(f"#{row_id}").display = not from_env
        needs_passphrase = self.venue is not None and self.venue.needs_passphrase
        self.query_one("#api-passphrase-row").display = needs_passphrase and not from_env
        key_note = f"Using the key in {ENV_API_KEY} and its companions (values not shown)."
        self._note("key-note", key_note if from_env else "")

    def _note(self, widget_id: str, text: str, problem: bool = False) -> None:
        note = self.query_one(f"#{widget_id}", Static)
        note.update(Content(text))
        note.display = bool(text)
        note.set_class(problem, "-problem")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_check_and_save()

    def action_check_and_save(self) -> None:
        """Check the key with a signed call and store it if it passes; after a save, exit."""
        if self.stored:
            self.app.exit(return_code=0)
            return
        button = self.query_one("#check", Button)
        if self.storage is None or button.disabled:
            return  # still probing, or an attempt is running
        typed = self._typed()
        if (
            self.query_one("#file-again-row").display
            and typed.file_passphrase != self.query_one("#file-pass-again", Input).value
        ):
            self.post_message(
                CheckFinished(False, ["the two passphrases differ; nothing stored"], False)
            )
            return
        button.disabled = True
        self._show_result(["Checking the key with a signed fetch_balance..."], None)
        self._check_and_save(typed)

    def _typed(self) -> Typed:
        def value(widget_id: str) -> str:
            return self.query_one(f"#{widget_id}", Input).value

        # Type narrowing for mypy; the value is set on this path.
        assert self.storage is not None  # nosec B101
        kind = self._backend()
        file_passphrase = value("file-pass")
        if self.storage.passphrase_in_env:
            file_passphrase = os.environ.get(ENV_KEYRING_PASSPHRASE, "")
        needs_passphrase = self.venue is not None and self.venue.needs_passphrase
        return Typed(
            value("venue"),
            value("sim-url"),
            self.query_one("#sandbox", Checkbox).value,
            value("account"),
            kind,
            file_passphrase,
            value("api-key"),
            value("secret"),
            value("api-passphrase") if needs_passphrase else "",
            kind == "env" and self.storage.key_in_env,
        )

    @work(exclusive=True, group="check")
    async def _check_and_save(self, typed: Typed) -> None:
        try:
            stored, lines = await check_and_store(typed, self.options.allow_plaintext)
        except (SetupError, CredentialsError) as exc:
            stored, lines = False, [f"{exc}; nothing stored"]
        file_exists = await asyncio.to_thread(file_keyring_exists)
        self.post_message(CheckFinished(stored, lines, file_exists))

    def on_check_finished(self, message: CheckFinished) -> None:
        self.outcome, self.stored = message.lines, message.stored
        if self.storage is not None and message.file_exists != self.storage.file_exists:
            self.storage = replace(self.storage, file_exists=message.file_exists)
            self._show_backend()
        self._show_result(message.lines, message.stored)
        button = self.query_one("#check", Button)
        button.disabled = False
        if message.stored:
            button.label = "Done"
            for step in self.query(".step"):
                step.disabled = True
            button.focus()

    def _show_result(self, lines: Sequence[str], stored: bool | None) -> None:
        result = self.query_one("#result", Static)
        result.update(Content("\n".join(lines)))
        result.set_class(stored is True, "-stored")
        result.set_class(stored is False, "-rejected")
        self.call_after_refresh(self.query_one("#form").scroll_end, animate=False)
