"""Tests keyring credential storage, backend safety detection and the `tradetui setup` wizard."""

from __future__ import annotations

import builtins
import getpass
from collections.abc import Iterator

import keyring
import keyring.errors
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null

from tradetui import setup_cli
from tradetui.credentials import (
    SERVICE,
    Credentials,
    CredentialsError,
    delete_credentials,
    keyring_backend_status,
    list_accounts,
    load_credentials,
    store_credentials,
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


@pytest.fixture
def use_keyring() -> Iterator[None]:
    original = keyring.get_keyring()
    yield
    keyring.set_keyring(original)


@pytest.fixture
def secure(use_keyring: object) -> MemoryKeyring:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture
def plaintext(use_keyring: object) -> PlaintextKeyring:
    backend = PlaintextKeyring()
    keyring.set_keyring(backend)
    return backend


class Prompts:
    """Answers input() and getpass() from scripted replies and records the prompts shown."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, inputs: list[str], secrets: list[str]):
        self.inputs, self.secrets, self.shown = list(inputs), list(secrets), []
        monkeypatch.setattr(builtins, "input", self._input)
        monkeypatch.setattr(getpass, "getpass", self._getpass)

    def _input(self, prompt: str = "") -> str:
        self.shown.append(prompt)
        if not self.inputs:
            raise EOFError
        return self.inputs.pop(0)

    def _getpass(self, prompt: str = "Password: ", stream: object = None) -> str:
        self.shown.append(prompt)
        if not self.secrets:
            raise EOFError
        return self.secrets.pop(0)


def test_store_load_list_delete_round_trip(secure: MemoryKeyring) -> None:
    store_credentials("main", "kraken", API_KEY, SECRET)
    store_credentials("alt", "okx", "k" * 20, "s" * 20, passphrase="pp-123456")
    assert list_accounts() == ["alt", "main"]
    assert load_credentials("main") == Credentials("kraken", API_KEY, SECRET)
    assert load_credentials("alt") == Credentials("okx", "k" * 20, "s" * 20, "pp-123456")
    assert delete_credentials("main") is True
    assert delete_credentials("main") is False
    assert load_credentials("main") is None
    assert list_accounts() == ["alt"]
    assert all(service == SERVICE for service, _ in secure.entries)


def test_repr_and_str_mask_key_and_secret() -> None:
    credentials = Credentials("kraken", API_KEY, SECRET, "my-passphrase")
    for text in (repr(credentials), str(credentials), f"{credentials}"):
        assert API_KEY not in text and SECRET not in text and "my-passphrase" not in text
        assert "AKxu…tZ" in text and "kraken" in text


def test_loaded_secrets_are_masked_in_logs(secure: MemoryKeyring) -> None:
    store_credentials("main", "kraken", API_KEY, SECRET)
    assert redact(f"signing with {SECRET} for {API_KEY}") == "signing with *** for ***"


def test_invalid_account_name_is_a_user_error(secure: MemoryKeyring) -> None:
    with pytest.raises(CredentialsError, match="not valid"):
        store_credentials("__accounts__", "kraken", API_KEY, SECRET)


def test_unreadable_entry_says_to_run_setup_again(secure: MemoryKeyring) -> None:
    secure.set_password(SERVICE, "main", "not json")
    with pytest.raises(CredentialsError, match="tradetui setup --account main"):
        load_credentials("main")


def test_failing_backend_gives_one_sentence_not_a_traceback(use_keyring: object) -> None:
    keyring.set_keyring(fail.Keyring())
    with pytest.raises(CredentialsError, match="Secret Service"):
        store_credentials("main", "kraken", API_KEY, SECRET)


def test_no_backend_reads_as_no_credentials(use_keyring: object) -> None:
    """Guards paper trading on a server without any keyring: reading must not raise."""
    keyring.set_keyring(fail.Keyring())
    assert load_credentials("main") is None
    assert list_accounts() == []


def test_status_secure_backend_is_ok(secure: MemoryKeyring) -> None:
    ok, name, advice = keyring_backend_status()
    assert ok and name.endswith("MemoryKeyring") and advice == ""


@pytest.mark.parametrize("backend_class", [PlaintextKeyring, FlaggedKeyring])
def test_status_plaintext_backend_is_not_ok_and_says_what_to_do(
    use_keyring: object, backend_class: type[KeyringBackend]
) -> None:
    keyring.set_keyring(backend_class())
    ok, name, advice = keyring_backend_status()
    assert not ok and name.endswith(backend_class.__name__)
    assert "encrypted file keyring" in advice and "--allow-plaintext" in advice


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()])
def test_status_fail_and_null_backends_are_not_ok(
    use_keyring: object, backend: KeyringBackend
) -> None:
    keyring.set_keyring(backend)
    ok, _, advice = keyring_backend_status()
    assert not ok and "Secret Service" in advice and "--allow-plaintext" not in advice


def test_status_chainer_judges_what_it_chains(
    use_keyring: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyring.set_keyring(chainer.ChainerBackend())
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [])
    assert keyring_backend_status()[0] is False
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [PlaintextKeyring(), MemoryKeyring()])
    ok, name, _ = keyring_backend_status()
    assert not ok and name.endswith("PlaintextKeyring")
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [MemoryKeyring()])
    assert keyring_backend_status()[0] is True


def test_setup_stores_on_a_secure_backend_and_never_prints_the_secret(
    secure: MemoryKeyring, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    prompts = Prompts(monkeypatch, inputs=["", "", API_KEY], secrets=[SECRET])
    assert setup_cli.main([]) == 0
    assert load_credentials("default") == Credentials("sim", API_KEY, SECRET)
    captured = capsys.readouterr()
    assert SECRET not in captured.out + captured.err + "".join(prompts.shown)
    assert API_KEY not in captured.out + captured.err
    lines = captured.out.strip().splitlines()
    assert len(lines) == 1 and "AKxu…tZ" in lines[0] and "'default'" in lines[0]
    assert any("secret" in prompt.lower() for prompt in prompts.shown[3:])  # asked via getpass


def test_setup_refuses_a_plaintext_backend_before_asking_anything(
    plaintext: PlaintextKeyring, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    prompts = Prompts(monkeypatch, inputs=[API_KEY], secrets=[SECRET])
    assert setup_cli.main(["--exchange", "sim", "--account", "main"]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "--allow-plaintext" in captured.err
    assert prompts.shown == []
    assert plaintext.entries == {}


def test_setup_accepts_a_plaintext_backend_with_the_flag(
    plaintext: PlaintextKeyring, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    Prompts(monkeypatch, inputs=[API_KEY], secrets=[SECRET])
    args = ["--exchange", "sim", "--account", "main", "--allow-plaintext"]
    assert setup_cli.main(args) == 0
    assert load_credentials("main") == Credentials("sim", API_KEY, SECRET)
    captured = capsys.readouterr()
    assert SECRET not in captured.out + captured.err
    assert "unencrypted" in captured.err


def test_setup_refuses_a_failing_backend_even_with_the_flag(
    use_keyring: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    keyring.set_keyring(fail.Keyring())
    Prompts(monkeypatch, inputs=[API_KEY], secrets=[SECRET])
    assert setup_cli.main(["--exchange", "sim", "--allow-plaintext"]) == 2
    assert "Secret Service" in capsys.readouterr().err


def test_setup_rejects_a_non_base64_secret_without_echoing_it(
    secure: MemoryKeyring, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad_secret = "not base64 at all!"
    Prompts(monkeypatch, inputs=[API_KEY], secrets=[bad_secret])
    assert setup_cli.main(["--exchange", "sim", "--account", "main"]) == 2
    captured = capsys.readouterr()
    assert "base64" in captured.err and bad_secret not in captured.out + captured.err
    assert secure.entries == {}


def test_setup_without_input_exits_cleanly(
    secure: MemoryKeyring, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    Prompts(monkeypatch, inputs=[], secrets=[])
    assert setup_cli.main([]) == 2
    assert "interactive terminal" in capsys.readouterr().err
