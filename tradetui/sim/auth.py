"""Checks private REST requests the way Kraken does: API key, HMAC signature, nonce."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from tradetui.sim import errors
from tradetui.sim.errors import KrakenError
from tradetui.sim.venue.accounts import Account, AccountRegistry


def sign(path: str, nonce: str, body: bytes, secret: str) -> str:
    """Kraken's API-Sign: base64(HMAC-SHA512(b64decode(secret), path + SHA256(nonce + body)))."""
    inner = hashlib.sha256(nonce.encode() + body).digest()
    mac = hmac.new(base64.b64decode(secret), path.encode() + inner, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


def authenticate(
    registry: AccountRegistry,
    api_key: str | None,
    api_sign: str | None,
    path: str,
    nonce: object,
    body: bytes,
    nonce_window: int,
) -> Account:
    """Return the caller's account, or raise the KrakenError Kraken would answer with.

    The nonce is recorded only once the signature is valid, so a forged request
    cannot burn a key's nonces.
    """
    account = registry.by_key.get(api_key or "")
    if account is None:
        raise KrakenError(errors.INVALID_KEY)
    if not isinstance(nonce, str) or not nonce.isdigit():
        raise KrakenError(errors.INVALID_NONCE)
    try:
        expected = sign(path, nonce, body, account.secret)
    except (binascii.Error, ValueError) as exc:
        raise KrakenError(errors.INVALID_KEY) from exc
    if not api_sign or not hmac.compare_digest(expected, api_sign):
        raise KrakenError(errors.INVALID_SIGNATURE)
    if not account.accept_nonce(int(nonce), nonce_window):
        raise KrakenError(errors.INVALID_NONCE)
    return account
