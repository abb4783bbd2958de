"""Tests the market-intelligence signals: each component on constructed books and trade streams."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradetui.core.model import OrderBook, PublicTrade, Quote, SignalKind, SpreadClass, VolumeClass
from tradetui.core.services.signals import (
    SignalParams,
    SignalState,
    TradeTape,
    book_imbalance,
    classify_spread,
    classify_volume,
    combine,
    compute_signals,
    liquidity_score,
)

MID = 100.0


def quote(symbol: str = "A/USD", bid: float = 99.99, ask: float = 100.01) -> Quote:
    return Quote(symbol, bid, ask, (bid + ask) / 2, 1.0, 1.0, received_at=0.0)


def book(
    bids: list[tuple[float, float]], asks: list[tuple[float, float]], symbol: str = "A/USD"
) -> OrderBook:
    return OrderBook(symbol, tuple(bids), tuple(asks), received_at=0.0)


def ladder(side: int, amounts: list[float], step: float = 0.01) -> list[tuple[float, float]]:
    """Levels from the touch outwards: side -1 for bids (below the mid), +1 for asks."""
    return [(MID + side * step * (i + 1), amount) for i, amount in enumerate(amounts)]


# ----------------------------------------------------------------- spread


def test_spread_classes_follow_the_bps_thresholds() -> None:
    params = SignalParams(tight_spread_bps=5, wide_spread_bps=20)
    assert classify_spread(0.0, params) is SpreadClass.TIGHT
    assert classify_spread(5.0, params) is SpreadClass.TIGHT
    assert classify_spread(5.1, params) is SpreadClass.ACCEPTABLE
    assert classify_spread(20.0, params) is SpreadClass.ACCEPTABLE
    assert classify_spread(20.1, params) is SpreadClass.WIDE


def test_a_spread_that_is_not_a_number_is_wide() -> None:
    assert classify_spread(math.nan) is SpreadClass.WIDE
    assert classify_spread(math.inf) is SpreadClass.WIDE
    # A quote with a non-positive mid reports an infinite spread.
    assert classify_spread(quote(bid=0.0, ask=0.0).spread_bps) is SpreadClass.WIDE


# ----------------------------------------------------------------- book imbalance


def test_imbalance_is_positive_when_bids_outweigh_asks() -> None:
    heavy_bids = book(ladder(-1, [3, 3, 3]), ladder(1, [1, 1, 1]))
    assert book_imbalance(heavy_bids) == (9 - 3) / 12


def test_imbalance_is_negative_when_asks_outweigh_bids_and_zero_when_even() -> None:
    assert book_imbalance(book(ladder(-1, [1]), ladder(1, [3]))) == -0.5
    assert book_imbalance(book(ladder(-1, [2, 2]), ladder(1, [2, 2]))) == 0.0


def test_imbalance_counts_only_the_top_levels() -> None:
    # A wall deep on the bid side beyond the top two levels does not count.
    walled = book(ladder(-1, [1, 1, 100]), ladder(1, [1, 1, 1]))
    assert book_imbalance(walled, levels=2) == 0.0
    assert book_imbalance(walled, levels=3) > 0.9


def test_imbalance_of_an_empty_or_one_sided_book() -> None:
    assert book_imbalance(book([], [])) == 0.0
    assert book_imbalance(book(ladder(-1, [1]), [])) == 1.0
    assert book_imbalance(book([], ladder(1, [1]))) == -1.0


# ----------------------------------------------------------------- liquidity


def test_a_deep_tight_book_scores_near_one_and_a_thin_one_low() -> None:
    params = SignalParams(liquidity_target=10_000, liquidity_band_bps=25)
    deep = book(ladder(-1, [50] * 10), ladder(1, [50] * 10))  # ~50k a side within 10 bps
    thin = book(ladder(-1, [1] * 10), ladder(1, [1] * 10))  # ~1k a side
    deep_score = liquidity_score(deep, 2.0, params)
    thin_score = liquidity_score(thin, 2.0, params)
    assert deep_score > 0.95
    assert thin_score < 0.5
    assert 0 <= thin_score < deep_score <= 1


def test_liquidity_counts_the_thinner_side() -> None:
    params = SignalParams(liquidity_target=10_000)
    lopsided = book(ladder(-1, [500] * 10), ladder(1, [1] * 10))
    thin = book(ladder(-1, [1] * 10), ladder(1, [1] * 10))
    assert liquidity_score(lopsided, 2.0, params) == pytest.approx(
        liquidity_score(thin, 2.0, params), abs=1e-3
    )


def test_depth_outside_the_band_does_not_count() -> None:
    params = SignalParams(liquidity_target=10_000, liquidity_band_bps=5)
    near = book(ladder(-1, [100, 0, 0]), ladder(1, [100, 0, 0]))  # 1 bp from the mid
    far = book(ladder(-1, [0, 0, 0, 0, 0, 0, 0, 0, 0, 100]), ladder(1, [0] * 9 + [100]))  # 10 bps
    assert liquidity_score(near, 2.0, params) > liquidity_score(far, 2.0, params)


def test_a_wider_spread_lowers_liquidity() -> None:
    deep = book(ladder(-1, [50] * 10), ladder(1, [50] * 10))
    assert liquidity_score(deep, 30.0) < liquidity_score(deep, 2.0)


def test_an_empty_or_crossed_book_has_no_liquidity() -> None:
    assert liquidity_score(book([], []), 2.0) == 0.0
    assert liquidity_score(book([(101.0, 5)], [(100.0, 5)]), 2.0) == 0.0


# ----------------------------------------------------------------- volume and flow


def feed(tape: TradeTape, state: SignalState, rounds: int, per_round: float) -> tuple[float, float]:
    """``rounds`` signal updates, each after ``per_round`` base units traded at the ask."""
    result = (1.0, 0.0)
    for _ in range(rounds):
        if per_round:
            tape.record([PublicTrade("A/USD", 100.01, per_round)], {"A/USD": quote()}, 0.0)
        result = state.update("A/USD", *tape.totals("A/USD"))
    return result


def test_volume_is_moderate_until_the_history_is_long_enough() -> None:
    tape, state = TradeTape(), SignalState(SignalParams(volume_min_history=30))
    ratio, _ = feed(tape, state, 10, 5.0)
    assert ratio == 1.0
    assert classify_volume(ratio) is VolumeClass.MODERATE


def test_a_burst_against_steady_history_is_high_volume() -> None:
    params = SignalParams(volume_window=5, volume_history=100, volume_min_history=20)
    tape, state = TradeTape(), SignalState(params)
    feed(tape, state, 60, 1.0)
    ratio, _ = feed(tape, state, 5, 10.0)
    assert ratio > params.high_volume_ratio
    assert classify_volume(ratio, params) is VolumeClass.HIGH


def test_a_lull_against_steady_history_is_low_volume() -> None:
    params = SignalParams(volume_window=5, volume_history=100, volume_min_history=20)
    tape, state = TradeTape(), SignalState(params)
    feed(tape, state, 60, 1.0)
    ratio, _ = feed(tape, state, 5, 0.0)
    assert ratio < 1e-9
    assert classify_volume(ratio, params) is VolumeClass.LOW


def test_steady_volume_is_moderate() -> None:
    params = SignalParams(volume_window=5, volume_history=100, volume_min_history=20)
    tape, state = TradeTape(), SignalState(params)
    ratio, _ = feed(tape, state, 60, 2.0)
    assert abs(ratio - 1.0) < 1e-9
    assert classify_volume(ratio, params) is VolumeClass.MODERATE


def test_flow_follows_which_side_of_the_mid_trades_print() -> None:
    tape, state = TradeTape(), SignalState()
    quotes = {"A/USD": quote()}
    tape.record([PublicTrade("A/USD", 100.01, 3.0)], quotes, 0.0)  # at the ask: bought
    tape.record([PublicTrade("A/USD", 99.99, 1.0)], quotes, 0.0)  # at the bid: sold
    assert state.update("A/USD", 0.0, 0.0) == (1.0, 0.0)  # the first one sets the baseline
    _, flow = state.update("A/USD", *tape.totals("A/USD"))
    assert flow == (3 * 100.01 - 99.99) / (3 * 100.01 + 99.99)
    assert [t.side for t in tape.recent("A/USD")] == [1, -1]


def test_the_tape_skips_nonsense_trades_and_keeps_only_recent_ones() -> None:
    tape = TradeTape(length=3)
    quotes = {"A/USD": quote()}
    bad = [PublicTrade("A/USD", math.nan, 1), PublicTrade("A/USD", 100, -1)]
    tape.record(bad, quotes, 0.0)
    assert tape.totals("A/USD") == (0.0, 0.0)
    tape.record([PublicTrade("A/USD", 100.0 + i, 1) for i in range(5)], quotes, 0.0)
    assert [t.price for t in tape.recent("A/USD")] == [102.0, 103.0, 104.0]


# ----------------------------------------------------------------- combination


def test_strong_bid_pressure_and_buying_flow_is_a_strong_buy() -> None:
    kind, confidence, score = combine(
        0.8, 0.8, VolumeClass.HIGH, SpreadClass.TIGHT, 1.0, new_listing=False
    )
    assert kind is SignalKind.STRONG_BUY
    assert score > 0.5
    assert confidence >= 0.75  # passes the risk guard's default confidence floor


def test_mirror_image_is_a_strong_sell() -> None:
    kind, confidence, score = combine(-0.8, -0.8, VolumeClass.HIGH, SpreadClass.TIGHT, 1.0, False)
    assert kind is SignalKind.STRONG_SELL
    assert score < -0.5 and confidence >= 0.75


def test_a_balanced_market_is_neutral_and_a_mild_lean_is_a_plain_buy() -> None:
    assert combine(0.0, 0.0, VolumeClass.MODERATE, SpreadClass.TIGHT, 1.0, False)[0] is (
        SignalKind.NEUTRAL
    )
    assert combine(0.3, 0.3, VolumeClass.MODERATE, SpreadClass.TIGHT, 1.0, False)[0] is (
        SignalKind.BUY
    )
    assert combine(-0.3, -0.3, VolumeClass.MODERATE, SpreadClass.TIGHT, 1.0, False)[0] is (
        SignalKind.SELL
    )


def test_a_wide_spread_and_low_volume_damp_the_same_pressure() -> None:
    tight = combine(0.6, 0.6, VolumeClass.MODERATE, SpreadClass.TIGHT, 1.0, False)
    wide = combine(0.6, 0.6, VolumeClass.MODERATE, SpreadClass.WIDE, 1.0, False)
    quiet = combine(0.6, 0.6, VolumeClass.LOW, SpreadClass.TIGHT, 1.0, False)
    busy = combine(0.6, 0.6, VolumeClass.HIGH, SpreadClass.TIGHT, 1.0, False)
    assert wide[2] < tight[2] and quiet[2] < tight[2] < busy[2]
    assert wide[0] is SignalKind.NEUTRAL


def test_thin_liquidity_lowers_confidence_not_direction() -> None:
    deep = combine(0.8, 0.8, VolumeClass.MODERATE, SpreadClass.TIGHT, 1.0, False)
    thin = combine(0.8, 0.8, VolumeClass.MODERATE, SpreadClass.TIGHT, 0.0, False)
    assert deep[0] is thin[0] and deep[2] == thin[2]
    assert thin[1] < 0.75 <= deep[1]


def test_the_new_listing_bonus_leans_a_neutral_market_to_buy() -> None:
    params = SignalParams(listing_bonus=0.25)
    plain = combine(0.0, 0.0, VolumeClass.MODERATE, SpreadClass.TIGHT, 1.0, False, params)
    listed = combine(0.0, 0.0, VolumeClass.MODERATE, SpreadClass.TIGHT, 1.0, True, params)
    assert plain[0] is SignalKind.NEUTRAL
    assert listed[0] is SignalKind.BUY
    assert listed[2] == plain[2] + 0.25


finite_or_not = st.floats(allow_nan=True, allow_infinity=True)


@given(
    finite_or_not,
    finite_or_not,
    st.sampled_from(list(VolumeClass)),
    st.sampled_from(list(SpreadClass)),
    finite_or_not,
    st.booleans(),
)
def test_combine_always_gives_a_bounded_score_and_confidence(
    imbalance: float,
    flow: float,
    volume: VolumeClass,
    spread: SpreadClass,
    liquidity: float,
    listed: bool,
) -> None:
    kind, confidence, score = combine(imbalance, flow, volume, spread, liquidity, listed)
    assert isinstance(kind, SignalKind)
    assert 0.0 <= confidence <= 1.0
    assert -1.0 <= score <= 1.0


# ----------------------------------------------------------------- all symbols


def test_compute_signals_covers_symbols_with_a_quote_and_a_book() -> None:
    quotes = {"A/USD": quote("A/USD"), "B/USD": quote("B/USD")}
    books = {"A/USD": book(ladder(-1, [5] * 5), ladder(1, [1] * 5))}
    tape = TradeTape()
    tape.record([PublicTrade("A/USD", 100.01, 2.0)], quotes, 0.0)
    signals = compute_signals(quotes, books, tape, SignalState(), frozenset({"A/USD"}))
    assert set(signals) == {"A/USD"}  # B has no book yet
    signal = signals["A/USD"]
    assert signal.imbalance == (25 - 5) / 30
    assert signal.spread is SpreadClass.TIGHT
    assert signal.volume is VolumeClass.MODERATE  # no history yet
    assert signal.new_listing
    assert signal.kind.is_buy and 0 <= signal.confidence <= 1


def test_the_signal_benchmark_reports_p50_and_p99_in_microseconds() -> None:
    from tradetui.cli.bench.signals import bench_signals

    figures = {f.name: f for f in bench_signals(rounds=50)}
    assert set(figures) == {"signals.p50", "signals.p99"}
    assert all(f.unit == "us" for f in figures.values())
    assert 0 < figures["signals.p50"].value <= figures["signals.p99"].value
