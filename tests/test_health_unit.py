"""Health status rules and the metrics collector, on hand-built snapshots (no engine, no network)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import quiet_settings
from tests.ui.frozen_engine import FIXED_NOW, frozen_snapshot
from tradetui.config import load_settings
from tradetui.core.metrics import RISK_LATENCY_BUCKETS_S, EngineMetrics, LatencyHistogram
from tradetui.core.model import (
    BreakerSnapshot,
    BreakerState,
    Decision,
    EngineSnapshot,
    GateResult,
    Mode,
    OrderIntent,
    Side,
    TradingState,
    Verdict,
)
from tradetui.ops.health import assess
from tradetui.ops.metrics import EngineCollector

SETTINGS = quiet_settings()


def metrics_at(now: float = FIXED_NOW) -> EngineMetrics:
    return EngineMetrics(lambda: now)


def status_of(snapshot: EngineSnapshot, metrics: EngineMetrics | None = None) -> tuple[str, int]:
    health = assess(snapshot, metrics or metrics_at(), SETTINGS)
    return health.status, health.http_status


def with_breaker(snapshot: EngineSnapshot, category: str, state: BreakerState) -> EngineSnapshot:
    breakers = tuple(
        BreakerSnapshot(b.category, state, 3, 3, 1.0) if b.category == category else b
        for b in snapshot.breakers
    )
    return dataclasses.replace(snapshot, breakers=breakers)


def test_a_connected_engine_with_fresh_quotes_and_closed_breakers_is_ok() -> None:
    assert status_of(frozen_snapshot()) == ("ok", 200)


def test_a_stale_quote_degrades_but_keeps_200() -> None:
    snapshot = frozen_snapshot()
    quotes = dict(snapshot.quotes)
    quotes["SOL/USD"] = dataclasses.replace(quotes["SOL/USD"], received_at=FIXED_NOW - 6)
    health = assess(dataclasses.replace(snapshot, quotes=quotes), metrics_at(), SETTINGS)
    assert (health.status, health.http_status) == ("degraded", 200)
    assert health.document["components"]["market_data"]["symbols"]["SOL/USD"]["status"] == (
        "degraded"
    )
    assert any("SOL/USD" in reason for reason in health.reasons)


def test_a_missing_quote_degrades() -> None:
    snapshot = frozen_snapshot()
    quotes = {s: q for s, q in snapshot.quotes.items() if s != "ETH/USD"}
    assert status_of(dataclasses.replace(snapshot, quotes=quotes)) == ("degraded", 200)


def test_a_quote_bridged_over_rest_degrades() -> None:
    snapshot = frozen_snapshot()
    quotes = dict(snapshot.quotes)
    quotes["BTC/USD"] = dataclasses.replace(quotes["BTC/USD"], source="rest")
    assert status_of(dataclasses.replace(snapshot, quotes=quotes)) == ("degraded", 200)


@pytest.mark.parametrize("state", [BreakerState.OPEN, BreakerState.HALF_OPEN])
def test_a_tripped_breaker_degrades(state: BreakerState) -> None:
    assert status_of(with_breaker(frozen_snapshot(), "account", state)) == ("degraded", 200)


def test_halted_is_503_and_outranks_degraded() -> None:
    snapshot = with_breaker(frozen_snapshot(), "orders", BreakerState.OPEN)
    assert status_of(dataclasses.replace(snapshot, state=TradingState.HALTED)) == ("halted", 503)


def test_paused_is_still_ok() -> None:
    assert status_of(dataclasses.replace(frozen_snapshot(), state=TradingState.PAUSED)) == (
        "ok",
        200,
    )


def test_a_disconnected_engine_is_down_even_when_halted() -> None:
    snapshot = dataclasses.replace(frozen_snapshot(), connected=False, state=TradingState.HALTED)
    assert status_of(snapshot) == ("down", 503)


def test_a_recent_store_failure_is_down_and_an_old_one_is_forgotten() -> None:
    metrics = EngineMetrics(lambda: FIXED_NOW - 5)
    metrics.store_failed()
    assert status_of(frozen_snapshot(), metrics) == ("down", 503)
    metrics.store_failed_at = FIXED_NOW - 120
    assert status_of(frozen_snapshot(), metrics) == ("ok", 200)


def test_a_reconnecting_private_stream_degrades_and_a_silent_one_does_not() -> None:
    metrics = metrics_at()
    metrics.stream("balances").on_message()
    metrics.stream("orders")  # started, never spoke: normal for an account with no activity
    assert status_of(frozen_snapshot(), metrics) == ("ok", 200)
    metrics.stream("orders").on_failure()
    health = assess(frozen_snapshot(), metrics, SETTINGS)
    assert health.status == "degraded"
    assert health.document["components"]["order_stream"]["reconnects"] == 1
    metrics.stream("orders").on_message()
    assert status_of(frozen_snapshot(), metrics) == ("ok", 200)


def test_without_credentials_the_private_streams_are_off() -> None:
    health = assess(frozen_snapshot(), metrics_at(), SETTINGS)
    assert health.document["components"]["balances_stream"]["status"] == "off"


def test_a_late_strategy_loop_degrades() -> None:
    settings = load_settings(None, strategy={"enabled": True, "interval_s": 1.0})
    metrics = metrics_at()
    metrics.strategy_ticked_at = FIXED_NOW - 1
    assert assess(frozen_snapshot(), metrics, settings).status == "ok"
    metrics.strategy_ticked_at = FIXED_NOW - 60
    health = assess(frozen_snapshot(), metrics, settings)
    assert health.status == "degraded"
    assert health.document["components"]["strategy"]["status"] == "degraded"
    # Disabled strategies are off, whatever the tick says.
    assert assess(frozen_snapshot(), metrics, SETTINGS).status == "ok"


@given(st.lists(st.floats(min_value=0.0, max_value=0.01, allow_nan=False), max_size=50))
def test_the_latency_histogram_puts_each_value_in_its_first_fitting_bucket(
    values: list[float],
) -> None:
    histogram = LatencyHistogram()
    for value in values:
        histogram.observe(value)
    assert histogram.count == len(values) == sum(histogram.counts)
    for index, bound in enumerate((*RISK_LATENCY_BUCKETS_S, float("inf"))):
        lower = RISK_LATENCY_BUCKETS_S[index - 1] if index else float("-inf")
        assert histogram.counts[index] == sum(1 for v in values if lower < v <= bound)


class FrozenOps:
    """Just what the collector reads: settings, counters and a fixed snapshot."""

    def __init__(self, snapshot: EngineSnapshot, metrics: EngineMetrics) -> None:
        self.settings = SETTINGS
        self.metrics = metrics
        self._snapshot = snapshot

    def snapshot(self) -> EngineSnapshot:
        return self._snapshot


def scrape(snapshot: EngineSnapshot, metrics: EngineMetrics) -> dict[tuple[str, str], float]:
    registry = CollectorRegistry()
    registry.register(EngineCollector(FrozenOps(snapshot, metrics)))
    text = generate_latest(registry).decode()
    return {
        (sample.name, ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_the_collector_encodes_breakers_drawdown_and_cumulative_latency_buckets() -> None:
    snapshot = dataclasses.replace(
        with_breaker(frozen_snapshot(), "orders", BreakerState.HALF_OPEN),
        equity=9_000.0,
        peak_equity=10_000.0,
    )
    metrics = metrics_at()
    intent = OrderIntent("SOL/USD", Side.BUY, Decimal(1), confidence=0.1)
    rejection = GateResult("signal_confidence", False, "LOW_CONFIDENCE")
    metrics.decided(Decision(Verdict.REJECT, intent, Decimal(0), (rejection,), rejection), 3e-6)
    metrics.decided(Decision(Verdict.APPROVE, intent, Decimal(1), ()), 2e-3)
    metrics.breaker_changed("orders", BreakerState.OPEN)
    metrics.orders_submitted[Mode.PAPER.value] += 1
    samples = scrape(snapshot, metrics)

    assert samples[("tradetui_breaker_state", "category=orders")] == 1
    assert samples[("tradetui_breaker_state", "category=account")] == 0
    assert samples[("tradetui_breaker_transitions_total", "category=orders,to=open")] == 1
    assert samples[("tradetui_breaker_transitions_total", "category=orders,to=closed")] == 0
    assert samples[("tradetui_drawdown_ratio", "")] == pytest.approx(0.1)
    assert samples[("tradetui_open_positions", "")] == 2
    assert samples[("tradetui_quote_age_seconds", "symbol=ETH/USD")] == pytest.approx(1.2)
    assert samples[("tradetui_risk_evaluation_seconds_bucket", "le=2.5e-06")] == 0
    assert samples[("tradetui_risk_evaluation_seconds_bucket", "le=5e-06")] == 1
    assert samples[("tradetui_risk_evaluation_seconds_bucket", "le=0.001")] == 1
    assert samples[("tradetui_risk_evaluation_seconds_bucket", "le=+Inf")] == 2
    assert samples[("tradetui_risk_evaluation_seconds_count", "")] == 2
    assert samples[("tradetui_risk_evaluation_seconds_sum", "")] == pytest.approx(2.003e-3)
    key = ("tradetui_orders_rejected_total", "code=LOW_CONFIDENCE,gate=signal_confidence")
    assert samples[key] == 1
    assert samples[("tradetui_orders_submitted_total", "mode=PAPER")] == 1
    assert samples[("tradetui_orders_submitted_total", "mode=LIVE")] == 0
    assert samples[("tradetui_health_status", "tradetui_health_status=degraded")] == 1


def test_a_symbol_without_a_quote_has_an_infinite_age() -> None:
    snapshot = frozen_snapshot()
    quotes = {s: q for s, q in snapshot.quotes.items() if s != "BTC/USD"}
    samples = scrape(dataclasses.replace(snapshot, quotes=quotes), metrics_at())
    assert samples[("tradetui_quote_age_seconds", "symbol=BTC/USD")] == float("inf")
