"""Tests the `tradetui setup` screen end to end against a real simulator over 127.0.0.1."""

from __future__ import annotations

import base64
import threading
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import keyring
import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Input, RadioButton, RadioSet, Static
from textual.worker import WorkerFailed

from tests.conftest import quiet_settings, wait_until

# The autouse isolation: no real keyring, records or environment.
from tests.test_credentials import MemoryKeyring, PlaintextKeyring, isolated  # noqa: F401
from tradetui.cli import setup as setup_cli
from tradetui.core.engine import Engine
from tradetui.core.model import Mode
from tradetui.credentials.records import BackendReport, Credentials
from tradetui.credentials.setup import Draft
from tradetui.credentials.stores import lookup_credentials, read_records, remember_file_passphrase
from tradetui.sim.server import SimInfo, SimServer
from tradetui.ui import setup_app
from tradetui.ui.screens import setup_support
from tradetui.ui.screens.setup_support import SetupOptions, StorageCheck
from tradetui.ui.setup_app import SetupApp

PASSPHRASE = "correct horse battery"
SIZE = (100, 40)


@pytest.fixture
async def sim() -> AsyncIterator[SimInfo]:
    server = SimServer(host="127.0.0.1", port=0, seed=11)
    yield await server.start()
    await server.stop()


def wrong_secret() -> str:
    return base64.b64encode(b"not the simulator's secret" * 3).decode()


def sim_app(sim: SimInfo, account: str = "simacct", **options: Any) -> SetupApp:
    return SetupApp(SetupOptions(exchange="sim", sim_url=sim.rest, account=account, **options))


def screen_text(app: SetupApp) -> str:
    """Every character the screen shows now."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def note(app: SetupApp, widget_id: str) -> str:
    """The text of one of the screen's notes, unwrapped."""
    return str(app.setup_screen.query_one(f"#{widget_id}", Static).render())


async def until_ready(pilot: Pilot[None]) -> None:
    """Wait for the storage probe and the venue lookup to reach the screen."""
    screen = pilot.app.setup_screen  # type: ignore[attr-defined]
    await wait_until(lambda: screen.storage is not None and screen.venue is not None, what="ready")
    await pilot.pause()


async def type_keys(pilot: Pilot[None], api_key: str, secret: str, *passphrases: str) -> None:
    """Fill the form the way a user does; the secret arrives as a terminal paste."""
    screen = pilot.app.setup_screen  # type: ignore[attr-defined]
    for widget_id, value in zip(("file-pass", "file-pass-again"), passphrases, strict=False):
        screen.query_one(f"#{widget_id}", Input).value = value
    screen.query_one("#api-key", Input).value = api_key
    secret_input = screen.query_one("#secret", Input)
    secret_input.focus()
    secret_input.post_message(events.Paste(secret))
    await pilot.pause()
    assert secret_input.value == secret


async def check_and_save(pilot: Pilot[None]) -> None:
    await pilot.press("ctrl+s")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def result_lines(app: SetupApp) -> list[str]:
    return list(app.setup_screen.outcome)


async def test_a_valid_sim_key_is_stored_in_the_file_backend_and_trades_live(
    sim: SimInfo, make_engine: Callable[..., Engine]
) -> None:
    app = sim_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await until_ready(pilot)
        assert "No secure OS keyring here (keyring.backends.fail.Keyring)" in note(
            app, "keyring-note"
        )
        assert not app.setup_screen.query_one("#backend-os").display
        await type_keys(pilot, sim.api_key, sim.secret, PASSPHRASE, PASSPHRASE)
        await check_and_save(pilot)
        shown, result = screen_text(app), note(app, "result")
        assert app.setup_screen.stored
        assert "authenticated: yes" in shown and "can trade: yes" in shown
        assert "balances seen: BTC 1, ETH 10, SOL 100, USD 100000" in result
        assert f"Stored account 'simacct' (sim, key {sim.api_key[:4]}…{sim.api_key[-4:]})" in result
        for secret in (sim.secret, sim.api_key, PASSPHRASE):
            assert secret not in shown and secret not in app.export_screenshot()
        await pilot.press("enter")  # on Done
    assert app.return_code == 0

    assert read_records()["simacct"].backend == "file"
    remember_file_passphrase(PASSPHRASE)  # what `tradetui --live` asks for on a terminal
    lookup = lookup_credentials("simacct", "sim-external")
    assert lookup.credentials == Credentials("sim", sim.api_key, sim.secret)
    venue = {
        "exchange": "sim-external",
        "rest_url": sim.rest,
        "ws_public_url": sim.ws_public,
        "ws_private_url": sim.ws_private,
        "account": "simacct",
    }
    engine = make_engine(quiet_settings(mode="live", venue=venue))
    await engine.start()
    try:
        assert engine.snapshot().mode is Mode.LIVE
        await wait_until(lambda: "BTC" in engine.snapshot().balances, what="venue balances")
        assert engine.snapshot().balances["BTC"].total == Decimal(1)
    finally:
        await engine.stop()


async def test_a_wrong_secret_is_rejected_in_one_line_and_nothing_is_stored(
    sim: SimInfo,
) -> None:
    secure = MemoryKeyring()
    keyring.set_keyring(secure)
    app = sim_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await until_ready(pilot)
        pressed = app.setup_screen.query_one("#backend", RadioSet).pressed_button
        assert pressed is not None and pressed.id == "backend-os"  # a secure one is the default
        await type_keys(pilot, sim.api_key, wrong_secret())
        await check_and_save(pilot)
        assert result_lines(app) == [
            "the exchange rejected the key/secret: EAPI:Invalid signature; nothing stored"
        ]
        assert result_lines(app)[0] in screen_text(app)
        assert wrong_secret() not in screen_text(app)
        await pilot.press("escape")
    assert app.return_code == 2
    assert secure.entries == {} and read_records() == {}


@pytest.mark.parametrize(
    ("allow_plaintext", "backend", "selected"),
    [(False, None, "file"), (False, "os", "file"), (True, None, "file"), (True, "os", "os")],
)
async def test_a_plaintext_os_keyring_is_offered_only_with_the_flag_and_chosen_only_explicitly(
    allow_plaintext: bool, backend: Any, selected: str
) -> None:
    keyring.set_keyring(PlaintextKeyring())
    app = SetupApp(SetupOptions(exchange="sim", backend=backend, allow_plaintext=allow_plaintext))
    async with app.run_test(size=SIZE) as pilot:
        await until_ready(pilot)
        screen = app.setup_screen
        os_button = screen.query_one("#backend-os", RadioButton)
        assert os_button.display is allow_plaintext
        assert "UNENCRYPTED" in str(os_button.label)
        pressed = screen.query_one("#backend", RadioSet).pressed_button
        assert pressed is not None and pressed.id == f"backend-{selected}"
        offered = "offered because of --allow-plaintext" if allow_plaintext else "not offered"
        assert offered in note(app, "keyring-note")


async def test_keyring_and_kdf_calls_never_run_on_the_event_loop(
    sim: SimInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guards the event loop against the OS keyring probe, the file KDF and the save."""
    threads: dict[str, bool] = {}

    def off_loop(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            threads[name] = threading.current_thread() is not threading.main_thread()
            return real(*args)

        return call

    for name in ("os_keyring", "open_file_store", "save_account"):
        monkeypatch.setattr(setup_support, name, off_loop(name, getattr(setup_support, name)))
    app = sim_app(sim, "vault")
    async with app.run_test(size=SIZE) as pilot:
        await until_ready(pilot)
        await type_keys(pilot, sim.api_key, sim.secret, PASSPHRASE, PASSPHRASE)
        await check_and_save(pilot)
        assert app.setup_screen.stored
    assert threads == {"os_keyring": True, "open_file_store": True, "save_account": True}


async def test_the_env_backend_checks_the_variables_already_set(
    sim: SimInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADETUI_API_KEY", sim.api_key)
    monkeypatch.setenv("TRADETUI_API_SECRET", sim.secret)
    app = sim_app(sim, "box", backend="env")
    async with app.run_test(size=SIZE) as pilot:
        await until_ready(pilot)
        assert not app.setup_screen.query_one("#secret-row").display
        assert "Using the key in TRADETUI_API_KEY" in note(app, "key-note")
        await check_and_save(pilot)
        assert "authenticated: yes" in screen_text(app)
        assert "set TRADETUI_API_KEY, TRADETUI_API_SECRET where tradetui runs" in note(
            app, "result"
        )
    assert read_records()["box"].backend == "env"


async def test_a_crash_never_prints_the_secret_in_its_traceback(
    sim: SimInfo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Guards against Textual's default traceback, which prints every frame's local variables."""

    async def crashing_check(draft: Draft) -> None:
        secret = draft.credentials.secret
        raise RuntimeError(f"boom after reading {len(secret)} characters")

    monkeypatch.setattr(setup_support, "check_credentials", crashing_check)
    app = sim_app(sim, "crash", backend="env")
    with pytest.raises(WorkerFailed, match="boom"):
        async with app.run_test(size=SIZE) as pilot:
            await until_ready(pilot)
            await type_keys(pilot, sim.api_key, sim.secret)
            await pilot.press("ctrl+s")
            await wait_until(lambda: bool(app._exit_renderables), what="the crash")
    printed = capsys.readouterr().err  # what Textual printed on the way out
    assert "crashing_check" in printed and "boom" in printed
    assert sim.secret[:24] not in printed and sim.api_key[:24] not in printed


NO_OS_KEYRING = StorageCheck(
    BackendReport(False, False, "keyring.backends.fail.Keyring", "no OS keyring"),
    "~/.config/tradetui/credentials.cfg",
    file_exists=False,
    passphrase_in_env=False,
    key_in_env=False,
)
"""A machine without an OS keyring and no encrypted file yet, whatever this machine has."""


def test_first_screen(snap_compare) -> None:  # noqa: ANN001 - plugin fixture
    app = SetupApp(
        SetupOptions(exchange="sim", sim_url="http://127.0.0.1:8080"), storage=NO_OS_KEYRING
    )
    assert snap_compare(app, terminal_size=(80, 24), run_before=until_ready)


@pytest.mark.parametrize(
    ("typed", "shown_rows", "note_says"),
    [
        (
            "kucoin",
            {"api-passphrase-row"},
            "kucoin: asks for an API key, a secret and a passphrase.",
        ),
        ("okx", {"api-passphrase-row", "sandbox"}, "passphrase; ccxt knows its sandbox/testnet."),
        ("binance", {"sandbox"}, "ccxt knows its sandbox/testnet"),
        ("kraken", set(), "kraken: asks for an API key, a secret."),
        ("sim", {"sim-url-row"}, "The tradetui simulator"),
        ("nosuchexchange", set(), "unknown exchange 'nosuchexchange'"),
    ],
)
async def test_the_venue_decides_what_is_asked(
    typed: str, shown_rows: set[str], note_says: str
) -> None:
    app = SetupApp(SetupOptions(exchange="kraken"))
    async with app.run_test(size=SIZE) as pilot:
        await until_ready(pilot)
        app.setup_screen.query_one("#venue", Input).value = typed
        await wait_until(lambda: note_says in note(app, "venue-note"), what=note_says)
        optional = {"api-passphrase-row", "sandbox", "sim-url-row"}
        shown = {row for row in optional if app.setup_screen.query_one(f"#{row}").display}
        assert shown == shown_rows


async def test_the_venue_field_completes_ccxt_ids() -> None:
    app = SetupApp(SetupOptions(exchange="sim"))
    async with app.run_test(size=SIZE) as pilot:
        await until_ready(pilot)
        venue = app.setup_screen.query_one("#venue", Input)
        await wait_until(lambda: venue.suggester is not None, what="the list of exchange ids")
        venue.value = ""
        await pilot.press("k", "r", "a", "k")
        await pilot.pause()
        await pilot.press("right")  # takes the suggestion
        assert venue.value == "kraken"
        await wait_until(lambda: "kraken: asks for" in note(app, "venue-note"), what="kraken")


@pytest.mark.parametrize(
    ("argv", "terminal", "opens_screen"),
    [
        (["--exchange", "sim", "--account", "a", "--backend", "file"], True, True),
        (["--no-ui", "--exchange", "sim"], True, False),
        (["--exchange", "sim"], False, False),
        (["--list"], True, False),
    ],
)
def test_setup_opens_the_screen_only_on_a_terminal_without_no_ui(
    argv: list[str], terminal: bool, opens_screen: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[SetupOptions] = []

    def record(options: SetupOptions) -> int:
        opened.append(options)
        return 0

    monkeypatch.setattr(setup_app, "run_setup_app", record)
    monkeypatch.setattr("sys.stdin.isatty", lambda: terminal)
    monkeypatch.setattr("sys.stdout.isatty", lambda: terminal)
    monkeypatch.setattr("builtins.input", lambda prompt: "")  # plain prompts: end at once
    monkeypatch.setattr("getpass.getpass", lambda prompt: "")
    setup_cli.main(argv)
    if opens_screen:
        assert opened == [SetupOptions(exchange="sim", account="a", backend="file")]
    else:
        assert opened == []
