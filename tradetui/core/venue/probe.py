"""Provides what `tradetui setup` asks of a venue before anything is saved: what the exchange
needs (from ccxt's metadata, no network) and one signed call that proves a key works."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tradetui.core.venue.client import VenueClient, create_exchange
from tradetui.core.venue.connect import nonce_file
from tradetui.core.venue.loader import pro_exchange_class


@dataclass(frozen=True)
class ExchangeTraits:
    """What ccxt knows about an exchange's credentials."""

    needs_passphrase: bool
    """The exchange wants a passphrase (ccxt's ``password``) besides key and secret."""
    has_sandbox: bool
    """ccxt knows a sandbox/testnet URL for it."""


def exchange_traits(exchange_id: str) -> ExchangeTraits | None:
    """ccxt.pro's metadata for ``exchange_id`` (None when ccxt.pro has no such exchange).
    Blocks (imports the exchange's module)."""
    try:
        exchange_class = pro_exchange_class(exchange_id)
    except AttributeError:
        return None
    if not (isinstance(exchange_class, type) and hasattr(exchange_class, "fetch_balance")):
        return None  # e.g. a ccxt sub-package, not an exchange
    exchange = exchange_class()  # no session is opened until a request is made
    required: dict[str, bool] = exchange.requiredCredentials
    return ExchangeTraits(bool(required.get("password")), bool(exchange.urls.get("test")))


async def signed_balances(exchange_id: str, config: dict[str, Any]) -> dict[str, Decimal]:
    """Make one signed call (``fetch_balance``) with ``config``'s key; returns the non-zero
    totals. Raises VenueSetupError (unknown exchange), AuthenticationFailed, VenueUnavailable
    or VenueError."""
    # The engine's nonce file for this key, so the check never reuses a nonce it sent.
    client = VenueClient(create_exchange(exchange_id, config, nonce_file(str(config["apiKey"]))))
    try:
        balances = await client.fetch_balances()
    finally:
        await client.close()
    return {code: balance.total for code, balance in sorted(balances.items()) if balance.total != 0}
