"""Provides the engine benchmarks: start-up time, memory, and the order round trip."""

from __future__ import annotations

import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from decimal import Decimal
from pathlib import Path

from tradetui.bench_figures import Figure, percentile

STARTUP_RUNS = 3
ROUNDTRIP_ORDERS = 200
RSS_SECONDS = 60.0
RSS_SYMBOLS = ["BTC/USD", "ETH/USD", "SOL/USD", "XRP/USD", "ADA/USD"]

# Runs in a fresh interpreter: from process start to the first quote in the engine snapshot.
_STARTUP_CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from tradetui.config import load_settings
    from tradetui.core.engine import Engine
    from tradetui.paths import DataPaths

    async def main() -> None:
        engine = Engine(load_settings(None, strategy={"enabled": False}), DataPaths(Path(sys.argv[1])))
        await engine.start()
        while not engine.snapshot().quotes:
            await asyncio.sleep(0.005)
        print("first-quote", flush=True)
        await engine.stop()

    asyncio.run(main())
    """
)


def bench_startup(runs: int = STARTUP_RUNS) -> list[Figure]:
    """Process start to the first quote in the snapshot: headless, embedded simulator (median)."""
    samples_ms: list[float] = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="tradetui-bench-") as data_dir:
            started = time.perf_counter()
            child = subprocess.Popen(
                [sys.executable, "-c", _STARTUP_CHILD, data_dir],
                stdout=subprocess.PIPE,
                text=True,
            )
            assert child.stdout is not None
            line = child.stdout.readline()
            elapsed_ms = (time.perf_counter() - started) * 1000
            child.wait(timeout=30)
        if line.strip() != "first-quote":
            raise RuntimeError("the start-up benchmark's engine never reported a quote")
        samples_ms.append(elapsed_ms)
    samples_ms.sort()
    return [Figure("startup.ms", samples_ms[len(samples_ms) // 2], "ms")]


def bench_rss(seconds: float = RSS_SECONDS) -> list[Figure]:
    """Peak RSS of a headless session trading five pairs on the embedded simulator."""
    with tempfile.TemporaryDirectory(prefix="tradetui-bench-") as data_dir:
        env = {**os.environ, "TRADETUI_SYMBOLS": _json_list(RSS_SYMBOLS)}
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "tradetui",
                "--no-ui",
                "--run-for",
                str(seconds),
                "--data-dir",
                data_dir,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            timeout=seconds + 60,
        )
    if completed.returncode != 0:
        raise RuntimeError(f"the rss benchmark's session failed: {completed.stderr.strip()}")
    # ru_maxrss is in KiB on Linux: the largest child waited for so far, i.e. this session.
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return [Figure("rss.mb", peak_kib / 1024, "MB")]


def bench_order_roundtrip(orders: int = ROUNDTRIP_ORDERS) -> list[Figure]:
    """Intent → risk guard → audit → ccxt REST AddOrder → simulator ack, on loopback (ms)."""
    return asyncio.run(_order_roundtrip(orders))


async def _order_roundtrip(orders: int) -> list[Figure]:
    from tradetui.config import load_settings
    from tradetui.core.engine import Engine
    from tradetui.core.model import Mode, OrderIntent, OrderType, Side
    from tradetui.paths import DataPaths

    settings = load_settings(
        None, strategy={"enabled": False}, risk={"max_orders_per_minute": 1_000_000}
    )
    with tempfile.TemporaryDirectory(prefix="tradetui-bench-") as data_dir:
        engine = Engine(settings, DataPaths(Path(data_dir)))
        await engine.start()
        try:
            for _ in range(3000):  # first quote within 30 s
                if "BTC/USD" in engine.snapshot().quotes:
                    break
                await asyncio.sleep(0.01)
            await engine.set_mode(Mode.LIVE)
            bid = engine.snapshot().quotes["BTC/USD"].bid
            price = Decimal(str(round(bid * 0.97, 1)))  # rests: nothing fills, nothing moves
            intent = OrderIntent(
                "BTC/USD", Side.BUY, Decimal("0.0001"), OrderType.LIMIT, price, confidence=0.9
            )
            samples_ns: list[int] = []
            for _ in range(orders):
                started = time.perf_counter_ns()
                decision = await engine.submit(intent)
                samples_ns.append(time.perf_counter_ns() - started)
                if not decision.approved:
                    raise RuntimeError(f"round-trip order rejected: {decision.rejected_by}")
            await engine.kill()
        finally:
            await engine.stop()
    samples_ns.sort()
    return [
        Figure("order_roundtrip.p50", percentile(samples_ns, 50) / 1e6, "ms"),
        Figure("order_roundtrip.p99", percentile(samples_ns, 99) / 1e6, "ms"),
    ]


def _json_list(values: list[str]) -> str:
    return "[" + ",".join(f'"{v}"' for v in values) + "]"
