"""Provides /metrics: the engine's counters and snapshot as Prometheus metrics, read at scrape time."""

from __future__ import annotations

import math
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
    StateSetMetricFamily,
)

from tradetui.core.model import BreakerState, Mode, OrderStatus, TradingState
from tradetui.logs import records_written
from tradetui.ops.health import STATUSES, MonitoredEngine, assess

BREAKER_STATE_VALUES = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}
FINAL_STATUSES = tuple(s.value for s in OrderStatus if s.is_terminal)


def build_registry(engine: MonitoredEngine) -> CollectorRegistry:
    """A registry of this engine's own (never the process-global default one), so several
    engines in one process, as in the tests, each export only their own numbers."""
    registry = CollectorRegistry()
    registry.register(EngineCollector(engine))
    ProcessCollector(registry=registry)
    return registry


def render(registry: CollectorRegistry) -> bytes:
    """The registry in the Prometheus text exposition format."""
    return generate_latest(registry)


class EngineCollector:
    """Reads one snapshot and the engine's counters per scrape; the engine never waits on it."""

    def __init__(self, engine: MonitoredEngine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[Metric]:
        """Every tradetui_* metric family, computed now."""
        engine = self._engine
        snapshot = engine.snapshot()
        metrics = engine.metrics
        health = assess(snapshot, metrics, engine.settings)

        yield InfoMetricFamily(
            "tradetui",
            "The engine's mode, venue and the currency equity and PnL are counted in.",
            value={
                "mode": snapshot.mode.value,
                "venue": snapshot.venue,
                "quote_currency": snapshot.quote_currency,
            },
        )
        yield StateSetMetricFamily(
            "tradetui_health_status",
            "Overall health as /health reports it (ok, degraded, halted, down).",
            value={status: status == health.status for status in STATUSES},
        )
        yield StateSetMetricFamily(
            "tradetui_trading_state",
            "Trading state: ACTIVE, PAUSED or HALTED.",
            value={state.value: state is snapshot.state for state in TradingState},
        )

        quote_age = GaugeMetricFamily(
            "tradetui_quote_age_seconds",
            "Seconds since the last quote of each symbol; +Inf before the first one.",
            labels=["symbol"],
        )
        rest_fallback = GaugeMetricFamily(
            "tradetui_quote_from_rest",
            "1 when the symbol's latest quote was polled over REST because its stream went quiet.",
            labels=["symbol"],
        )
        for symbol in snapshot.symbols:
            age = snapshot.quote_age_s(symbol)
            quote_age.add_metric([symbol], math.inf if age is None else age)
            quote = snapshot.quotes.get(symbol)
            rest_fallback.add_metric([symbol], float(quote is not None and quote.source != "ws"))
        yield quote_age
        yield rest_fallback

        yield from _stream_families(engine)
        yield from _order_families(engine)

        latency = metrics.risk_latency
        cumulative, buckets = 0, []
        for bound, count in zip((*latency.bounds, math.inf), latency.counts, strict=True):
            cumulative += count
            buckets.append(("+Inf" if math.isinf(bound) else repr(bound), float(cumulative)))
        yield HistogramMetricFamily(
            "tradetui_risk_evaluation_seconds",
            "Time RiskGuard.evaluate took per intent.",
            buckets=buckets,
            sum_value=latency.total_s,
        )

        breaker_state = GaugeMetricFamily(
            "tradetui_breaker_state",
            "Circuit breaker state per category: 0 closed, 1 half-open, 2 open.",
            labels=["category"],
        )
        for breaker in snapshot.breakers:
            breaker_state.add_metric([breaker.category], BREAKER_STATE_VALUES[breaker.state])
        yield breaker_state
        transitions = CounterMetricFamily(
            "tradetui_breaker_transitions",
            "Circuit breaker state changes, by category and the state entered.",
            labels=["category", "to"],
        )
        for breaker in snapshot.breakers:
            for state in BreakerState:  # every series from zero, so rate() sees the first trip
                count = metrics.breaker_transitions[(breaker.category, state.value)]
                transitions.add_metric([breaker.category, state.value], count)
        yield transitions

        # An unknown figure (None) is a family without a sample: absent, never a made-up 0.
        peak, equity = snapshot.peak_equity, snapshot.equity
        drawdown = None
        if peak is not None and equity is not None:
            drawdown = max(0.0, 1.0 - equity / peak) if peak > 0 else 0.0
        figures: tuple[tuple[str, str, float | None], ...] = (
            (
                "tradetui_equity",
                "Equity of the current ledger, in the quote currency.",
                snapshot.equity,
            ),
            ("tradetui_peak_equity", "Highest priced equity of the current ledger.", peak),
            (
                "tradetui_day_pnl",
                "PnL since the UTC day started, in the quote currency.",
                snapshot.day_pnl,
            ),
            (
                "tradetui_drawdown_ratio",
                "Fraction of equity below its peak (0.1 is 10 %).",
                drawdown,
            ),
            (
                "tradetui_open_positions",
                "Symbols holding a position in the current ledger.",
                sum(1 for p in snapshot.positions.values() if p.amount > 0),
            ),
            (
                "tradetui_open_orders",
                "Open orders in the current ledger.",
                len(snapshot.open_orders),
            ),
        )
        for name, doc, value in figures:
            yield GaugeMetricFamily(name, doc, value=value)

        yield CounterMetricFamily(
            "tradetui_store_write_errors",
            "Orders not placed because the store could not persist them.",
            value=metrics.store_errors,
        )
        records = CounterMetricFamily(
            "tradetui_log_records",
            "Log records written by this process (file, stdout, Logs pane), by level.",
            labels=["level"],
        )
        for level, count in sorted(records_written().items()):
            records.add_metric([level], count)
        yield records


def _stream_families(engine: MonitoredEngine) -> Iterator[Metric]:
    received = CounterMetricFamily(
        "tradetui_messages_received",
        "Messages received per supervised stream (ticker, book, trades; balances, orders, fills).",
        labels=["stream", "symbol"],
    )
    reconnects = CounterMetricFamily(
        "tradetui_stream_reconnects",
        "Stream failures per supervised stream; each is followed by a reconnect.",
        labels=["stream", "symbol"],
    )
    for label, stats in sorted(engine.metrics.streams.items()):
        kind, _, symbol = label.partition(" ")
        received.add_metric([kind, symbol], stats.received)
        reconnects.add_metric([kind, symbol], stats.failures)
    yield received
    yield reconnects


def _order_families(engine: MonitoredEngine) -> Iterator[Metric]:
    metrics = engine.metrics
    submitted = CounterMetricFamily(
        "tradetui_orders_submitted",
        "Orders the risk guard approved and the engine handed to the broker, by mode.",
        labels=["mode"],
    )
    for mode in Mode:
        submitted.add_metric([mode.value], metrics.orders_submitted[mode.value])
    yield submitted
    rejected = CounterMetricFamily(
        "tradetui_orders_rejected",
        "Intents the risk guard rejected, by gate and reason code.",
        labels=["gate", "code"],
    )
    for (gate, code), count in sorted(metrics.rejections.items()):
        rejected.add_metric([gate, code], count)
    yield rejected
    finished = CounterMetricFamily(
        "tradetui_orders_finished",
        "Orders that reached a final state (FILLED, CANCELED, REJECTED), by mode and status.",
        labels=["mode", "status"],
    )
    for mode in Mode:
        for status in FINAL_STATUSES:
            finished.add_metric([mode.value, status], metrics.orders_finished[(mode.value, status)])
    yield finished
