"""Provides the venue's errors as the engine sees them: ccxt's exceptions never leave core/venue."""

from __future__ import annotations


class VenueSetupError(Exception):
    """The venue cannot be opened as configured (unknown exchange or symbol, no credentials);
    the message is one line that says what to do."""


class VenueError(Exception):
    """A venue call failed. ``str()`` starts with ccxt's error class, e.g.
    ``InsufficientFunds: kraken {"error":["EOrder:Insufficient funds"]}``."""

    transport = False
    """True when the failure says nothing about the request itself (timeouts, outages,
    disconnects, rate limits): it counts towards the circuit breaker, and an order sent when it
    happened may or may not be on the venue."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}" if message else f"{kind} (no message)")
        self.kind = kind
        """ccxt's exception class name (``InsufficientFunds``, ``RequestTimeout`` ...)."""

    def one_line(self) -> str:
        """The error's first line, at most 200 characters (for order rows and reports); it
        always names the error's class."""
        lines = str(self).strip().splitlines()
        return (lines[0] if lines else f"{self.kind} (no message)")[:200]


class VenueUnavailable(VenueError):
    """The venue could not be reached or did not answer in time (a transport failure)."""

    transport = True


class OrderNotFound(VenueError):
    """The venue says the order does not exist."""


class AuthenticationFailed(VenueError):
    """The venue rejected the API key, its signature or its permissions."""


DEFINITIVE_KINDS = frozenset(
    {
        "AuthenticationError",
        "PermissionDenied",
        "AccountNotEnabled",
        "AccountSuspended",
        "BadSymbol",
        "NotSupported",
        "RestrictedLocation",
    }
)
"""ccxt error classes that say the account or the request is wrong, not that the venue is busy."""


def is_definitive(exc: BaseException) -> bool:
    """True when trying again cannot help: bad credentials, a permission, an unknown symbol or
    exchange, a setup the user must change. Outages, 5xx, ``EService:*``, rate limits and nonce
    trouble are passing (False), as is any other venue error."""
    if isinstance(exc, VenueSetupError | AuthenticationFailed):
        return True
    return isinstance(exc, VenueError) and exc.kind in DEFINITIVE_KINDS
