"""Formats decimals and timestamps the way Kraken puts them on the wire."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal

_QUANTS = [Decimal(1).scaleb(-places) for places in range(19)]


def quant(value: Decimal, places: int, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """Round `value` to `places` decimals."""
    return value.quantize(_QUANTS[places], rounding=rounding)


def fixed(value: Decimal, places: int) -> str:
    """Render `value` with exactly `places` decimals, as Kraken's REST API does."""
    return format(quant(value, places), "f")


def scaled(units: int, places: int) -> Decimal:
    """Turn an integer count of 10^-places units into a Decimal."""
    return Decimal(units).scaleb(-places)


_iso_second: list[tuple[int, str]] = [(-1, "")]


def iso(ts: float) -> str:
    """Render a Unix timestamp as ISO 8601 with microseconds and a `Z`, as WS v2 does.

    The formatted second is cached: the publishers stamp many messages per second.
    """
    micros = round(ts * 1_000_000)
    second, fraction = divmod(micros, 1_000_000)
    cached_second, prefix = _iso_second[0]
    if second != cached_second:
        prefix = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _iso_second[0] = (second, prefix)
    return f"{prefix}.{fraction:06d}Z"


def rfc1123(ts: float) -> str:
    """Render a Unix timestamp the way `/0/public/Time` does."""
    return datetime.fromtimestamp(ts, UTC).strftime("%a, %d %b %y %H:%M:%S +0000")


def decimal_places(text: str) -> int:
    """Count the digits after the decimal point of a numeric string."""
    _, _, frac = text.partition(".")
    return len(frac)
