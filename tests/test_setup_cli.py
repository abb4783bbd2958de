"""Tests `tradetui setup` (plain prompts) against a real simulator over 127.0.0.1 with real ccxt."""

from __future__ import annotations

import asyncio
import base64
import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import keyring
import pytest

# The autouse isolation (no real keyring, records or environment) and the quick test KDF.
from tests.test_credentials import (  # noqa: F401
    MemoryKeyring,
    PlaintextKeyring,
    isolated,
    quick_kdf,
)
from tradetui.cli import setup as setup_cli
from tradetui.credentials.records import SERVICE, Credentials, read_entry, store_credentials
from tradetui.credentials.setup import Draft, describe_venue, exchange_config, make_draft
from tradetui.credentials.stores import (
    AccountRecord,
    lookup_credentials,
    open_file_store,
    read_records,
    save_record,
)
from tradetui.sim.server import SimInfo, SimServer

PASSPHRASE = "correct horse battery"


class Answers:
    """Replies to setup's prompts in order and records every prompt shown."""

    def __init__(self, lines: list[str] | None = None, secrets: list[str] | None = None) -> None:
        self.lines, self.secrets = list(lines or []), list(secrets or [])
        self.shown: list[str] = []
        self.secret_prompts: list[str] = []

    def ask(self, prompt: str) -> str:
        self.shown.append(prompt)
        if not self.lines:
            raise EOFError
        return self.lines.pop(0)

    def ask_secret(self, prompt: str) -> str:
        self.shown.append(prompt)
        self.secret_prompts.append(prompt)
        if not self.secrets:
            raise EOFError
        return self.secrets.pop(0)

    def run(self, *argv: str) -> int:
        return setup_cli.main(list(argv), ask=self.ask, ask_secret=self.ask_secret)

    async def run_async(self, *argv: str) -> int:
        # setup runs its own event loop for the check; the simulator keeps serving on this one.
        return await asyncio.to_thread(self.run, *argv)


@pytest.fixture
def secure() -> MemoryKeyring:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture
def plaintext() -> PlaintextKeyring:
    backend = PlaintextKeyring()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture
async def sim() -> AsyncIterator[SimInfo]:
    server = SimServer(host="127.0.0.1", port=0, seed=11)
    yield await server.start()
    await server.stop()


def sim_args(sim: SimInfo, account: str = "simacct", *extra: str) -> list[str]:
    return ["--no-ui", "--exchange", "sim", "--sim-url", sim.rest, "--account", account, *extra]


def wrong_secret() -> str:
    return base64.b64encode(b"not the simulator's secret" * 3).decode()


async def test_a_valid_sim_key_is_checked_then_stored_in_the_os_keyring(
    sim: SimInfo, secure: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = Answers([sim.api_key], [sim.secret])
    assert await answers.run_async(*sim_args(sim)) == 0
    assert read_entry(secure, "simacct") == Credentials("sim", sim.api_key, sim.secret)
    record = read_records()["simacct"]
    assert (record.venue, record.backend, record.sim_url) == ("sim", "os", sim.rest)
    out, err = capsys.readouterr()
    assert "authenticated: yes" in out and "can trade: yes" in out
    assert "balances seen: BTC 1, ETH 10, SOL 100, USD 100000" in out
    assert f"{sim.api_key[:4]}…{sim.api_key[-4:]}" in out
    for text in (out, err, "".join(answers.shown)):
        assert sim.secret not in text
    assert sim.api_key not in out + err
    assert answers.secret_prompts == ["API secret (not shown; paste works): "]


@pytest.mark.parametrize("what", ["secret", "key"])
async def test_a_wrong_key_or_secret_is_rejected_in_one_line_and_nothing_is_stored(
    what: str, sim: SimInfo, secure: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    api_key = sim.api_key if what == "secret" else sim.api_key[::-1]
    secret = wrong_secret() if what == "secret" else sim.secret
    assert await Answers([api_key], [secret]).run_async(*sim_args(sim)) == 2
    out, err = capsys.readouterr()
    reason = "EAPI:Invalid signature" if what == "secret" else "EAPI:Invalid key"
    assert err.splitlines() == [
        f"tradetui setup: the exchange rejected the key/secret: {reason}; nothing stored"
    ]
    assert secret not in out + err
    assert secure.entries == {} and read_records() == {}


async def test_an_unreachable_simulator_is_one_line(
    secure: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--exchange", "sim", "--sim-url", "http://127.0.0.1:1", "--account", "a"]
    assert await Answers(["k" * 20], [wrong_secret()]).run_async(*args) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert "could not reach the simulator at http://127.0.0.1:1" in line
    assert "`tradetui sim`" in line and secure.entries == {}


def test_a_plaintext_os_keyring_is_refused_without_the_flag_before_asking_anything(
    plaintext: PlaintextKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = Answers(["k" * 20], ["s" * 20])
    assert answers.run("--backend", "os", "--exchange", "sim", "--account", "main") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--allow-plaintext" in err and "unencrypted" in err
    assert answers.shown == [] and plaintext.entries == {}


async def test_without_a_secure_os_keyring_setup_says_so_and_offers_file_or_env(
    sim: SimInfo, plaintext: PlaintextKeyring, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Guards against a silent plaintext fallback: the plaintext keyring is never written."""
    answers = Answers(["file", sim.api_key], [PASSPHRASE, PASSPHRASE, sim.secret])
    assert await answers.run_async(*sim_args(sim)) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("No secure OS keyring here (")
    assert answers.shown[0] == "Backend, file or env [file]: "
    assert plaintext.entries == {}
    assert read_records()["simacct"].backend == "file"
    store = open_file_store(PASSPHRASE, tmp_path / "creds" / "credentials.cfg")
    assert store.load("simacct") == Credentials("sim", sim.api_key, sim.secret)


async def test_a_plaintext_os_keyring_is_used_with_the_flag_and_a_warning(
    sim: SimInfo, plaintext: PlaintextKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = Answers([sim.api_key], [sim.secret])
    assert await answers.run_async(*sim_args(sim, "main", "--allow-plaintext")) == 0
    assert read_entry(plaintext, "main") == Credentials("sim", sim.api_key, sim.secret)
    assert "stores secrets unencrypted" in capsys.readouterr().err


def test_no_os_keyring_is_refused_even_with_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    answers = Answers(["k" * 20], ["s" * 20])
    assert answers.run("--backend", "os", "--exchange", "sim", "--allow-plaintext") == 2
    assert "no OS keyring is available here" in capsys.readouterr().err
    assert answers.shown == []


async def test_the_file_backend_stores_encrypted_and_owner_only(
    sim: SimInfo, tmp_path: Path
) -> None:
    answers = Answers([sim.api_key], [PASSPHRASE, PASSPHRASE, sim.secret])
    assert await answers.run_async(*sim_args(sim, "vault", "--backend", "file")) == 0
    assert answers.secret_prompts[1] == "The same passphrase again: "  # a new file: asked twice
    path = tmp_path / "creds" / "credentials.cfg"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    text = path.read_text()
    assert sim.api_key not in text and sim.secret not in text


async def test_a_wrong_file_passphrase_is_one_line_and_asks_nothing_more(
    sim: SimInfo, capsys: pytest.CaptureFixture[str]
) -> None:
    first = Answers([sim.api_key], [PASSPHRASE, PASSPHRASE, sim.secret])
    assert await first.run_async(*sim_args(sim, "vault", "--backend", "file")) == 0
    capsys.readouterr()
    again = Answers([sim.api_key], ["not it", sim.secret])
    assert await again.run_async(*sim_args(sim, "other", "--backend", "file")) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("tradetui setup: wrong passphrase for the encrypted credentials file ")
    assert len(again.shown) == 1 and "other" not in read_records()


def test_mismatched_new_passphrases_store_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    answers = Answers([], [PASSPHRASE, PASSPHRASE + "!"])
    assert answers.run("--backend", "file", "--exchange", "sim") == 2
    assert "the two passphrases differ" in capsys.readouterr().err


async def test_the_env_backend_names_the_variables_and_never_prints_values(
    sim: SimInfo, secure: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = Answers([sim.api_key], [sim.secret])
    assert await answers.run_async(*sim_args(sim, "box", "--backend", "env")) == 0
    out, err = capsys.readouterr()
    assert "set TRADETUI_API_KEY, TRADETUI_API_SECRET where tradetui runs" in out
    assert sim.api_key not in out + err and sim.secret not in out + err
    assert secure.entries == {} and read_records()["box"].backend == "env"


async def test_the_env_backend_checks_the_variables_already_set(
    sim: SimInfo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRADETUI_API_KEY", sim.api_key)
    monkeypatch.setenv("TRADETUI_API_SECRET", sim.secret)
    answers = Answers()
    assert await answers.run_async(*sim_args(sim, "box", "--backend", "env")) == 0
    assert answers.shown == []
    assert lookup_credentials("box", "sim-external").credentials is not None
    out = capsys.readouterr().out
    assert "authenticated: yes" in out and sim.secret not in out


async def test_list_masks_keys_and_remove_deletes(
    sim: SimInfo, secure: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await Answers([sim.api_key], [sim.secret]).run_async(*sim_args(sim, "simacct")) == 0
    save_record(AccountRecord("box", "kraken", "env", "ABCD…WXYZ"))
    capsys.readouterr()
    assert Answers().run("--list") == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["ACCOUNT", "VENUE", "BACKEND", "KEY", "NOTES"]
    assert lines[1].split()[:5] == ["box", "kraken", "env", "ABCD…WXYZ", "TRADETUI_API_KEY"]
    masked = f"{sim.api_key[:4]}…{sim.api_key[-4:]}"
    assert lines[2].split() == ["simacct", "sim", "os", masked, sim.rest]
    assert sim.api_key not in out and sim.secret not in out

    declined = Answers(["n"])
    assert declined.run("--remove", "simacct") == 1
    assert "simacct" in declined.shown[0] and "simacct" in read_records()
    assert Answers(["y"]).run("--remove", "simacct") == 0
    assert "simacct" not in read_records() and (SERVICE, "simacct") not in secure.entries
    assert Answers().run("--remove", "box", "--yes") == 0
    assert Answers().run("--list") == 0
    assert "No accounts stored" in capsys.readouterr().out


def test_removing_an_unknown_account_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert Answers().run("--remove", "ghost", "--yes") == 2
    assert capsys.readouterr().err.splitlines() == [
        "tradetui setup: no account 'ghost' is stored (`tradetui setup --list` shows them)"
    ]


def test_a_non_base64_secret_is_rejected_without_echoing_it(
    secure: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    bad_secret = "not base64 at all!"
    args = ["--exchange", "sim", "--sim-url", "http://127.0.0.1:1", "--account", "main"]
    assert Answers(["k" * 20], [bad_secret]).run(*args) == 2
    out, err = capsys.readouterr()
    assert "base64" in err and bad_secret not in out + err
    assert secure.entries == {}


def test_an_unknown_exchange_is_one_line(
    secure: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    assert Answers().run("--exchange", "nosuchexchange") == 2
    assert capsys.readouterr().err.splitlines() == [
        "tradetui setup: unknown exchange 'nosuchexchange': use a ccxt.pro id such as kraken, or sim"
    ]


def test_setup_without_input_exits_cleanly(
    secure: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    assert Answers().run() == 2
    assert "interactive terminal" in capsys.readouterr().err


def test_sandbox_is_offered_where_ccxt_has_one_and_points_the_client_at_it() -> None:
    binance, kraken = describe_venue("binance"), describe_venue("kraken")
    assert binance.has_sandbox and not kraken.has_sandbox
    draft: Draft = make_draft("test", binance, "k" * 20, "s" * 20, sandbox=True)
    exchange_id, config = exchange_config(draft)
    from tradetui.core.venue.loader import pro_exchange_class

    client = pro_exchange_class(exchange_id)(config)  # no request is made
    assert client.urls["api"] == client.urls["test"]


async def test_setting_an_account_up_again_elsewhere_removes_the_old_copy(
    sim: SimInfo, secure: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guards against a secret left behind in a backend nothing reads any more."""
    assert await Answers([sim.api_key], [sim.secret]).run_async(*sim_args(sim, "main")) == 0
    assert (SERVICE, "main") in secure.entries
    monkeypatch.setenv("TRADETUI_KEYRING_PASSPHRASE", PASSPHRASE)
    again = Answers([sim.api_key], [sim.secret])
    assert await again.run_async(*sim_args(sim, "main", "--backend", "file")) == 0
    assert read_records()["main"].backend == "file" and secure.entries == {}


def test_remove_finds_an_account_stored_before_backends_were_recorded(
    secure: MemoryKeyring,
) -> None:
    store_credentials("old", "kraken", "K" * 20, "S" * 20)
    assert Answers().run("--remove", "old", "--yes") == 0
    assert secure.entries == {}
