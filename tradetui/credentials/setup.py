"""Provides the steps of `tradetui setup` without any UI, so the prompts and a Textual screen
drive the same code: describe the venue, build a draft, check it with a signed call, save it.

Blocking steps (venue description, saving) say so; a UI runs them in a thread worker.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from tradetui.credentials.records import (
    Credentials,
    CredentialsError,
    check_account_name,
    mask_key,
    register_credentials,
)
from tradetui.credentials.stores import (
    AccountRecord,
    CredentialStore,
    delete_stored,
    read_records,
    save_record,
)
from tradetui.logs import redact

SIM_VENUE = "sim"
DEFAULT_ACCOUNT = "default"
CHECK_TIMEOUT_MS = 10_000
_BASE64_SECRET_VENUES = frozenset({SIM_VENUE, "kraken"})
"""Venues whose secret ccxt base64-decodes before signing."""
_VENUE_ID = re.compile(r"[a-z][a-z0-9]{1,40}")
_REJECTED_KEY = re.compile(
    r"signature|invalid.{0,3}(api.?)?key|api.?key|unauthori[sz]ed", re.IGNORECASE
)


class SetupError(Exception):
    """A problem with what the user gave, with a one-line message."""


@dataclass(frozen=True)
class VenueInfo:
    """What setup must ask for a venue."""

    venue: str
    needs_passphrase: bool = False
    """ccxt says the exchange wants a passphrase (``password``) besides key and secret."""
    has_sandbox: bool = False
    """ccxt knows a sandbox/testnet URL for the exchange."""

    @property
    def is_sim(self) -> bool:
        """The tradetui simulator (reached by URL), not a real exchange."""
        return self.venue == SIM_VENUE


def describe_venue(venue: str) -> VenueInfo:
    """Look ``venue`` up in ccxt.pro (no network); raises SetupError if unknown. Blocks (import)."""
    venue = venue.strip().lower()
    if venue == SIM_VENUE:
        return VenueInfo(SIM_VENUE)
    from tradetui.core.venue.probe import exchange_traits

    unknown = SetupError(f"unknown exchange {venue!r}: use a ccxt.pro id such as kraken, or sim")
    traits = exchange_traits(venue) if _VENUE_ID.fullmatch(venue) else None
    if traits is None:
        raise unknown
    return VenueInfo(venue, traits.needs_passphrase, traits.has_sandbox)


@dataclass(frozen=True)
class Draft:
    """One account as typed, not yet checked or saved."""

    account: str
    venue: VenueInfo
    credentials: Credentials
    sandbox: bool = False
    sim_url: str = ""


def make_draft(
    account: str,
    venue: VenueInfo,
    api_key: str,
    secret: str,
    passphrase: str | None = None,
    *,
    sandbox: bool = False,
    sim_url: str = "",
) -> Draft:
    """Check what was typed (names, emptiness, secret encoding, URL); raises SetupError."""
    try:
        check_account_name(account.strip())
    except CredentialsError as exc:
        raise SetupError(str(exc)) from None
    api_key, secret = api_key.strip(), secret.strip()
    if not api_key or not secret:
        raise SetupError("the API key and the secret must not be empty")
    if venue.needs_passphrase and not (passphrase or "").strip():
        raise SetupError(f"{venue.venue} keys come with a passphrase: it must not be empty")
    if venue.venue in _BASE64_SECRET_VENUES:
        try:
            base64.b64decode(secret, validate=True)
        except binascii.Error:
            # Never echo the secret, not even in an error.
            raise SetupError(
                f"that {venue.venue} secret is not valid base64; copy it again from the API page"
            ) from None
    if venue.is_sim:
        parts = urlsplit(sim_url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SetupError(
                "the simulator's REST URL looks like http://127.0.0.1:PORT (`tradetui sim` prints it)"
            )
    credentials = Credentials(venue.venue, api_key, secret, (passphrase or "").strip() or None)
    register_credentials(credentials)  # from here on no log line can show them
    return Draft(
        account.strip(),
        venue,
        credentials,
        sandbox=sandbox and venue.has_sandbox,
        sim_url=sim_url.strip().rstrip("/"),
    )


@dataclass(frozen=True)
class CheckResult:
    """The outcome of the signed check, in plain words."""

    authenticated: bool
    problem: str = ""
    """One line when not authenticated (never contains the secret)."""
    can_trade: str = ""
    """Whether the key can trade, and what that rests on."""
    balances: dict[str, Decimal] = field(default_factory=dict)
    """Currencies with a nonzero total."""

    def lines(self) -> list[str]:
        """The result as short lines for a terminal or a screen."""
        if not self.authenticated:
            return [self.problem]
        seen = ", ".join(f"{code} {_plain(amount)}" for code, amount in self.balances.items())
        return [
            "authenticated: yes (the exchange answered a signed fetch_balance)",
            f"can trade: {self.can_trade}",
            f"balances seen: {seen or 'none (every balance is zero)'}",
        ]


def _plain(amount: Decimal) -> str:
    text = format(amount, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def exchange_config(draft: Draft) -> tuple[str, dict[str, Any]]:
    """The ccxt exchange id and constructor config that trade ``draft``'s account."""
    credentials = draft.credentials
    config: dict[str, Any] = {
        "apiKey": credentials.api_key,
        "secret": credentials.secret,
        "timeout": CHECK_TIMEOUT_MS,
        "enableRateLimit": not draft.venue.is_sim,
    }
    if credentials.passphrase:
        config["password"] = credentials.passphrase
    if draft.venue.is_sim:
        # The simulator speaks Kraken's protocol; only REST is needed for the check.
        config["urls"] = {"api": {"public": draft.sim_url, "private": draft.sim_url}}
        return "kraken", config
    if draft.sandbox:
        config["sandbox"] = True  # ccxt calls set_sandbox_mode(True) for this key
    return draft.venue.venue, config


async def check_credentials(draft: Draft) -> CheckResult:
    """Make one signed call (``fetch_balance``) with the draft's key; never raises for user errors."""
    from tradetui.core.venue.errors import (
        AuthenticationFailed,
        VenueError,
        VenueSetupError,
        VenueUnavailable,
    )
    from tradetui.core.venue.probe import signed_balances

    exchange_id, config = exchange_config(draft)
    target = f"the simulator at {draft.sim_url}" if draft.venue.is_sim else exchange_id
    try:
        balances = await signed_balances(exchange_id, config)
    except VenueSetupError as exc:
        return CheckResult(False, str(exc))
    except AuthenticationFailed as exc:
        return CheckResult(False, f"the exchange rejected the key/secret: {_reason(exc)}")
    except VenueUnavailable as exc:
        hint = " (is `tradetui sim` running?)" if draft.venue.is_sim else ""
        return CheckResult(False, f"could not reach {target}{hint}: {_reason(exc)}")
    except VenueError as exc:
        reason = _reason(exc)
        if _REJECTED_KEY.search(reason):  # ccxt maps Kraken's "Invalid signature" to no subclass
            return CheckResult(False, f"the exchange rejected the key/secret: {reason}")
        return CheckResult(False, f"{target} refused the signed request: {reason}")
    if draft.venue.is_sim:
        can_trade = "yes (every simulator key may trade)"
    else:
        can_trade = (
            "not checked: ccxt has no common way to read a key's permissions; "
            "the first live order will tell"
        )
    return CheckResult(True, can_trade=can_trade, balances=balances)


def _reason(exc: BaseException) -> str:
    """The exchange's own error words: Kraken's ``error`` list, else the message's first line."""
    exc = exc.__cause__ or exc  # a VenueError carries ccxt's own exception and words
    message = str(exc).strip()
    start = message.find("{")
    if start >= 0:
        try:
            errors = json.loads(message[start:]).get("error")
        except (ValueError, AttributeError):
            errors = None
        if isinstance(errors, list) and errors:
            return redact("; ".join(str(e) for e in errors))
    first_line = (message.splitlines() or [type(exc).__name__])[0]
    return redact(first_line)[:200] or type(exc).__name__


def save_account(draft: Draft, store: CredentialStore) -> AccountRecord:
    """Save a checked draft in ``store`` and record which backend holds it. Blocks (keyring)."""
    previous = read_records().get(draft.account)
    store.save(draft.account, draft.credentials)
    record = AccountRecord(
        draft.account,
        draft.venue.venue,
        store.kind,
        mask_key(draft.credentials.api_key),
        sandbox=draft.sandbox,
        sim_url=draft.sim_url,
    )
    save_record(record)
    if previous is not None and previous.backend != store.kind:
        # Best effort: a copy left in the old backend is no longer read, but it is still a secret.
        with contextlib.suppress(CredentialsError):
            delete_stored(previous)
    return record


def trade_hint(record: AccountRecord) -> str:
    """One line saying which settings trade the account just saved."""
    if record.venue == SIM_VENUE:
        return (
            f'to trade it: venue.exchange = "sim-external", venue.rest_url = "{record.sim_url}" '
            f'(and the ws URLs `tradetui sim` printed), venue.account = "{record.account}"'
        )
    return f'to trade it: venue.exchange = "{record.venue}", venue.account = "{record.account}"'
