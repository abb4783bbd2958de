"""Tests credential entries, the OS keyring check, the encrypted file backend and live-mode lookup."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.errors
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null
from keyrings.cryptfile.cryptfile import CryptFileKeyring

from tradetui.credentials import stores as keyring_backends
from tradetui.credentials.records import (
    SERVICE,
    Credentials,
    CredentialsError,
    delete_credentials,
    keyring_backend_report,
    load_credentials,
    mask_key,
    os_keyring,
    store_credentials,
)
from tradetui.credentials.stores import (
    AccountRecord,
    lookup_credentials,
    missing_credentials_message,
    open_file_store,
    read_records,
    save_record,
)
from tradetui.logs import redact

API_KEY = "AKxu3nYb8Q2pLm7vR4tZ"
SECRET = "c2VjcmV0LXNlY3JldA=="  # valid base64, short enough that only registration can mask it


class MemoryKeyring(KeyringBackend):
    """A working, secure-looking keyring that keeps entries in a dict."""

    # Negative priority keeps this class out of keyring's own backend auto-detection, which
    # sees every KeyringBackend subclass defined in the process.
    priority = -5

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.entries[(service, username)]
        except KeyError:
            raise keyring.errors.PasswordDeleteError(username) from None


class PlaintextKeyring(MemoryKeyring):
    """Stands in for keyrings.alt.file.PlaintextKeyring: recognised by its class name."""


class FlaggedKeyring(MemoryKeyring):
    """A backend that declares itself unencrypted through the ``plaintext`` attribute."""

    plaintext = True


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Never the user's keyring, records or environment: a tmp dir and a restored keyring."""
    monkeypatch.setenv("TRADETUI_CREDENTIALS_DIR", str(tmp_path / "creds"))
    for name in (
        "TRADETUI_API_KEY",
        "TRADETUI_API_SECRET",
        "TRADETUI_API_PASSPHRASE",
        "TRADETUI_KEYRING_PASSPHRASE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(keyring_backends, "_last_problems", {})
    monkeypatch.setattr(keyring_backends, "_remembered_passphrase", None)
    original = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(original)


@pytest.fixture(autouse=True)
def quick_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at a test cost, not cryptfile's 15 passes over 64 MiB on two threads (a second of
    CPU for every entry read or written). These tests check what is stored, found and refused,
    not how hard a passphrase is to guess; the files they write are read in this process only."""
    monkeypatch.setattr(CryptFileKeyring, "time_cost", 1)
    monkeypatch.setattr(CryptFileKeyring, "memory_cost", 2**10)


@pytest.fixture
def secure() -> MemoryKeyring:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


def test_store_load_delete_round_trip(secure: MemoryKeyring) -> None:
    store_credentials("main", "kraken", API_KEY, SECRET)
    store_credentials("alt", "okx", "k" * 20, "s" * 20, passphrase="pp-123456")
    assert load_credentials("main") == Credentials("kraken", API_KEY, SECRET)
    assert load_credentials("alt") == Credentials("okx", "k" * 20, "s" * 20, "pp-123456")
    assert delete_credentials("main") is True
    assert delete_credentials("main") is False
    assert load_credentials("main") is None
    assert all(service == SERVICE for service, _ in secure.entries)


def test_repr_and_str_mask_key_and_secret() -> None:
    credentials = Credentials("kraken", API_KEY, SECRET, "my-passphrase")
    for text in (repr(credentials), str(credentials), f"{credentials}"):
        assert API_KEY not in text and SECRET not in text and "my-passphrase" not in text
        assert "AKxu…R4tZ" in text and "kraken" in text


def test_mask_key_shows_at_most_eight_characters() -> None:
    assert mask_key(API_KEY) == "AKxu…R4tZ"
    assert mask_key("short-key-123") == "***"


def test_loaded_secrets_are_masked_in_logs(secure: MemoryKeyring) -> None:
    store_credentials("main", "kraken", API_KEY, SECRET)
    assert redact(f"signing with {SECRET} for {API_KEY}") == "signing with *** for ***"


def test_invalid_account_name_is_a_user_error(secure: MemoryKeyring) -> None:
    with pytest.raises(CredentialsError, match="not valid"):
        store_credentials("../etc", "kraken", API_KEY, SECRET)


def test_unreadable_entry_says_to_run_setup_again(secure: MemoryKeyring) -> None:
    secure.set_password(SERVICE, "main", "not json")
    with pytest.raises(CredentialsError, match="tradetui setup --account main"):
        load_credentials("main")


def test_no_os_keyring_reads_as_no_credentials_and_refuses_to_store() -> None:
    """Guards paper trading on a server without any keyring: reading must not raise."""
    assert load_credentials("main") is None
    with pytest.raises(CredentialsError, match="--backend file"):
        store_credentials("main", "kraken", API_KEY, SECRET)


def test_secure_backend_is_ok(secure: MemoryKeyring) -> None:
    report = keyring_backend_report()
    assert report.ok and report.name.endswith("MemoryKeyring") and report.advice == ""


@pytest.mark.parametrize("backend_class", [PlaintextKeyring, FlaggedKeyring])
def test_plaintext_backend_is_not_ok_and_says_what_to_do(
    backend_class: type[KeyringBackend],
) -> None:
    keyring.set_keyring(backend_class())
    report = keyring_backend_report()
    assert not report.ok and report.plaintext and report.name.endswith(backend_class.__name__)
    assert "--backend file" in report.advice and "--allow-plaintext" in report.advice


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()])
def test_fail_and_null_backends_are_no_os_keyring(backend: KeyringBackend) -> None:
    keyring.set_keyring(backend)
    found, report = os_keyring()
    assert found is None and not report.ok
    assert "no OS keyring" in report.advice and "--allow-plaintext" not in report.advice


def test_chainer_judges_what_it_chains(monkeypatch: pytest.MonkeyPatch) -> None:
    keyring.set_keyring(chainer.ChainerBackend())
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [])
    assert os_keyring()[0] is None
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [PlaintextKeyring(), MemoryKeyring()])
    report = keyring_backend_report()
    assert not report.ok and report.name.endswith("PlaintextKeyring")
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [MemoryKeyring()])
    assert keyring_backend_report().ok


def test_chainer_skips_passphrase_file_keyrings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards against keyring's auto-detected chain writing to keyrings.cryptfile's default file,
    which would ask for its own passphrase from inside the library."""
    keyring.set_keyring(chainer.ChainerBackend())
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [CryptFileKeyring()])
    assert os_keyring()[0] is None
    memory = MemoryKeyring()
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [CryptFileKeyring(), memory])
    assert os_keyring()[0] is memory


def test_the_encrypted_file_is_private_and_holds_nothing_in_clear(tmp_path: Path) -> None:
    path = tmp_path / "creds" / "credentials.cfg"
    store = open_file_store("correct horse", path)
    store.save("main", Credentials("kraken", API_KEY, SECRET, "api-passphrase"))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    text = path.read_text()
    assert API_KEY not in text and SECRET not in text and "api-passphrase" not in text
    reopened = open_file_store("correct horse", path)
    assert reopened.load("main") == Credentials("kraken", API_KEY, SECRET, "api-passphrase")


def test_a_wrong_or_empty_file_passphrase_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "creds" / "credentials.cfg"
    open_file_store("correct horse", path).save("main", Credentials("kraken", API_KEY, SECRET))
    with pytest.raises(CredentialsError) as wrong:
        open_file_store("battery staple", path)
    assert str(wrong.value) == f"wrong passphrase for the encrypted credentials file {path}"
    with pytest.raises(CredentialsError, match="must not be empty"):
        open_file_store("  ", path)


def test_records_hold_no_secret_and_are_private(tmp_path: Path) -> None:
    save_record(AccountRecord("main", "kraken", "os", mask_key(API_KEY)))
    path = tmp_path / "creds" / "accounts.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert API_KEY not in path.read_text() and "AKxu…R4tZ" in path.read_text()
    assert read_records()["main"].backend == "os"


def test_live_mode_reads_only_the_recorded_backend(
    secure: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_credentials("main", "kraken", API_KEY, SECRET)
    save_record(AccountRecord("main", "kraken", "os", mask_key(API_KEY)))
    monkeypatch.setenv("TRADETUI_API_KEY", "E" * 20)
    monkeypatch.setenv("TRADETUI_API_SECRET", "F" * 20)
    assert lookup_credentials("main", "kraken").credentials == Credentials(
        "kraken", API_KEY, SECRET
    )
    # Without a record (a container that only sets the variables) the environment is used.
    assert lookup_credentials("other", "kraken").credentials == Credentials(
        "env", "E" * 20, "F" * 20
    )


def test_an_env_account_without_its_variables_names_them() -> None:
    save_record(AccountRecord("box", "kraken", "env", mask_key(API_KEY)))
    found = lookup_credentials("box", "kraken")
    assert found.credentials is None
    assert "TRADETUI_API_KEY and TRADETUI_API_SECRET are not both set" in found.problem
    assert missing_credentials_message("box") == found.problem


def test_a_file_account_needs_its_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    open_file_store("correct horse").save("vault", Credentials("kraken", API_KEY, SECRET))
    save_record(AccountRecord("vault", "kraken", "file", mask_key(API_KEY)))
    found = lookup_credentials("vault", "kraken")
    assert found.credentials is None and "set TRADETUI_KEYRING_PASSPHRASE" in found.problem
    monkeypatch.setenv("TRADETUI_KEYRING_PASSPHRASE", "nope")
    assert "wrong passphrase" in lookup_credentials("vault", "kraken").problem
    monkeypatch.setenv("TRADETUI_KEYRING_PASSPHRASE", "correct horse")
    assert lookup_credentials("vault", "kraken").credentials == Credentials(
        "kraken", API_KEY, SECRET
    )


def test_credentials_for_another_venue_are_not_used(secure: MemoryKeyring) -> None:
    store_credentials("main", "kraken", API_KEY, SECRET)
    save_record(AccountRecord("main", "kraken", "os", mask_key(API_KEY)))
    found = lookup_credentials("main", "binance")
    assert found.credentials is None
    assert found.problem.startswith("account 'main' holds kraken credentials, not binance")


def test_a_missing_account_names_it_and_says_run_setup() -> None:
    found = lookup_credentials("ghost", "kraken")
    assert found.credentials is None
    assert found.problem.startswith("no credentials stored for account 'ghost'")
    assert "`tradetui setup --account ghost`" in found.problem


def test_the_sandbox_choice_reaches_live_mode(secure: MemoryKeyring) -> None:
    store_credentials("test", "binance", API_KEY, SECRET)
    save_record(AccountRecord("test", "binance", "os", mask_key(API_KEY), sandbox=True))
    found = lookup_credentials("test", "binance")
    assert found.credentials is not None and found.sandbox


def test_a_terminal_front_end_knows_when_to_ask_for_the_file_passphrase(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    save_record(AccountRecord("vault", "kraken", "file", mask_key(API_KEY)))
    save_record(AccountRecord("main", "kraken", "os", mask_key(API_KEY)))
    assert keyring_backends.needs_file_passphrase("vault")
    assert not keyring_backends.needs_file_passphrase("main")
    assert not keyring_backends.needs_file_passphrase("ghost")
    keyring_backends.remember_file_passphrase("typed at start-up")
    assert not keyring_backends.needs_file_passphrase("vault")
