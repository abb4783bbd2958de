"""Unit tests of the rolling correlation clusters and the losing-trade cooldowns."""

from __future__ import annotations

import math

from tradetui.config import RiskSettings
from tradetui.core.risk.correlation import MIN_RETURNS, CorrelationTracker
from tradetui.core.risk.protections import GLOBAL, Protections


def test_symbols_that_move_together_share_a_cluster_and_others_do_not() -> None:
    tracker = CorrelationTracker(["BTC/USD", "ETH/USD", "SOL/USD"], window=30, threshold=0.8)
    for i in range(31):
        wave = math.sin(i / 3)
        tracker.sample(
            {
                "BTC/USD": 60_000 * (1 + 0.01 * wave),
                "ETH/USD": 3_000 * (1 + 0.02 * wave),  # same moves, twice the size
                "SOL/USD": 150 * (1 + 0.01 * math.cos(i * 1.7)),  # unrelated
            }
        )
    assert tracker.clusters["BTC/USD"] == {"BTC/USD", "ETH/USD"}
    assert tracker.clusters["SOL/USD"] == {"SOL/USD"}
    rho = tracker.correlation("BTC/USD", "ETH/USD")
    assert rho is not None and rho > 0.99


def test_a_missing_or_bad_mid_is_a_gap_that_no_return_spans() -> None:
    tracker = CorrelationTracker(["BTC/USD", "ETH/USD"], window=5, threshold=0.8)
    for mids in ({"BTC/USD": 1.0, "ETH/USD": 2.0}, {"BTC/USD": 1.1}, {"ETH/USD": math.nan}):
        tracker.sample(mids)
    assert tracker.correlation("BTC/USD", "ETH/USD") is None
    assert not tracker.known("BTC/USD", ["ETH/USD"])


def test_a_symbol_never_priced_does_not_hold_back_the_others() -> None:
    """Guards the fail-closed correlation gate against a delisted symbol: its missing mid used to
    drop every sample, so no pair ever became known and no buy beside a position could pass."""
    tracker = CorrelationTracker(["BTC/USD", "ETH/USD", "DOT/USD"], window=30, threshold=0.8)
    for i in range(MIN_RETURNS + 1):
        wave = 1 + 0.01 * math.sin(i)
        assert not tracker.known("ETH/USD", ["BTC/USD"])
        tracker.sample({"BTC/USD": 60_000 * wave, "ETH/USD": 3_000 * wave})  # no DOT, ever
    assert tracker.known("ETH/USD", ["BTC/USD", "ETH/USD"])
    assert tracker.clusters["ETH/USD"] == {"BTC/USD", "ETH/USD"}
    assert not tracker.known("ETH/USD", ["DOT/USD"])  # nothing is known about DOT
    assert tracker.known("ETH/USD", [])  # nothing held: nothing to know


def test_cooldowns_start_after_enough_losses_in_the_window() -> None:
    limits = RiskSettings(cooldown_losses=2, cooldown_losses_global=3, cooldown_window_s=100)
    protections = Protections(limits)
    assert protections.record_loss("SOL/USD", 0) == []
    assert protections.record_loss("ETH/USD", 200) == []  # the first SOL loss has expired
    assert protections.record_loss("SOL/USD", 210) == []
    assert protections.record_loss("SOL/USD", 220) == ["SOL/USD", GLOBAL]
    assert protections.until("SOL/USD") == 220 + limits.cooldown_s
    assert protections.until("BTC/USD") == 220 + limits.cooldown_s  # the global one
