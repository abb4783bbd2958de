"""Unit tests of TrendHistory: one point per bucket, the latest following the live price."""

from __future__ import annotations

from tradetui.core.services.trend import TrendHistory


def test_points_within_one_bucket_replace_each_other() -> None:
    trends = TrendHistory(bucket_s=3.0, points=4)
    trends.record("BTC/USD", 100.0, 0.0)
    trends.record("BTC/USD", 101.0, 2.9)
    assert trends.points("BTC/USD") == (101.0,)


def test_a_new_bucket_appends_and_the_oldest_point_drops_out() -> None:
    trends = TrendHistory(bucket_s=1.0, points=3)
    for second, price in enumerate((10.0, 11.0, 12.0, 13.0)):
        trends.record("ETH/USD", price, float(second))
    assert trends.points("ETH/USD") == (11.0, 12.0, 13.0)


def test_a_symbol_with_no_quotes_has_no_points_and_others_are_independent() -> None:
    trends = TrendHistory()
    trends.record("SOL/USD", 142.0, 10.0)
    assert trends.points("BTC/USD") == ()
    assert trends.all_points() == {"SOL/USD": (142.0,)}


def test_points_read_after_a_record_include_it() -> None:
    trends = TrendHistory(bucket_s=1.0, points=5)
    trends.record("BTC/USD", 1.0, 0.0)
    assert trends.points("BTC/USD") == (1.0,)
    trends.record("BTC/USD", 2.0, 5.0)
    assert trends.points("BTC/USD") == (1.0, 2.0)
