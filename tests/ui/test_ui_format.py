"""Unit tests of the panes' number and time formatting."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradetui.ui import format as fmt


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (64251.0, "64251.00"),
        (142.35, "142.350"),
        (1.5, "1.5000"),
        (0.000123, "0.000123"),
        (Decimal("3140.00"), "3140.00"),
        (None, "-"),
        (float("nan"), "-"),
    ],
)
def test_price_precision_follows_magnitude(value: float | Decimal | None, expected: str) -> None:
    assert fmt.price(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("0.0150"), "0.015"),
        (Decimal("2"), "2.00"),
        (Decimal("0.00333366"), "0.00333366"),
        (Decimal("0"), "0.00"),
        (0.1, "0.10"),
    ],
)
def test_amount_trims_trailing_zeros_to_two_places(value: Decimal | float, expected: str) -> None:
    assert fmt.amount(value) == expected


def test_money_and_signed_money() -> None:
    assert fmt.money(10342.171) == "10,342.17"
    assert fmt.signed_money(-57.83) == "-57.83"
    assert fmt.signed_money(4.07) == "+4.07"
    assert fmt.cash(Decimal("7512.4")) == "7512.40"


def test_number_is_compact() -> None:
    assert fmt.number(12.80) == "12.8"
    assert fmt.number(5.0) == "5"
    assert fmt.number(-0.001) == "0"
    assert fmt.number(None) == "-"


def test_clock_is_utc() -> None:
    assert fmt.clock(1_767_225_600.0 + 9 * 3600 + 30 * 60 + 15) == "09:30:15"


def test_short_id_keeps_the_distinct_tail() -> None:
    assert fmt.short_id("pulse-0001-7f3a9c21") == "7f3a9c21"


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        ((1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0), "▁▂▃▄▅▆▇█"),
        ((5.0, 1.0), "█▁"),
        ((3.0, 3.0, 3.0), "▄▄▄"),
        ((2.0,), "▄"),
        ((), "-"),
        ((1.0, float("nan"), 2.0), "▁█"),
    ],
)
def test_sparkline_scales_between_its_own_low_and_high(
    points: tuple[float, ...], expected: str
) -> None:
    assert fmt.sparkline(points) == expected


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [(Decimal("0.04"), Decimal("0.1"), "40%"), (Decimal("0"), Decimal("1"), "0%"), (1, 0, "-")],
)
def test_percent_of_a_whole(part: Decimal, whole: Decimal, expected: str) -> None:
    assert fmt.percent(part, whole) == expected
