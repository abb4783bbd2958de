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
from typing import TYPE_CHECKING

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


# Runs in a small fresh interpreter: starts the measured process, waits for it and prints its
# exit code, its peak RSS (wait4's ru_maxrss) and the launcher's own peak, in KiB.
# Why a launcher: Linux keeps ru_maxrss across exec as the larger of the old memory's peak and
# the new one's, and the old memory of a child the benchmark process forks is a copy of the
# benchmark's (with vfork or posix_spawn, the benchmark's memory itself). Started from the
# benchmark process, a session reports the benchmark's size whenever that is larger; started
# from this launcher (about 10 MB), it reports its own peak.
_RSS_LAUNCHER = textwrap.dedent(
    """
    import os, sys
    quiet = [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)]
    pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ, file_actions=quiet)
    _, status, usage = os.wait4(pid, 0)
    with open("/proc/self/status") as own:
        launcher_kib = [line.split()[1] for line in own if line.startswith("VmHWM:")][0]
    print(os.waitstatus_to_exitcode(status), usage.ru_maxrss, launcher_kib, flush=True)
    """
)


def bench_rss(seconds: float = RSS_SECONDS) -> list[Figure]:
    """Peak RSS of a headless session trading five pairs on the embedded simulator.

    The session is started by a small launcher process (see `_RSS_LAUNCHER`), so the figure is
    the session's own peak whatever the size of the process running the benchmarks.
    """
    with tempfile.TemporaryDirectory(prefix="tradetui-bench-") as data_dir:
        env = {**os.environ, "TRADETUI_SYMBOLS": _json_list(RSS_SYMBOLS)}
        command = [sys.executable, "-m", "tradetui", "--no-ui", "--run-for", str(seconds)]
        peak_kib = peak_rss_kib([*command, "--data-dir", data_dir], env)
    return [Figure("rss.mb", peak_kib / 1024, "MB")]


def peak_rss_kib(command: list[str], env: dict[str, str]) -> int:
    """Run ``command`` (its output discarded) to its end; returns its own peak RSS in KiB.

    Raises RuntimeError, with what it wrote to stderr, when it fails.
    """
    with tempfile.TemporaryFile("w+") as errors:
        # Our own interpreter and fixed arguments, no shell.
        launcher = subprocess.run(  # nosec B603
            [sys.executable, "-c", _RSS_LAUNCHER, *command],
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            check=False,
        )
        exit_code, peak_kib, launcher_kib = _launcher_report(launcher.stdout)
        if launcher.returncode != 0 or exit_code != 0:
            errors.seek(0)
            raise RuntimeError(f"the measured process failed: {errors.read().strip()}")
    if launcher_kib >= peak_kib:
        # The figure is max(launcher, session): it says nothing when the launcher is the larger.
        raise RuntimeError(f"the rss launcher ({launcher_kib} KiB) outgrew what it measured")
    return peak_kib  # ru_maxrss is in KiB on Linux


def _launcher_report(output: str) -> tuple[int, int, int]:
    """Exit code, peak RSS and the launcher's own peak (KiB) from the launcher's last line."""
    try:
        exit_code, peak_kib, launcher_kib = (int(word) for word in output.split()[-3:])
    except ValueError:
        return -1, 0, 0
    return exit_code, peak_kib, launcher_kib


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
            await engine.resume()  # the first live trading on a data dir comes up PAUSED
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
