"""`tradetui setup` end to end: a key checked against the simulator, stored, then traded live."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends import fail

from tests.conftest import go_live, quiet_settings, wait_until
from tests.test_credentials import quick_kdf  # noqa: F401 - autouse, for the in-process files
from tradetui.cli import setup as setup_cli
from tradetui.core.api import EngineError
from tradetui.core.engine import Engine
from tradetui.core.model import Mode, OrderIntent, Side, TradingState
from tradetui.credentials import stores as keyring_backends
from tradetui.sim.server import SimInfo, SimServer

PASSPHRASE = "correct horse battery"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Never the user's keyring or records: a tmp credentials dir, and no OS keyring at all."""
    monkeypatch.setenv("TRADETUI_CREDENTIALS_DIR", str(tmp_path / "creds"))
    for name in ("TRADETUI_API_KEY", "TRADETUI_API_SECRET", "TRADETUI_KEYRING_PASSPHRASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(keyring_backends, "_last_problems", {})
    original = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(original)


@pytest.fixture
async def sim() -> AsyncIterator[SimInfo]:
    server = SimServer(host="127.0.0.1", port=0, seed=13)
    yield await server.start()
    await server.stop()


def live_settings(sim: SimInfo, account: str, mode: str = "live") -> Any:
    venue = {
        "exchange": "sim-external",
        "rest_url": sim.rest,
        "ws_public_url": sim.ws_public,
        "ws_private_url": sim.ws_private,
        "account": account,
    }
    return quiet_settings(mode=mode, venue=venue)


def run_setup(argv: list[str], lines: list[str], secrets: list[str]) -> int:
    def ask(prompt: str) -> str:
        return lines.pop(0)

    def ask_secret(prompt: str) -> str:
        return secrets.pop(0)

    return setup_cli.main(argv, ask=ask, ask_secret=ask_secret)


async def test_a_key_stored_by_setup_is_what_a_live_engine_trades_with(
    sim: SimInfo, make_engine: Callable[..., Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADETUI_KEYRING_PASSPHRASE", PASSPHRASE)
    argv = ["--no-ui", "--backend", "file", "--exchange", "sim", "--sim-url", sim.rest]
    code = await asyncio.to_thread(
        run_setup, [*argv, "--account", "simacct"], [sim.api_key], [sim.secret]
    )
    assert code == 0

    engine = make_engine(live_settings(sim, "simacct"))
    await engine.start()
    try:
        assert engine.snapshot().mode is Mode.LIVE
        assert engine.snapshot().state is TradingState.PAUSED  # the first live start pauses
        await engine.resume()
        # Read back from the encrypted file.
        assert engine.venue.client.exchange.apiKey == sim.api_key
        await wait_until(lambda: "BTC" in engine.snapshot().balances, what="venue balances")
        assert engine.snapshot().balances["BTC"].total == Decimal(1)  # the sim account's own
        await wait_until(lambda: "SOL/USD" in engine.snapshot().quotes, what="quote")
        decision = await engine.submit(
            OrderIntent("SOL/USD", Side.BUY, Decimal("1"), confidence=0.9)
        )
        assert decision.approved
        await wait_until(lambda: "SOL/USD" in engine.snapshot().positions, what="live fill")
        venue_trades = await engine.venue.client.exchange.fetch_my_trades("SOL/USD")
        assert [trade["amount"] for trade in venue_trades] == [1.0]
    finally:
        await engine.stop()


async def test_going_live_without_stored_credentials_names_the_account_and_says_run_setup(
    sim: SimInfo, make_engine: Callable[..., Engine]
) -> None:
    engine = make_engine(live_settings(sim, "ghost", mode="paper"))
    await engine.start()
    try:
        with pytest.raises(EngineError) as refused:
            await go_live(engine)
    finally:
        await engine.stop()
    message = str(refused.value)
    assert message.startswith("no credentials stored for account 'ghost'")
    assert "OS keyring" in message and "run `tradetui setup --account ghost` first" in message
    assert "\n" not in message


async def test_live_start_with_a_locked_file_account_says_which_variable_unlocks_it(
    sim: SimInfo, make_engine: Callable[..., Engine]
) -> None:
    argv = ["--backend", "file", "--exchange", "sim", "--sim-url", sim.rest, "--account", "vault"]
    code = await asyncio.to_thread(
        run_setup, argv, [sim.api_key], [PASSPHRASE, PASSPHRASE, sim.secret]
    )
    assert code == 0
    engine = make_engine(live_settings(sim, "vault"))
    try:
        with pytest.raises(EngineError) as refused:
            await engine.start()  # refused before any order could be sent
    finally:
        await engine.stop()
    assert str(refused.value) == (
        f"account 'vault' is in the encrypted file {os.environ['TRADETUI_CREDENTIALS_DIR']}"
        "/credentials.cfg: set TRADETUI_KEYRING_PASSPHRASE to its passphrase to unlock it"
    )


def tradetui_setup(*args: str, stdin: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # A new session has no controlling terminal, so getpass reads the answers from stdin.
    return subprocess.run(
        [sys.executable, "-m", "tradetui", "setup", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        start_new_session=True,
        check=False,
    )


async def test_the_setup_command_stores_lists_and_removes_through_stdin(
    sim: SimInfo, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "TRADETUI_CREDENTIALS_DIR": str(tmp_path / "creds"),
        "TRADETUI_KEYRING_PASSPHRASE": PASSPHRASE,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",  # never the real keyring
    }
    args = ["--no-ui", "--exchange", "sim", "--sim-url", sim.rest, "--account", "simacct"]
    answers = f"file\n{sim.api_key}\n{sim.secret}\n"
    stored = await asyncio.to_thread(tradetui_setup, *args, stdin=answers, env=env)
    assert stored.returncode == 0, stored.stderr
    assert "No secure OS keyring here" in stored.stdout
    assert "balances seen: BTC 1, ETH 10, SOL 100, USD 100000" in stored.stdout
    assert sim.secret not in stored.stdout + stored.stderr

    listed = await asyncio.to_thread(tradetui_setup, "--list", stdin="", env=env)
    masked = f"{sim.api_key[:4]}…{sim.api_key[-4:]}"
    assert listed.stdout.splitlines()[1].split() == ["simacct", "sim", "file", masked, sim.rest]
    assert sim.api_key not in listed.stdout

    removed = await asyncio.to_thread(
        tradetui_setup, "--remove", "simacct", "--yes", stdin="", env=env
    )
    assert removed.returncode == 0 and "Removed account 'simacct'." in removed.stdout
    listed = await asyncio.to_thread(tradetui_setup, "--list", stdin="", env=env)
    assert "No accounts stored" in listed.stdout
