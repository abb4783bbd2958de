"""Provides `tradetui bench signals`: time to compute every symbol's signal from one snapshot."""

from __future__ import annotations

import random
import time

from tradetui.cli.bench.figures import Figure, percentile

SYMBOLS = 20
BOOK_LEVELS = 10
ROUNDS = 2_000
WARMUP = 200
TRADES_PER_ROUND = 3
"""Public trades added to each symbol's tape between two timed computations."""


def bench_signals(rounds: int = ROUNDS, symbols: int = SYMBOLS) -> list[Figure]:
    """Latency of compute_signals over ``symbols`` symbols with 10-level books and a trade tape.

    The volume history is warmed past its minimum first, so every component is computed.
    """
    from tradetui.core.model import OrderBook, PublicTrade, Quote
    from tradetui.core.services.signals import SignalState, TradeTape, compute_signals

    # Simulated market or benchmark data, not security.
    rng = random.Random(7)  # nosec B311
    names = [f"C{i:02d}/USD" for i in range(symbols)]
    quotes: dict[str, Quote] = {}
    books: dict[str, OrderBook] = {}
    for name in names:
        mid = rng.uniform(0.1, 60_000.0)
        step = mid * 1e-4
        quotes[name] = Quote(name, mid - step, mid + step, mid, 1.0, 1.0, received_at=0.0)
        books[name] = OrderBook(
            name,
            tuple((mid - step * (i + 1), rng.uniform(0.1, 5.0)) for i in range(BOOK_LEVELS)),
            tuple((mid + step * (i + 1), rng.uniform(0.1, 5.0)) for i in range(BOOK_LEVELS)),
            received_at=0.0,
        )
    tape, state = TradeTape(), SignalState()

    def trade_round(now: float) -> None:
        trades = [
            PublicTrade(name, quotes[name].mid * rng.uniform(0.999, 1.001), rng.uniform(0.01, 1))
            for name in names
            for _ in range(TRADES_PER_ROUND)
        ]
        tape.record(trades, quotes, now)

    for i in range(WARMUP):
        trade_round(float(i))
        compute_signals(quotes, books, tape, state)
    samples_ns: list[int] = []
    clock = time.perf_counter_ns
    for i in range(rounds):
        trade_round(float(WARMUP + i))
        start = clock()
        signals = compute_signals(quotes, books, tape, state)
        samples_ns.append(clock() - start)
        # Type narrowing for mypy; the value is set on this path.
        assert len(signals) == symbols  # nosec B101
    samples_ns.sort()
    return [
        Figure("signals.p50", percentile(samples_ns, 50) / 1000, "us"),
        Figure("signals.p99", percentile(samples_ns, 99) / 1000, "us"),
    ]
