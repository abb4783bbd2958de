"""Provides the number, time and id formatting shared by the panes."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal

DASH = "-"
"""Shown where a value is unknown."""


def price(value: float | Decimal | None) -> str:
    """Format a price with precision that suits its magnitude (no thousands separators: width)."""
    if value is None:
        return DASH
    number = float(value)
    if not math.isfinite(number):
        return DASH
    magnitude = abs(number)
    places = 2 if magnitude >= 1000 else 3 if magnitude >= 10 else 4 if magnitude >= 1 else 6
    return f"{number:.{places}f}"


def amount(value: Decimal | float | None) -> str:
    """Format a base-currency amount: up to 8 decimals, trailing zeros trimmed to at least 2."""
    if value is None:
        return DASH
    text = f"{Decimal(str(value)):.8f}" if isinstance(value, float) else f"{value:.8f}"
    whole, _, fraction = text.partition(".")
    fraction = fraction.rstrip("0").ljust(2, "0")
    return f"{whole}.{fraction}"


def money(value: float | Decimal | None) -> str:
    """Format a quote-currency value with two decimals and thousands separators."""
    if value is None or not math.isfinite(float(value)):
        return DASH
    return f"{float(value):,.2f}"


def cash(value: float | Decimal | None) -> str:
    """Format a quote-currency balance with two decimals and no separators (table width)."""
    if value is None or not math.isfinite(float(value)):
        return DASH
    return f"{float(value):.2f}"


def signed_money(value: float | Decimal | None) -> str:
    """Format a PnL figure with an explicit sign."""
    if value is None or not math.isfinite(float(value)):
        return DASH
    return f"{float(value):+,.2f}"


def bps(value: float | None) -> str:
    """Format basis points with one decimal."""
    if value is None or not math.isfinite(value):
        return DASH
    return f"{value:.1f}"


def seconds(value: float | None) -> str:
    """Format a duration in seconds with one decimal."""
    if value is None or not math.isfinite(value):
        return DASH
    return f"{value:.1f}"


def number(value: float | None) -> str:
    """Format a gate value or limit compactly: at most two decimals, no trailing zeros."""
    if value is None or not math.isfinite(value):
        return DASH
    if abs(value) >= 1e6:
        return f"{value:.3g}"
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def clock(timestamp: float) -> str:
    """Format an epoch timestamp as UTC wall-clock time (UTC keeps snapshots deterministic)."""
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%H:%M:%S")


def short_id(client_id: str, width: int = 8) -> str:
    """The tail of a client order id: the part that differs between orders."""
    return client_id[-width:]


SPARK_LEVELS = "▁▂▃▄▅▆▇█"
"""Block characters of a sparkline, lowest to highest."""


def sparkline(points: tuple[float, ...] | list[float]) -> str:
    """One character per point, scaled between the points' own low and high (flat: mid level)."""
    finite = [p for p in points if math.isfinite(p)]
    if not finite:
        return DASH
    low, high = min(finite), max(finite)
    if high == low:
        return SPARK_LEVELS[3] * len(finite)
    top = len(SPARK_LEVELS) - 1
    return "".join(SPARK_LEVELS[round((p - low) / (high - low) * top)] for p in finite)


def percent(part: Decimal | float, whole: Decimal | float) -> str:
    """``part`` as a whole-number percentage of ``whole`` (a dash when ``whole`` is zero)."""
    if not whole:
        return DASH
    return f"{float(part) / float(whole) * 100:.0f}%"
