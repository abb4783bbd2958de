"""Provides the engine's plain counters: bumped at events, read by ops/metrics.py at scrape time."""

from __future__ import annotations

import bisect
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from tradetui.core.model import BreakerState, Decision, Order

RISK_LATENCY_BUCKETS_S: tuple[float, ...] = (
    1e-6,
    2.5e-6,
    5e-6,
    1e-5,
    2.5e-5,
    5e-5,
    1e-4,
    2.5e-4,
    5e-4,
    1e-3,
)
"""Upper bounds of the risk-evaluation latency buckets (seconds); the guard runs in microseconds."""


@dataclass(slots=True)
class StreamStats:
    """What the supervisor of one stream has seen: messages, failures and whether it is failing."""

    clock: Callable[[], float]
    received: int = 0
    failures: int = 0
    """Failed receives; each is followed by a reconnect (the next watch_* call)."""
    last_received_at: float | None = None
    failing_since: float | None = None
    """When the current outage began; None while the stream works (or has not failed yet)."""

    def on_message(self) -> None:
        """One message arrived."""
        self.received += 1
        self.last_received_at = self.clock()
        self.failing_since = None

    def on_failure(self) -> None:
        """A receive failed; the supervisor is about to retry."""
        self.failures += 1
        if self.failing_since is None:
            self.failing_since = self.clock()


@dataclass(slots=True)
class LatencyHistogram:
    """Counts per bucket (not cumulative), plus the sum and count, like a Prometheus histogram."""

    bounds: tuple[float, ...] = RISK_LATENCY_BUCKETS_S
    counts: list[int] = field(default_factory=lambda: [0] * (len(RISK_LATENCY_BUCKETS_S) + 1))
    """One count per bound, and a last one for values above every bound."""
    total_s: float = 0.0
    count: int = 0

    def observe(self, seconds: float) -> None:
        """Record one measurement."""
        self.counts[bisect.bisect_left(self.bounds, seconds)] += 1
        self.total_s += seconds
        self.count += 1


class EngineMetrics:
    """Counters the engine bumps as things happen; cheap, and free of any metrics library.

    ``tradetui.ops.metrics`` turns them into Prometheus metrics when scraped, and
    ``tradetui.ops.health`` reads the stream and strategy state from here.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.streams: dict[str, StreamStats] = {}
        """Per supervised stream, keyed by its label (``ticker BTC/USD``, ``balances`` ...)."""
        self.orders_submitted: Counter[str] = Counter()
        """Approved orders handed to the broker, by mode."""
        self.orders_finished: Counter[tuple[str, str]] = Counter()
        """Orders that reached a final state, by (mode, status)."""
        self.rejections: Counter[tuple[str, str]] = Counter()
        """Risk rejections, by (gate, reason code)."""
        self.risk_latency = LatencyHistogram()
        self.breaker_transitions: Counter[tuple[str, str]] = Counter()
        """Circuit-breaker state changes, by (category, new state)."""
        self.store_errors = 0
        self.store_failed_at: float | None = None
        self.strategy_ticked_at: float | None = None
        """When the strategy loop last woke up (None before it started)."""

    def stream(self, label: str) -> StreamStats:
        """The stats of the stream called ``label``, created on first use."""
        stats = self.streams.get(label)
        if stats is None:
            stats = self.streams[label] = StreamStats(self.clock)
        return stats

    def decided(self, decision: Decision, seconds: float) -> None:
        """One risk evaluation took ``seconds`` and ended in ``decision``."""
        self.risk_latency.observe(seconds)
        rejected = decision.rejected_by
        if rejected is not None:
            self.rejections[(rejected.gate, rejected.code)] += 1

    def order_finished(self, order: Order) -> None:
        """``order`` reached a final state."""
        self.orders_finished[(order.mode.value, order.status.value)] += 1

    def breaker_changed(self, category: str, state: BreakerState) -> None:
        """A circuit breaker moved to ``state``."""
        self.breaker_transitions[(category, state.value)] += 1

    def store_failed(self) -> None:
        """A store write failed (an order could not be persisted)."""
        self.store_errors += 1
        self.store_failed_at = self.clock()
