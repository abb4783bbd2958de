"""Defines Kraken's error strings and the exception that carries them to a response."""

from __future__ import annotations

INVALID_KEY = "EAPI:Invalid key"
INVALID_SIGNATURE = "EAPI:Invalid signature"
INVALID_NONCE = "EAPI:Invalid nonce"
INSUFFICIENT_FUNDS = "EOrder:Insufficient funds"
ORDER_MINIMUM = "EOrder:Order minimum not met"
COST_MINIMUM = "EOrder:Cost minimum not met"
UNKNOWN_ORDER = "EOrder:Unknown order"
INVALID_ARGUMENTS = "EGeneral:Invalid arguments"
UNKNOWN_PAIR = "EQuery:Unknown asset pair"
UNKNOWN_ASSET = "EQuery:Unknown asset"
UNKNOWN_METHOD = "EGeneral:Unknown method"
INVALID_SESSION = "ESession:Invalid session"
DUPLICATE_ORDER = "EOrder:Duplicate order"
RATE_LIMIT = "EAPI:Rate limit exceeded"
SERVICE_UNAVAILABLE = "EService:Unavailable"
CANCEL_ONLY = "EService:Market in cancel_only mode"
REDUCE_ONLY = "EService:Market in reduce_only mode"

_WS_SUFFIXES = {
    INSUFFICIENT_FUNDS: " (insufficient user funds)",
    ORDER_MINIMUM: " (volume too low)",
}


class KrakenError(Exception):
    """A request failed with one of Kraken's `E<Category>:<text>` errors."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def ws_message(self) -> str:
        """The text WS v2 uses; ccxt needs the suffixed form to raise the right class."""
        return self.message + _WS_SUFFIXES.get(self.message, "")


def invalid_argument(name: str | None = None) -> KrakenError:
    """`EGeneral:Invalid arguments[:<name>]`."""
    return KrakenError(INVALID_ARGUMENTS if name is None else f"{INVALID_ARGUMENTS}:{name}")
