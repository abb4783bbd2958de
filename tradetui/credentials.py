"""Provides API credential storage in the OS keyring, and a check that the keyring is safe to use."""

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
"""Environment variables that supply credentials in containers and CI (they beat the keyring)."""
INDEX_ENTRY = "__accounts__"
"""Keyring user name under which the JSON list of account names is kept (keyrings can't list)."""
_ACCOUNT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

NO_BACKEND_ADVICE = (
    "no usable keyring backend was found: install and start a Secret Service "
    "(e.g. gnome-keyring) or install an encrypted file keyring such as keyrings.cryptfile, "
    "then run `tradetui setup` again"
)
PLAINTEXT_ADVICE = (
    "the keyring backend {name} stores secrets unencrypted: install and start a Secret Service "
    "(e.g. gnome-keyring), use an encrypted file keyring such as keyrings.cryptfile, "
    "or pass --allow-plaintext to accept the risk"
)


class CredentialsError(Exception):
    """A keyring problem the user can fix, with a one-line message."""


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
    """Show only enough of an API key to recognise it: ``abcd…yz`` (``***`` when short)."""
    if len(api_key) < 12:
        return "***"
    return f"{api_key[:4]}…{api_key[-2:]}"


@dataclass(frozen=True)
class BackendReport:
    """What the active keyring backend is and whether tradetui should store secrets in it."""

    ok: bool
    """True when secrets are stored encrypted or in an OS credential store."""
    plaintext: bool
    """True when the backend works but keeps secrets unencrypted (allowed with --allow-plaintext)."""
    name: str
    advice: str
    """One sentence saying what to do instead; empty when ok."""


def keyring_backend_report() -> BackendReport:
    """Inspect the active keyring backend (see keyring_backend_status)."""
    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # a broken keyring config file raises here
        return BackendReport(False, False, f"unavailable ({redact(str(exc))})", NO_BACKEND_ADVICE)
    return _classify(backend)


def keyring_backend_status() -> tuple[bool, str, str]:
    """Return (ok, backend name, one-sentence advice) for the active keyring backend.

    Not ok: the fail and null backends, a chainer with nothing viable to chain, and plaintext
    backends (keyrings.alt's PlaintextKeyring, or any backend whose class or module name says
    "plaintext", or that sets a true ``plaintext`` attribute).
    """
    report = keyring_backend_report()
    return report.ok, report.name, report.advice


def _classify(backend: KeyringBackend) -> BackendReport:
    name = f"{type(backend).__module__}.{type(backend).__qualname__}"
    if isinstance(backend, chainer.ChainerBackend):
        chained = list(backend.backends)
        if not chained:
            return BackendReport(False, False, name, NO_BACKEND_ADVICE)
        # The chainer writes to the first chained backend that accepts the write.
        return _classify(chained[0])
    if isinstance(backend, fail.Keyring | null.Keyring):
        return BackendReport(False, False, name, NO_BACKEND_ADVICE)
    if _is_plaintext(backend):
        return BackendReport(False, True, name, PLAINTEXT_ADVICE.format(name=name))
    return BackendReport(True, False, name, "")


def _is_plaintext(backend: KeyringBackend) -> bool:
    if getattr(backend, "plaintext", False) is True:
        return True
    cls = type(backend)
    return "plaintext" in f"{cls.__module__}.{cls.__qualname__}".lower()


def _check_account(account: str) -> str:
    if not _ACCOUNT_NAME.fullmatch(account):
        raise CredentialsError(
            f"account name {account!r} is not valid: use up to 64 letters, digits, '.', '_' or '-'"
        )
    return account


def _keyring_failure(action: str, exc: Exception) -> CredentialsError:
    ok, name, advice = keyring_backend_status()
    hint = advice if not ok and advice else redact(str(exc)) or type(exc).__name__
    return CredentialsError(f"could not {action} in keyring {name}: {hint}")


def _read_index() -> list[str]:
    raw = keyring.get_password(SERVICE, INDEX_ENTRY)
    if not raw:
        return []
    try:
        names = json.loads(raw)
    except json.JSONDecodeError:
        return []  # rebuilt on the next store; a lost index only hides names from listing
    return sorted({n for n in names if isinstance(n, str)}) if isinstance(names, list) else []


def _write_index(names: list[str]) -> None:
    keyring.set_password(SERVICE, INDEX_ENTRY, json.dumps(sorted(set(names))))


def store_credentials(
    account: str, exchange: str, api_key: str, secret: str, passphrase: str | None = None
) -> Credentials:
    """Store one account's credentials (replacing any) and add it to the account index."""
    _check_account(account)
    credentials = Credentials(exchange.strip(), api_key.strip(), secret.strip(), passphrase)
    if not credentials.exchange or not credentials.api_key or not credentials.secret:
        raise CredentialsError("exchange, API key and secret must all be given")
    _register(credentials)
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
        keyring.set_password(SERVICE, account, blob)
        _write_index([*_read_index(), account])
    except keyring.errors.KeyringError as exc:
        raise _keyring_failure("store credentials", exc) from None
    return credentials


def credentials_from_env() -> Credentials | None:
    """Credentials from TRADETUI_API_KEY / TRADETUI_API_SECRET (+ passphrase), if both are set."""
    api_key, secret = os.environ.get(ENV_API_KEY), os.environ.get(ENV_SECRET)
    if not api_key or not secret:
        return None
    credentials = Credentials("env", api_key, secret, os.environ.get(ENV_PASSPHRASE) or None)
    _register(credentials)
    return credentials


def load_credentials(account: str) -> Credentials | None:
    """Return the stored credentials of ``account``, or None when there are none.

    No keyring backend at all also gives None; a keyring that exists but fails (locked, D-Bus
    errors) raises CredentialsError with a one-line message.
    """
    _check_account(account)
    try:
        raw = keyring.get_password(SERVICE, account)
    except keyring.errors.NoKeyringError:
        # No keyring at all holds nothing: paper trading must still work on a bare server.
        return None
    except keyring.errors.KeyringError as exc:
        raise _keyring_failure("read credentials", exc) from None
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
    _register(credentials)
    return credentials


def delete_credentials(account: str) -> bool:
    """Remove ``account``'s credentials; return False when there were none."""
    _check_account(account)
    try:
        existed = keyring.get_password(SERVICE, account) is not None
        if existed:
            try:
                keyring.delete_password(SERVICE, account)
            except keyring.errors.PasswordDeleteError:
                existed = False  # gone in between, e.g. removed with the OS's keyring tool
        names = _read_index()
        if account in names:
            names.remove(account)
            _write_index(names)
    except keyring.errors.KeyringError as exc:
        raise _keyring_failure("delete credentials", exc) from None
    return existed


def list_accounts() -> list[str]:
    """Names of the accounts with stored credentials, sorted."""
    try:
        return _read_index()
    except keyring.errors.NoKeyringError:
        return []
    except keyring.errors.KeyringError as exc:
        raise _keyring_failure("list accounts", exc) from None


def _register(credentials: Credentials) -> None:
    # Anything that ever held these values in memory may log them: mask them everywhere.
    for value in (credentials.api_key, credentials.secret, credentials.passphrase):
        if value:
            register_secret(value)
