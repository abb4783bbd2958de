"""Provides `tradetui bench`: named micro-benchmarks printed as a table or as JSON lines."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from tradetui.cli.bench.figures import Figure, percentile

if TYPE_CHECKING:
    from tradetui.core.model import OrderIntent
    from tradetui.core.risk import RiskContext

NONCE_SECONDS = 1.0
RISK_EVALUATIONS = 20_000
RISK_WARMUP = 2_000


Benchmark = Callable[[], list[Figure]]


def bench_nonce(seconds: float = NONCE_SECONDS) -> list[Figure]:
    """Nonces per second from a file-backed NonceManager (the configuration live trading uses)."""
    from tradetui.core.venue.nonce import NonceManager

    with tempfile.TemporaryDirectory(prefix="tradetui-bench-") as directory:
        manager = NonceManager(Path(directory) / "nonce")
        count = 0
        started = time.perf_counter()
        deadline = started + seconds
        # Check the clock once per batch so timing calls don't dominate what is measured.
        while time.perf_counter() < deadline:
            for _ in range(1000):
                manager.next_nonce()
            count += 1000
        elapsed = time.perf_counter() - started
        manager.close()
    return [Figure("nonce.rate", count / elapsed, "nonces/s")]


def bench_risk_eval(evaluations: int = RISK_EVALUATIONS) -> list[Figure]:
    """Latency of one full RiskGuard.evaluate over a mix of approved, reduced and sell intents."""
    from tradetui.config import RiskSettings
    from tradetui.core.risk import RiskGuard

    guard = RiskGuard(RiskSettings())
    cases = _risk_cases()
    for i in range(RISK_WARMUP):
        guard.evaluate(*cases[i % len(cases)])
    samples_ns: list[int] = []
    clock = time.perf_counter_ns
    for i in range(evaluations):
        intent, ctx = cases[i % len(cases)]
        start = clock()
        guard.evaluate(intent, ctx)
        samples_ns.append(clock() - start)
    samples_ns.sort()
    return [
        Figure("risk_eval.p50", percentile(samples_ns, 50) / 1000, "us"),
        Figure("risk_eval.p99", percentile(samples_ns, 99) / 1000, "us"),
    ]


def _risk_cases() -> list[tuple[OrderIntent, RiskContext]]:
    """Intents that pass every gate (the slowest path) or get reduced, as the engine sees them."""
    from tradetui.core.model import MarketInfo, OrderIntent, OrderType, Quote, Side, TradingState
    from tradetui.core.risk import RiskContext

    now = 1_700_000_000.0
    market = MarketInfo(
        symbol="BTC/USD",
        base="BTC",
        quote="USD",
        amount_step=Decimal("0.00000001"),
        price_step=Decimal("0.1"),
        min_amount=Decimal("0.0001"),
        min_cost=Decimal("0.5"),
    )
    quote = Quote("BTC/USD", 60_000.0, 60_010.0, 60_005.0, 1.5, 1.2, received_at=now - 0.4)
    ctx = RiskContext(
        now=now,
        state=TradingState.ACTIVE,
        breaker_open=False,
        market=market,
        quote=quote,
        market_data_down=False,
        equity=10_000.0,
        balances_known=True,
        position_amount=Decimal("0.005"),
        open_position_symbols=frozenset({"BTC/USD", "ETH/USD"}),
        free_quote=7_500.0,
        free_base=0.005,
        # Every reference known and within its limit: each gate computes its number.
        day_start_equity=10_100.0,
        peak_equity=10_400.0,
        correlation_known=True,
        exposure=2_500.0,
        cluster_exposure=300.0,
    )
    intents = [
        OrderIntent("BTC/USD", Side.BUY, Decimal("0.0033"), strategy="pulse", confidence=0.9),
        OrderIntent(
            "BTC/USD",
            Side.BUY,
            Decimal("0.0033"),
            OrderType.LIMIT,
            Decimal("59910.0"),
            strategy="pulse",
            confidence=0.8,
        ),
        # Asks for 60 % of equity: position_size reduces it to the 20 % limit.
        OrderIntent("BTC/USD", Side.BUY, Decimal("0.1"), strategy="pulse", confidence=0.95),
        OrderIntent("BTC/USD", Side.SELL, Decimal("0.004"), strategy="pulse", confidence=0.9),
    ]
    return [(intent, ctx) for intent in intents]


def bench_sim_ws() -> list[Figure]:
    """WS v2 messages/s one ccxt.pro client receives from the simulator (see cli/bench/sim.py)."""
    from tradetui.cli.bench.sim import bench_sim_ws as run

    return run()


def bench_sim_rest() -> list[Figure]:
    """Signed private REST requests/s the simulator answers to ccxt clients (see cli/bench/sim.py)."""
    from tradetui.cli.bench.sim import bench_sim_rest as run

    return run()


def bench_order_roundtrip() -> list[Figure]:
    """Intent to simulator acknowledgement over ccxt REST, in ms (see cli/bench/engine.py)."""
    from tradetui.cli.bench.engine import bench_order_roundtrip as run

    return run()


def bench_md_ingest() -> list[Figure]:
    """Market-data frames/s the engine takes in at saturation, against ccxt alone (see
    cli/bench/md_ingest.py)."""
    from tradetui.cli.bench.md_ingest import bench_md_ingest as run

    return run()


def bench_kill_switch() -> list[Figure]:
    """Time to HALTED and to 50 simulator orders cancelled (see cli/bench/engine.py)."""
    from tradetui.cli.bench.engine import bench_kill_switch as run

    return run()


def bench_startup() -> list[Figure]:
    """Process start to the first quote in the engine snapshot, in ms (see cli/bench/engine.py)."""
    from tradetui.cli.bench.engine import bench_startup as run

    return run()


def bench_rss() -> list[Figure]:
    """Peak RSS of a 60 s five-pair headless session, in MB (see cli/bench/engine.py)."""
    from tradetui.cli.bench.engine import bench_rss as run

    return run()


def bench_logging() -> list[Figure]:
    """Structured log records/s written with rotation on, and the caller's cost (see cli/bench/logs.py)."""
    from tradetui.cli.bench.logs import bench_logging as run

    return run()


def bench_ui_first_paint() -> list[Figure]:
    """Process start to the app's first frame in a pseudo-terminal, in ms (see cli/bench/ui.py)."""
    from tradetui.cli.bench.ui import bench_ui_first_paint as run

    return run()


def bench_ui_frame() -> list[Figure]:
    """Time to apply one snapshot of 20 symbols, frame included, in ms (see cli/bench/ui.py)."""
    from tradetui.cli.bench.ui import bench_ui_frame as run

    return run()


def bench_signals() -> list[Figure]:
    """Time to compute the signals of 20 symbols from one snapshot, in us (see cli/bench/signals.py)."""
    from tradetui.cli.bench.signals import bench_signals as run

    return run()


BENCHMARKS: dict[str, Benchmark] = {
    "nonce": bench_nonce,
    "risk_eval": bench_risk_eval,
    "signals": bench_signals,
    "sim_ws": bench_sim_ws,
    "sim_rest": bench_sim_rest,
    "order_roundtrip": bench_order_roundtrip,
    "md_ingest": bench_md_ingest,
    "kill_switch": bench_kill_switch,
    "startup": bench_startup,
    "rss": bench_rss,
    "logging": bench_logging,
    "ui_first_paint": bench_ui_first_paint,
    "ui_frame": bench_ui_frame,
}
"""Every benchmark by name, in the order `tradetui bench` runs them."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tradetui bench", description="Run micro-benchmarks (all of them by default)."
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(BENCHMARKS))
    parser.add_argument("--json", action="store_true", help="one JSON object per figure per line")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of `tradetui bench`."""
    args = _parser().parse_args(argv)
    app_logger = logging.getLogger("tradetui")
    level = app_logger.level
    # The engine benchmarks run real engines; their warnings are not the benchmark's output.
    app_logger.setLevel(logging.ERROR)
    try:
        return _run(args)
    finally:
        app_logger.setLevel(level)  # run in-process (tests), it must not silence what follows


def _run(args: argparse.Namespace) -> int:
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        print(
            f"tradetui bench: unknown benchmark {unknown[0]!r}; choose from {', '.join(BENCHMARKS)}",
            file=sys.stderr,
        )
        return 2
    figures: list[Figure] = []
    for name in args.names or list(BENCHMARKS):
        results = BENCHMARKS[name]()
        if args.json:
            for figure in results:
                print(json.dumps(asdict(figure)), flush=True)
        figures.extend(results)
    if not args.json:
        _print_table(figures)
    return 0


def _print_table(figures: list[Figure]) -> None:
    rows = [(f.name, f"{f.value:,.2f}", f.unit) for f in figures]
    name_width = max([len("name"), *(len(r[0]) for r in rows)])
    value_width = max([len("value"), *(len(r[1]) for r in rows)])
    print(f"{'name':<{name_width}}  {'value':>{value_width}}  unit")
    for name, value, unit in rows:
        print(f"{name:<{name_width}}  {value:>{value_width}}  {unit}")
