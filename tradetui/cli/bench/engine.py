"""Provides the engine benchmarks: start-up time, memory, and the order round trip."""

from __future__ import annotations

import asyncio
import contextlib
import os

# Runs our own interpreter with fixed arguments.
import subprocess  # nosec B404
import sys
import tempfile
import textwrap
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradetui.cli.bench.figures import Figure, percentile
from tradetui.paths import DataPaths

if TYPE_CHECKING:
    from tradetui.core.engine import Engine
    from tradetui.core.model import OrderIntent

STARTUP_RUNS = 3
ROUNDTRIP_ORDERS = 200
RSS_SECONDS = 60.0
RSS_SYMBOLS = ["BTC/USD", "ETH/USD", "SOL/USD", "XRP/USD", "ADA/USD"]  # five simulator pairs

# Runs in a fresh interpreter: from process start to the first quote in the engine snapshot.
_STARTUP_CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from tradetui.config import load_settings
    from tradetui.runtime import build_engine
    from tradetui.paths import DataPaths

    async def main() -> None:
        settings = load_settings(None, strategy={"enabled": False})
        engine = build_engine(settings, DataPaths(Path(sys.argv[1])))
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
            # Our own interpreter and fixed arguments, no shell.
            child = subprocess.Popen(  # nosec B603
                [sys.executable, "-c", _STARTUP_CHILD, data_dir],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            # Type narrowing for mypy; the value is set on this path.
            assert child.stdout is not None  # nosec B101
            line = child.stdout.readline()
            elapsed_ms = (time.perf_counter() - started) * 1000
            _, errors = child.communicate(timeout=30)
        if line.strip() != "first-quote":
            raise RuntimeError(f"the start-up benchmark's engine never reported a quote: {errors}")
        samples_ms.append(elapsed_ms)
    samples_ms.sort()
    return [Figure("startup.ms", samples_ms[len(samples_ms) // 2], "ms")]


def bench_rss(seconds: float = RSS_SECONDS) -> list[Figure]:
    """Peak RSS of a headless session trading five pairs on the embedded simulator."""
    with (
        tempfile.TemporaryDirectory(prefix="tradetui-bench-") as data_dir,
        tempfile.TemporaryFile("w+") as errors,
    ):
        env = {**os.environ, "TRADETUI_SYMBOLS": _json_list(RSS_SYMBOLS)}
        command = [sys.executable, "-m", "tradetui", "--no-ui", "--run-for", str(seconds)]
        # Our own interpreter and fixed arguments, no shell.
        session = subprocess.Popen(  # nosec B603
            [*command, "--data-dir", data_dir], env=env, stdout=subprocess.DEVNULL, stderr=errors
        )
        # wait4 reports this child's own peak, not the largest of every child so far.
        _, status, usage = os.wait4(session.pid, 0)
        session.returncode = os.waitstatus_to_exitcode(status)
        if session.returncode != 0:
            errors.seek(0)
            raise RuntimeError(f"the rss benchmark's session failed: {errors.read().strip()}")
    return [Figure("rss.mb", usage.ru_maxrss / 1024, "MB")]  # ru_maxrss is in KiB on Linux


def bench_order_roundtrip(orders: int = ROUNDTRIP_ORDERS) -> list[Figure]:
    """Intent → risk guard → audit → ccxt REST AddOrder → simulator ack, on loopback (ms)."""
    return asyncio.run(_order_roundtrip(orders))


@contextlib.asynccontextmanager
async def _live_engine_with_resting_bid() -> AsyncIterator[tuple[Engine, OrderIntent]]:
    """A live engine on the embedded simulator, and a BTC/USD bid 3 % under the market that
    rests (nothing fills, nothing moves); no order-rate limit."""
    from tradetui.config import load_settings
    from tradetui.core.model import Mode, OrderIntent, OrderType, Side
    from tradetui.runtime import build_engine

    settings = load_settings(
        None, strategy={"enabled": False}, risk={"max_orders_per_minute": 1_000_000}
    )
    with tempfile.TemporaryDirectory(prefix="tradetui-bench-") as data_dir:
        engine = build_engine(settings, DataPaths(Path(data_dir)))
        await engine.start()
        try:
            for _ in range(3000):  # first quote within 30 s
                if "BTC/USD" in engine.snapshot().quotes:
                    break
                await asyncio.sleep(0.01)
            await engine.set_mode(Mode.LIVE)
            price = Decimal(str(round(engine.snapshot().quotes["BTC/USD"].bid * 0.97, 1)))
            yield (
                engine,
                OrderIntent(
                    "BTC/USD", Side.BUY, Decimal("0.0001"), OrderType.LIMIT, price, confidence=0.9
                ),
            )
        finally:
            await engine.stop()


async def _order_roundtrip(orders: int) -> list[Figure]:
    async with _live_engine_with_resting_bid() as (engine, intent):
        samples_ns: list[int] = []
        for _ in range(orders):
            started = time.perf_counter_ns()
            decision = await engine.submit(intent)
            samples_ns.append(time.perf_counter_ns() - started)
            if not decision.approved:
                raise RuntimeError(f"round-trip order rejected: {decision.rejected_by}")
        await engine.kill()
    samples_ns.sort()
    return [
        Figure("order_roundtrip.p50", percentile(samples_ns, 50) / 1e6, "ms"),
        Figure("order_roundtrip.p99", percentile(samples_ns, 99) / 1e6, "ms"),
    ]


KILL_ORDERS = 50


def bench_kill_switch(orders: int = KILL_ORDERS) -> list[Figure]:
    """`kill_switch.halt_ms`: the HALT step (nothing new passes the risk guard after it);
    `kill_switch.cancel_all_ms`: the whole kill switch with 50 live orders resting on the
    simulator, until the venue has confirmed them all cancelled."""
    return asyncio.run(_kill_switch(orders))


async def _kill_switch(orders: int) -> list[Figure]:
    from tradetui.core.model import TradingState

    async with _live_engine_with_resting_bid() as (engine, intent):
        for _ in range(orders):
            await engine.submit(intent)
        if len(await _venue_orders(engine)) != orders:
            raise RuntimeError("the kill-switch benchmark could not rest its orders")
        started = time.perf_counter_ns()
        engine.halt()
        halted = time.perf_counter_ns()
        await engine.kill()
        cancelled = time.perf_counter_ns()
        if engine.snapshot().state is not TradingState.HALTED:
            raise RuntimeError("the engine did not halt")
        if await _venue_orders(engine):
            raise RuntimeError("orders survived the kill switch")
    return [
        Figure("kill_switch.halt_ms", (halted - started) / 1e6, "ms"),
        Figure("kill_switch.cancel_all_ms", (cancelled - started) / 1e6, "ms"),
    ]


async def _venue_orders(engine: Engine) -> list[object]:
    """The account's open orders on the venue itself (through the engine's venue client)."""
    assert engine.venue is not None  # nosec B101 - started (type narrowing)
    return list(await engine.venue.client.fetch_open_orders())


def _json_list(values: list[str]) -> str:
    return "[" + ",".join(f'"{v}"' for v in values) + "]"


MD_SECONDS = 3.0
MD_WARMUP_S = 1.0


def bench_md_ingest(seconds: float = MD_SECONDS) -> list[Figure]:
    """Ticker and book updates per second the engine applies to its snapshot, against ccxt alone.

    `md_ingest.rate`: watch_ticker / watch_order_book results the engine's market data copies
    into its snapshot; `md_ingest.ccxt_rate`: the same subscriptions on a bare ccxt.pro client
    that does nothing with what it gets. Both against one simulator (in a child process)
    ticking every 0.5 ms; `md_ingest.kept` is the engine's share of ccxt's rate.
    """
    from tradetui.cli.bench.sim import WS_TICK_S, _ChildSim

    with _ChildSim({"tick_interval": WS_TICK_S, "seed": 7}) as (info, _):
        engine_rate = asyncio.run(_engine_ingest(info, seconds))
        ccxt_rate = asyncio.run(_ccxt_ingest(info, seconds))
    return [
        Figure("md_ingest.rate", engine_rate, "msgs/s"),
        Figure("md_ingest.ccxt_rate", ccxt_rate, "msgs/s"),
        Figure("md_ingest.kept", engine_rate / ccxt_rate * 100 if ccxt_rate else 0.0, "%"),
    ]


async def _engine_ingest(info: Any, seconds: float) -> float:
    from tradetui.config import load_settings
    from tradetui.runtime import build_engine

    venue = {
        "exchange": "sim-external",
        "rest_url": info.rest,
        "ws_public_url": info.ws_public,
        "ws_private_url": info.ws_private,
        "account": "bench-no-credentials",
    }
    settings = load_settings(None, strategy={"enabled": False}, venue=venue)
    with tempfile.TemporaryDirectory(prefix="tradetui-bench-") as data_dir:
        engine = build_engine(settings, DataPaths(Path(data_dir)))
        await engine.start()
        try:
            market_data = engine.feeds.market
            # Type narrowing for mypy; the value is set on this path.
            assert market_data is not None  # nosec B101
            await asyncio.sleep(MD_WARMUP_S)
            before, started = market_data.messages_received, time.perf_counter()
            await asyncio.sleep(seconds)
            return (market_data.messages_received - before) / (time.perf_counter() - started)
        finally:
            await engine.stop()


async def _ccxt_ingest(info: Any, seconds: float) -> float:
    from tradetui.core.venue.loader import pro_exchange_class

    client = pro_exchange_class("kraken")(info.ccxt_config())
    count = 0

    async def loop(watch: Any, symbol: str) -> None:
        nonlocal count
        while True:
            await watch(symbol)
            count += 1

    try:
        await client.load_markets()
        symbols = ["BTC/USD", "ETH/USD", "SOL/USD"]
        tasks = [
            asyncio.create_task(loop(watch, symbol))
            for symbol in symbols
            for watch in (client.watch_ticker, client.watch_order_book)
        ]
        await asyncio.sleep(MD_WARMUP_S)
        before, started = count, time.perf_counter()
        await asyncio.sleep(seconds)
        rate = (count - before) / (time.perf_counter() - started)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return rate
    finally:
        await client.close()
