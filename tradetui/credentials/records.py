"""Provides API credentials: the masked `Credentials` type, the OS keyring check and keyring entries."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass

import keyring
import keyring.errors
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null

from tradetui.logs import redact, register_secret

SERVICE = "tradetui"
ENV_API_KEY, ENV_SECRET, ENV_PASSPHRASE = (
    "TRADETUI_API_KEY",
    "TRADETUI_API_SECRET",
    "TRADETUI_API_PASSPHRASE",
)
"""Environment variables that supply credentials in containers and CI (the `env` backend)."""
_ACCOUNT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

NO_OS_KEYRING_ADVICE = (
    "no OS keyring is available here (no Secret Service, KWallet, macOS or Windows keyring): "
    "use --backend file (an encrypted file protected by a passphrase) "
    "or --backend env (environment variables, for containers)"
)
PLAINTEXT_ADVICE = (
    "the keyring backend {name} stores secrets unencrypted: use --backend file "
    "(an encrypted file protected by a passphrase) or --backend env, "
    "or pass --allow-plaintext to accept the risk"
)


class CredentialsError(Exception):
    """A credentials problem the user can fix, with a one-line message."""


@dataclass(frozen=True, repr=False)
class Credentials:
    """API credentials of one account; repr and str never show the key or the secret."""

    exchange: str
    api_key: str
    secret: str
    passphrase: str | None = None

    def __repr__(self) -> str:
        passphrase = "None" if self.passphrase is None else "'***'"
        return (
            f"Credentials(exchange={self.exchange!r}, api_key={mask_key(self.api_key)!r}, "
            f"secret='***', passphrase={passphrase})"
        )

    __str__ = __repr__


def mask_key(api_key: str) -> str:
    """Show only enough of an API key to recognise it: ``abcd…wxyz`` (``***`` when short)."""
    if len(api_key) < 16:
        return "***"
    return f"{api_key[:4]}…{api_key[-4:]}"


def check_account_name(account: str) -> str:
    """Return ``account`` if it is a valid account name; raise CredentialsError if not."""
    if not _ACCOUNT_NAME.fullmatch(account):
        raise CredentialsError(
            f"account name {account!r} is not valid: use up to 64 letters, digits, '.', '_' or '-'"
        )
    return account


def register_credentials(credentials: Credentials) -> None:
    """Mask the key, secret and passphrase in every log line from now on."""
    for value in (credentials.api_key, credentials.secret, credentials.passphrase):
        if value:
            register_secret(value)


@dataclass(frozen=True)
class BackendReport:
    """What the OS keyring backend is and whether tradetui should store secrets in it."""

    ok: bool
    """True when secrets are stored encrypted by an OS credential store."""
    plaintext: bool
    """True when the backend works but keeps secrets unencrypted (allowed with --allow-plaintext)."""
    name: str
    advice: str
    """One sentence saying what to do instead; empty when ok."""


def os_keyring() -> tuple[KeyringBackend | None, BackendReport]:
    """The OS keyring backend (None when there is none) and what it is. May block: D-Bus probes.

    Passphrase-protected file keyrings (keyrings.cryptfile, keyrings.alt) are not OS keyrings:
    keyring's auto-detection chains them in as soon as they are installed, and they would ask
    for their passphrase on the terminal from inside the library. They are the `file` backend.
    """
    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # a broken keyring config file raises here
        report = BackendReport(False, False, f"unavailable ({redact(str(exc))})", "")
        return None, _with_advice(report)
    return _pick_os(backend)


def keyring_backend_report() -> BackendReport:
    """What the OS keyring is and whether it is safe to use (see os_keyring)."""
    return os_keyring()[1]


def _with_advice(report: BackendReport) -> BackendReport:
    advice = PLAINTEXT_ADVICE.format(name=report.name) if report.plaintext else NO_OS_KEYRING_ADVICE
    return BackendReport(report.ok, report.plaintext, report.name, "" if report.ok else advice)


def _pick_os(backend: KeyringBackend) -> tuple[KeyringBackend | None, BackendReport]:
    name = f"{type(backend).__module__}.{type(backend).__qualname__}"
    if isinstance(backend, chainer.ChainerBackend):
        chained = [b for b in backend.backends if not _is_passphrase_file_keyring(b)]
        if not chained:
            return None, _with_advice(BackendReport(False, False, name, ""))
        # Used directly rather than through the chainer, so a write never lands elsewhere.
        return _pick_os(chained[0])
    if isinstance(backend, fail.Keyring | null.Keyring) or _is_passphrase_file_keyring(backend):
        return None, _with_advice(BackendReport(False, False, name, ""))
    if _is_plaintext(backend):
        return backend, _with_advice(BackendReport(False, True, name, ""))
    return backend, BackendReport(True, False, name, "")


def _is_passphrase_file_keyring(backend: KeyringBackend) -> bool:
    # keyrings.cryptfile's and keyrings.alt's encrypted file keyrings hold their passphrase here.
    return hasattr(type(backend), "keyring_key")


def _is_plaintext(backend: KeyringBackend) -> bool:
    if getattr(backend, "plaintext", False) is True:
        return True
    cls = type(backend)
    return "plaintext" in f"{cls.__module__}.{cls.__qualname__}".lower()


def _keyring_failure(action: str, backend: KeyringBackend, exc: Exception) -> CredentialsError:
    name = f"{type(backend).__module__}.{type(backend).__qualname__}"
    hint = redact(str(exc)) or type(exc).__name__
    return CredentialsError(f"could not {action} in keyring {name}: {hint}")


def write_entry(backend: KeyringBackend, account: str, credentials: Credentials) -> None:
    """Store ``account``'s credentials in ``backend``, replacing any. Blocks (D-Bus, file, KDF)."""
    check_account_name(account)
    register_credentials(credentials)
    # One JSON entry per account, so key and secret are replaced together or not at all.
    blob = json.dumps(
        {
            "exchange": credentials.exchange,
            "api_key": credentials.api_key,
            "secret": credentials.secret,
            "passphrase": credentials.passphrase,
        }
    )
    try:
        backend.set_password(SERVICE, account, blob)
    except (keyring.errors.KeyringError, OSError) as exc:
        raise _keyring_failure("store credentials", backend, exc) from None


def read_entry(backend: KeyringBackend, account: str) -> Credentials | None:
    """``account``'s credentials in ``backend``, or None. Blocks (D-Bus, file, KDF)."""
    check_account_name(account)
    try:
        raw = backend.get_password(SERVICE, account)
    except keyring.errors.NoKeyringError:
        return None
    except (keyring.errors.KeyringError, OSError, ValueError) as exc:  # ValueError: bad MAC
        raise _keyring_failure("read credentials", backend, exc) from None
    if raw is None:
        return None
    try:
        fields = json.loads(raw)
        credentials = Credentials(
            str(fields["exchange"]),
            str(fields["api_key"]),
            str(fields["secret"]),
            None if fields.get("passphrase") is None else str(fields["passphrase"]),
        )
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
        raise CredentialsError(
            f"stored credentials of account {account!r} are unreadable; "
            f"run `tradetui setup --account {account}` again"
        ) from None
    register_credentials(credentials)
    return credentials


def delete_entry(backend: KeyringBackend, account: str) -> bool:
    """Remove ``account``'s entry from ``backend``; False when there was none."""
    check_account_name(account)
    try:
        backend.delete_password(SERVICE, account)
    except keyring.errors.PasswordDeleteError:
        return False  # never stored, or removed with the OS's own keyring tool
    except (keyring.errors.KeyringError, OSError) as exc:
        raise _keyring_failure("delete credentials", backend, exc) from None
    return True


def credentials_from_env() -> Credentials | None:
    """Credentials from TRADETUI_API_KEY / TRADETUI_API_SECRET (+ passphrase), if both are set."""
    api_key, secret = os.environ.get(ENV_API_KEY), os.environ.get(ENV_SECRET)
    if not api_key or not secret:
        return None
    credentials = Credentials("env", api_key, secret, os.environ.get(ENV_PASSPHRASE) or None)
    register_credentials(credentials)
    return credentials


def store_credentials(
    account: str, exchange: str, api_key: str, secret: str, passphrase: str | None = None
) -> Credentials:
    """Store one account's credentials in the OS keyring (see os_keyring)."""
    credentials = Credentials(exchange.strip(), api_key.strip(), secret.strip(), passphrase)
    if not credentials.exchange or not credentials.api_key or not credentials.secret:
        raise CredentialsError("exchange, API key and secret must all be given")
    backend, report = os_keyring()
    if backend is None:
        raise CredentialsError(report.advice)
    write_entry(backend, account, credentials)
    return credentials


def load_credentials(account: str) -> Credentials | None:
    """``account``'s credentials in the OS keyring; None when there are none or no OS keyring.

    A keyring that exists but fails (locked, D-Bus errors) raises CredentialsError.
    """
    backend, _ = os_keyring()
    return None if backend is None else read_entry(backend, account)


def delete_credentials(account: str) -> bool:
    """Remove ``account``'s credentials from the OS keyring; False when there were none."""
    backend, _ = os_keyring()
    return False if backend is None else delete_entry(backend, account)
