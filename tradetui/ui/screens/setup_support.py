"""Provides what the setup screen works with: the options it starts from, the storage probe, the
venue look-ups (ccxt, off the event loop) and the messages its workers post."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from textual.message import Message

from tradetui.credentials.records import (
    BackendReport,
    credentials_from_env,
    os_keyring,
)
from tradetui.credentials.setup import (
    SIM_VENUE,
    VenueInfo,
    check_credentials,
    describe_venue,
    make_draft,
    save_account,
    trade_hint,
)
from tradetui.credentials.stores import (
    ENV_KEYRING_PASSPHRASE,
    BackendKind,
    CredentialStore,
    EnvStore,
    env_variables,
    file_keyring_exists,
    file_keyring_path,
    open_file_store,
    open_os_store,
)

PROG = "tradetui setup"


@dataclass(frozen=True)
class SetupOptions:
    """What `tradetui setup` was started with; it prefills the screen."""

    exchange: str | None = None
    account: str | None = None
    backend: BackendKind | None = None
    sim_url: str | None = None
    sandbox: bool | None = None
    allow_plaintext: bool = False
    """Offer an OS keyring that stores secrets unencrypted (marked as such)."""


@dataclass(frozen=True)
class StorageCheck:
    """Where credentials can be kept on this machine, and what is already there."""

    report: BackendReport
    """The OS keyring check."""
    file_path: str
    """The encrypted credentials file, as shown (``~`` for home)."""
    file_exists: bool
    """Its passphrase is fixed already, so it is asked once, not twice."""
    passphrase_in_env: bool
    """TRADETUI_KEYRING_PASSPHRASE is set, so the passphrase is not asked."""
    key_in_env: bool
    """TRADETUI_API_KEY and TRADETUI_API_SECRET are set: the env backend checks those."""

    @classmethod
    def probe(cls) -> StorageCheck:
        """Look at this machine. Blocks (D-Bus keyring probes): call it in a thread."""
        _, report = os_keyring()
        path = file_keyring_path()
        home = Path.home()
        shown = f"~/{path.relative_to(home)}" if path.is_relative_to(home) else str(path)
        return cls(
            report,
            shown,
            file_keyring_exists(path),
            bool(os.environ.get(ENV_KEYRING_PASSPHRASE)),
            credentials_from_env() is not None,
        )

    def offers_os(self, allow_plaintext: bool) -> bool:
        """The OS keyring is a choice: secure, or plaintext with the explicit flag."""
        return self.report.ok or (self.report.plaintext and allow_plaintext)


_CCXT_IMPORT = threading.Lock()
"""The lean ccxt loader is not thread-safe: two threads installing it at once break ccxt.pro."""


def venue_ids() -> list[str]:
    """``sim`` and every ccxt.pro exchange id, for suggestions. Blocks (imports ccxt)."""
    from tradetui.core.venue.loader import exchange_ids

    with _CCXT_IMPORT:
        return [SIM_VENUE, *exchange_ids()]


def describe_and_warm(typed: str) -> VenueInfo:
    """describe_venue, plus the imports the signed check needs, so the loop never waits on them."""
    from tradetui.core.venue import client, connect  # noqa: F401 - imported for their side effect
    from tradetui.core.venue.loader import pro_exchange_class

    info = describe_venue_locked(typed)
    with _CCXT_IMPORT:
        pro_exchange_class("kraken" if info.is_sim else info.venue)
    return info


def describe_venue_locked(typed: str) -> VenueInfo:
    if typed.strip().lower() == SIM_VENUE:
        return describe_venue(typed)  # no ccxt needed: never waits for the lock
    with _CCXT_IMPORT:
        return describe_venue(typed)


class StorageChecked(Message):
    """The storage probe finished."""

    def __init__(self, check: StorageCheck) -> None:
        super().__init__()
        self.check = check


class VenueIdsLoaded(Message):
    """Every venue id setup knows, for the venue field's suggestions."""

    def __init__(self, venue_ids: Sequence[str]) -> None:
        super().__init__()
        self.venue_ids = tuple(venue_ids)


class VenueDescribed(Message):
    """What setup must ask for the venue ``typed``; ``info`` is None when it is unknown."""

    def __init__(self, typed: str, info: VenueInfo | None, problem: str = "") -> None:
        super().__init__()
        self.typed = typed
        self.info = info
        self.problem = problem


class CheckFinished(Message):
    """The check-and-save attempt ended; ``lines`` say how, in plain words (never a secret)."""

    def __init__(self, stored: bool, lines: Sequence[str], file_exists: bool) -> None:
        super().__init__()
        self.stored = stored
        self.lines = tuple(lines)
        self.file_exists = file_exists


@dataclass(frozen=True, repr=False)
class Typed:
    """The form's values for one attempt; repr=False keeps the secrets out of any repr."""

    venue: str
    sim_url: str
    sandbox: bool
    account: str
    backend: BackendKind
    file_passphrase: str
    api_key: str
    secret: str
    passphrase: str
    key_from_env: bool


async def check_and_store(typed: Typed, allow_plaintext: bool) -> tuple[bool, list[str]]:
    """Check the typed key with a signed call, then store it; returns (stored, lines to show).
    Raises SetupError or CredentialsError for what the user typed."""
    venue = await asyncio.to_thread(describe_and_warm, typed.venue)
    from_env = credentials_from_env() if typed.key_from_env else None
    draft = make_draft(
        typed.account,
        venue,
        from_env.api_key if from_env else typed.api_key,
        from_env.secret if from_env else typed.secret,
        (from_env.passphrase if from_env else typed.passphrase) or None,
        sandbox=typed.sandbox,
        sim_url=typed.sim_url,
    )
    # Unlocking (KDF) or probing a keyring blocks, so it runs in a thread.
    store = await asyncio.to_thread(_open_store, typed, allow_plaintext)
    result = await check_credentials(draft)
    if not result.authenticated:
        return False, [f"{result.problem}; nothing stored"]
    record = await asyncio.to_thread(save_account, draft, store)
    what = f"account {draft.account!r} ({venue.venue}, key {record.key_hint})"
    if store.kind == "env":
        names = ", ".join(env_variables(venue.needs_passphrase))
        where = f"Recorded {what}; nothing stored: set {names} where tradetui runs."
    else:
        where = f"Stored {what} in {store.where}."
    return True, [*result.lines(), where, trade_hint(record)]


def _open_store(typed: Typed, allow_plaintext: bool) -> CredentialStore:
    if typed.backend == "env":
        return EnvStore()
    if typed.backend == "file":
        return open_file_store(typed.file_passphrase)
    return open_os_store(allow_plaintext)
