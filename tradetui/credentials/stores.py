"""Provides the three places credentials live (OS keyring, encrypted file, environment) and the
record of which one holds each account, so live mode reads from the backend setup chose."""

from __future__ import annotations

import configparser
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal, Protocol

import platformdirs
from keyring.backend import KeyringBackend

from tradetui.credentials.records import (
    ENV_API_KEY,
    ENV_PASSPHRASE,
    ENV_SECRET,
    Credentials,
    CredentialsError,
    check_account_name,
    credentials_from_env,
    delete_entry,
    os_keyring,
    read_entry,
    write_entry,
)
from tradetui.logs import register_secret

BackendKind = Literal["os", "file", "env"]
BACKENDS: tuple[BackendKind, ...] = ("os", "file", "env")
ENV_KEYRING_PASSPHRASE = "TRADETUI_KEYRING_PASSPHRASE"  # nosec B105
"""Passphrase of the encrypted credentials file, for runs that cannot ask for it."""
ENV_CREDENTIALS_DIR = "TRADETUI_CREDENTIALS_DIR"
"""Overrides where the account records and the encrypted credentials file live."""
RECORDS_FILE, FILE_KEYRING = "accounts.json", "credentials.cfg"

_remembered_passphrase: str | None = None
_last_problems: dict[str, str] = {}
"""Why the last lookup of each account found nothing, for the refusal to go live."""


def credentials_dir() -> Path:
    """Where account records and the encrypted credentials file live (per user)."""
    override = os.environ.get(ENV_CREDENTIALS_DIR)
    return Path(override) if override else Path(platformdirs.user_config_dir("tradetui"))


def file_keyring_path() -> Path:
    """The encrypted credentials file of the `file` backend."""
    return credentials_dir() / FILE_KEYRING


def _private_dir(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(directory, 0o700)


@dataclass(frozen=True)
class AccountRecord:
    """What setup stored for one account; holds no secret, so it lives in a plain file."""

    account: str
    venue: str
    """``sim`` or a ccxt exchange id."""
    backend: BackendKind
    key_hint: str
    """The masked API key (``abcd…wxyz``), so listing never needs to unlock anything."""
    sandbox: bool = False
    """Trade the exchange's sandbox/testnet (ccxt ``set_sandbox_mode``)."""
    sim_url: str = ""
    """REST URL of the simulator the key was checked against (venue ``sim`` only)."""


def read_records() -> dict[str, AccountRecord]:
    """Every account record, by name ({} before the first setup)."""
    path = credentials_dir() / RECORDS_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {name: AccountRecord(**fields) for name, fields in raw["accounts"].items()}
    except FileNotFoundError:
        return {}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise CredentialsError(
            f"the account list {path} is unreadable: delete it and run `tradetui setup` again"
        ) from None


def _write_records(records: dict[str, AccountRecord]) -> None:
    directory = credentials_dir()
    _private_dir(directory)
    path, partial = directory / RECORDS_FILE, directory / (RECORDS_FILE + ".partial")
    body = {"accounts": {name: asdict(record) for name, record in sorted(records.items())}}
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(body, out, indent=2, ensure_ascii=False)
    os.replace(partial, path)  # atomic: a crash leaves the old list or the new one


def save_record(record: AccountRecord) -> None:
    """Add or replace one account record."""
    _write_records({**read_records(), record.account: record})


def remove_record(account: str) -> bool:
    """Drop one account record; False when there was none."""
    records = read_records()
    if records.pop(account, None) is None:
        return False
    _write_records(records)
    return True


class CredentialStore(Protocol):
    """One backend, opened: where setup saves and live mode loads an account's credentials."""

    kind: BackendKind
    where: str
    """Human description, e.g. ``the encrypted file ~/.config/tradetui/credentials.cfg``."""

    def save(self, account: str, credentials: Credentials) -> None: ...
    def load(self, account: str) -> Credentials | None: ...
    def delete(self, account: str) -> bool: ...


@dataclass
class KeyringStore:
    """The `os` or `file` backend: a keyring backend object. Every call blocks."""

    kind: BackendKind
    backend: KeyringBackend
    where: str

    def save(self, account: str, credentials: Credentials) -> None:
        write_entry(self.backend, account, credentials)

    def load(self, account: str) -> Credentials | None:
        return read_entry(self.backend, account)

    def delete(self, account: str) -> bool:
        return delete_entry(self.backend, account)


@dataclass
class EnvStore:
    """The `env` backend: nothing is stored, live mode reads the variables at start-up."""

    kind: BackendKind = "env"
    where: str = f"the environment variables {ENV_API_KEY} and {ENV_SECRET}"

    def save(self, account: str, credentials: Credentials) -> None:
        return None

    def load(self, account: str) -> Credentials | None:
        return credentials_from_env()

    def delete(self, account: str) -> bool:
        return False


def env_variables(needs_passphrase: bool) -> list[str]:
    """Names of the variables the `env` backend reads (never their values)."""
    return [ENV_API_KEY, ENV_SECRET, *([ENV_PASSPHRASE] if needs_passphrase else [])]


def open_os_store(allow_plaintext: bool = False) -> KeyringStore:
    """The OS keyring; raises CredentialsError (one line) when there is none or it is plaintext."""
    backend, report = os_keyring()
    if backend is None or not (report.ok or (report.plaintext and allow_plaintext)):
        raise CredentialsError(report.advice)
    return KeyringStore("os", backend, f"the OS keyring ({report.name})")


def file_keyring_exists(path: Path | None = None) -> bool:
    """True once the encrypted credentials file has been created (its passphrase is fixed)."""
    target = path or file_keyring_path()
    return target.exists() and target.stat().st_size > 0


def open_file_store(passphrase: str, path: Path | None = None) -> KeyringStore:
    """The encrypted credentials file, unlocked (created, 0600, when missing). Blocks (~0.5 s KDF).

    Raises CredentialsError with one line for an empty or wrong passphrase.
    """
    from keyrings.cryptfile.cryptfile import CryptFileKeyring

    target = path or file_keyring_path()
    if not passphrase.strip():
        raise CredentialsError("the passphrase of the encrypted credentials file must not be empty")
    _private_dir(target.parent)
    # Created owner-only before the library writes to it, so it is never readable by others.
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o600))
    os.chmod(target, 0o600)
    register_secret(passphrase)
    backend = CryptFileKeyring()
    backend.file_path = str(target)
    try:
        backend.keyring_key = passphrase  # initialises a new file, or checks the passphrase
    except ValueError:
        raise CredentialsError(
            f"wrong passphrase for the encrypted credentials file {target}"
        ) from None
    except (configparser.Error, OSError) as exc:
        raise CredentialsError(
            f"the encrypted credentials file {target} is unusable: {exc}"
        ) from None
    return KeyringStore("file", backend, f"the encrypted file {target}")


def _locked_file_store() -> KeyringStore:
    # Deleting an entry rewrites the file without decrypting anything, so it needs no passphrase.
    from keyrings.cryptfile.cryptfile import CryptFileKeyring

    backend = CryptFileKeyring()
    backend.file_path = str(file_keyring_path())
    return KeyringStore("file", backend, f"the encrypted file {file_keyring_path()}")


def remember_file_passphrase(passphrase: str) -> None:
    """Keep the file backend's passphrase for this process (after a prompt), so live mode can read it."""
    global _remembered_passphrase
    register_secret(passphrase)
    _remembered_passphrase = passphrase


def file_passphrase() -> str | None:
    """The file backend's passphrase: remembered from a prompt, or from TRADETUI_KEYRING_PASSPHRASE."""
    passphrase = _remembered_passphrase or os.environ.get(ENV_KEYRING_PASSPHRASE) or None
    if passphrase:
        register_secret(passphrase)
    return passphrase


def delete_stored(record: AccountRecord) -> None:
    """Delete ``record``'s credentials from its backend (the env backend stores none). Blocks."""
    if record.backend == "os":
        open_os_store(allow_plaintext=True).delete(record.account)
    elif record.backend == "file" and file_keyring_exists():
        _locked_file_store().delete(record.account)


def delete_account(record: AccountRecord) -> None:
    """Delete ``record``'s stored credentials and the record itself. Blocks."""
    delete_stored(record)
    remove_record(record.account)


def needs_file_passphrase(account: str) -> bool:
    """True when ``account`` is in the encrypted file and no passphrase is at hand yet, so a
    terminal front end should ask for it (then call remember_file_passphrase). No keyring call."""
    try:
        record = read_records().get(account)
    except CredentialsError:
        return False  # the lookup reports the unreadable list
    return record is not None and record.backend == "file" and file_passphrase() is None


@dataclass(frozen=True)
class Lookup:
    """What live mode found for an account: credentials, or one sentence saying why not."""

    credentials: Credentials | None
    problem: str = ""
    sandbox: bool = False


def lookup_credentials(account: str, exchange: str) -> Lookup:
    """Credentials of ``account`` for trading ``exchange``, read from the backend setup recorded.

    Blocks (keyring, KDF): call it in a thread. An account without a record (containers that only
    set the variables, or stored before backends were recorded) reads the environment, then the
    OS keyring. Never raises for problems the user can fix; ``problem`` says what to do.
    """
    try:
        lookup = _lookup(account, exchange)
    except CredentialsError as exc:
        lookup = Lookup(None, str(exc))
    if lookup.credentials is None:
        _last_problems[account] = lookup.problem
    else:
        _last_problems.pop(account, None)
    return lookup


def _lookup(account: str, exchange: str) -> Lookup:
    check_account_name(account)
    record = read_records().get(account)
    if record is None:
        backend, _ = os_keyring()
        credentials = credentials_from_env() or (
            None if backend is None else read_entry(backend, account)
        )
        if credentials is None:
            return Lookup(None, not_stored_message(account, None))
        return _for_venue(account, exchange, credentials, credentials.exchange, False)
    if record.backend == "env":
        credentials = credentials_from_env()
        if credentials is None:
            return Lookup(
                None,
                f"account '{account}' takes its key from the environment, "
                f"but {ENV_API_KEY} and {ENV_SECRET} are not both set",
            )
    elif record.backend == "file":
        passphrase = file_passphrase()
        if passphrase is None:
            return Lookup(
                None,
                f"account '{account}' is in the encrypted file {file_keyring_path()}: "
                f"set {ENV_KEYRING_PASSPHRASE} to its passphrase to unlock it",
            )
        try:
            credentials = open_file_store(passphrase).load(account)
        except CredentialsError as exc:
            source = (
                ENV_KEYRING_PASSPHRASE if _remembered_passphrase is None else "the passphrase typed"
            )
            raise CredentialsError(f"{exc}: check {source}") from None
    else:
        backend, _ = os_keyring()
        if backend is None:
            return Lookup(
                None,
                f"account '{account}' is in the OS keyring, which is not available here: "
                f"run `tradetui setup --account {account} --backend file` on this machine",
            )
        credentials = read_entry(backend, account)
    if credentials is None:
        return Lookup(None, not_stored_message(account, record))
    return _for_venue(account, exchange, credentials, record.venue, record.sandbox)


def _for_venue(
    account: str, exchange: str, credentials: Credentials, venue: str, sandbox: bool
) -> Lookup:
    expected = "sim" if exchange == "sim-external" else exchange
    if venue not in ("env", expected):
        return Lookup(
            None,
            f"account '{account}' holds {venue} credentials, not {expected}: "
            f"set venue.account to a {expected} account or run `tradetui setup --exchange {expected}`",
        )
    return Lookup(credentials, sandbox=sandbox)


def not_stored_message(account: str, record: AccountRecord | None) -> str:
    """One line for an account that has no credentials where they were looked for."""
    if record is None:
        where = f"(looked in {ENV_API_KEY}/{ENV_SECRET} and the OS keyring)"
    elif record.backend == "file":
        where = f"in the encrypted file {file_keyring_path()}"
    else:
        where = "in the OS keyring"
    return f"no credentials stored for account '{account}' {where}: run `tradetui setup --account {account}` first"


def missing_credentials_message(account: str) -> str:
    """Why live mode has no credentials for ``account``: the last lookup's reason. No keyring call."""
    problem = _last_problems.get(account)
    if problem:
        return problem
    try:
        record = read_records().get(account)
    except CredentialsError as exc:
        return str(exc)
    return not_stored_message(account, record)
