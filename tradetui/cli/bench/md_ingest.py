"""Provides `tradetui bench md_ingest`: market-data frames per second the engine takes in at
saturation, against a bare ccxt.pro client on the same frames."""

from __future__ import annotations

import asyncio
import gc
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tradetui.cli.bench.figures import Figure
from tradetui.cli.bench.replay import RECORD_FRAMES, ChildReplay, FeedReport, ReplayInfo
from tradetui.paths import DataPaths

MD_SECONDS = 3.0
MD_WARMUP_S = 1.0
MD_SYMBOLS = ["BTC/USD", "ETH/USD", "SOL/USD"]
"""The engine's default symbols."""
FIRST_FRAME_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Ingest:
    """What one client did with the replay during the timed window."""

    frames: int
    wall_s: float
    cpu_s: float
    """This process's CPU time (user + system, every thread) over the window."""
    applied: int = 0
    """Watch results the engine's market data applied (the engine side only)."""

    @property
    def rate(self) -> float:
        return self.frames / self.wall_s

    @property
    def cpu_us_per_frame(self) -> float:
        return self.cpu_s / self.frames * 1e6


def bench_md_ingest(
    seconds: float = MD_SECONDS, warmup_s: float = MD_WARMUP_S, record_frames: int = RECORD_FRAMES
) -> list[Figure]:
    """WS v2 market-data frames per second the engine takes in, at saturation.

    A child process records ticker, book and trade frames of the engine's three default symbols
    from the simulator once, then replays them to each client as fast as that client reads
    them (see `replay.py`). Two clients, one after the other, in this process:

    - `md_ingest.ccxt_rate`: a bare ccxt.pro kraken client watching every ticker, book and
      trade stream in a loop and doing nothing with what it gets: ccxt's own ceiling.
    - `md_ingest.rate`: an engine (`build_engine`, strategy off) whose market data watches the
      same streams on the same client type and applies what they return.

    A frame is counted when ccxt's client has decoded it and handed it to the exchange's
    handler. ccxt.pro resolves a watch with the latest state, so when frames arrive faster than
    a watcher loops, one watch result stands for several frames: the engine's work per frame is
    what it does at that rate; `md_ingest.applied_rate` counts the watch results (quotes, books,
    trade batches) the engine applied. `md_ingest.kept` is rate / ccxt_rate; `*_us_per_msg` is
    this process's CPU time per frame (every thread, user and system), which depends less on
    what else runs on the machine than the rates do. `md_ingest.feed_rate` is what the feed
    sends per second of its own CPU time: what it could send if it never waited for a client,
    which must exceed both rates for them to be the clients' and not the feed's.
    """
    replay = ChildReplay(MD_SYMBOLS, record_frames)
    with replay as info:
        ccxt_ingest = asyncio.run(_ccxt_ingest(info, seconds, warmup_s))
        ccxt_feed = replay.report()
        engine_ingest = asyncio.run(_engine_ingest(info, seconds, warmup_s))
        engine_feed = replay.report()
    return [
        Figure("md_ingest.rate", engine_ingest.rate, "msgs/s"),
        Figure("md_ingest.ccxt_rate", ccxt_ingest.rate, "msgs/s"),
        Figure("md_ingest.kept", engine_ingest.rate / ccxt_ingest.rate * 100, "%"),
        Figure("md_ingest.engine_us_per_msg", engine_ingest.cpu_us_per_frame, "us"),
        Figure("md_ingest.ccxt_us_per_msg", ccxt_ingest.cpu_us_per_frame, "us"),
        Figure("md_ingest.applied_rate", engine_ingest.applied / engine_ingest.wall_s, "updates/s"),
        Figure("md_ingest.feed_rate", _feed_rate(ccxt_feed, engine_feed), "msgs/cpu-s"),
    ]


def _feed_rate(*reports: FeedReport) -> float:
    cpu_s = sum(report.cpu_s for report in reports)
    if cpu_s <= 0:
        raise RuntimeError("md_ingest: the replay feed measured no CPU time of its own")
    return sum(report.frames for report in reports) / cpu_s


async def _ccxt_ingest(info: ReplayInfo, seconds: float, warmup_s: float) -> Ingest:
    from tradetui.core.venue.loader import pro_exchange_class

    exchange = pro_exchange_class("kraken")(_ccxt_config(info))

    async def watch_forever(watch: Callable[[str], Awaitable[Any]], symbol: str) -> None:
        while True:
            await watch(symbol)

    try:
        await asyncio.wait_for(exchange.load_markets(), FIRST_FRAME_TIMEOUT_S)
        tasks = [
            asyncio.create_task(watch_forever(watch, symbol))
            for symbol in MD_SYMBOLS
            for watch in (exchange.watch_ticker, exchange.watch_order_book, exchange.watch_trades)
        ]
        try:
            return await _timed_window(exchange, seconds, warmup_s)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        await exchange.close()


async def _engine_ingest(info: ReplayInfo, seconds: float, warmup_s: float) -> Ingest:
    from tradetui.config import load_settings
    from tradetui.runtime import build_engine

    venue = {
        "exchange": "sim-external",
        "rest_url": info.rest_url,
        "ws_public_url": info.ws_url,
        "ws_private_url": info.sim_ws_private_url,
        "account": "bench-no-credentials",
    }
    settings = load_settings(None, symbols=MD_SYMBOLS, strategy={"enabled": False}, venue=venue)
    with tempfile.TemporaryDirectory(prefix="tradetui-bench-") as data_dir:
        engine = build_engine(settings, DataPaths(Path(data_dir)))
        await engine.start()
        try:
            # Type narrowing for mypy; both are set once the engine has started.
            assert engine.venue is not None  # nosec B101
            market = engine.feeds.market
            assert market is not None  # nosec B101
            exchange = engine.venue.client.exchange
            return await _timed_window(
                exchange, seconds, warmup_s, lambda: market.messages_received
            )
        finally:
            await engine.stop()


def _ccxt_config(info: ReplayInfo) -> dict[str, Any]:
    """What the engine gives ccxt for an external simulator, without credentials."""
    ws = {"publicV2": info.ws_url, "privateV2": info.sim_ws_private_url}
    return {
        "enableRateLimit": False,
        "timeout_on_exit": 0,
        "urls": {"api": {"public": info.rest_url, "private": info.rest_url, "ws": ws}},
    }


async def _timed_window(
    exchange: Any, seconds: float, warmup_s: float, applied: Callable[[], int] = lambda: 0
) -> Ingest:
    """Count the frames ``exchange``'s public socket hands to its handler, after a warm-up."""
    counter = await _count_frames(exchange)
    await asyncio.sleep(warmup_s)
    gc.collect()  # not a leftover of what ran before in this process
    frames, applied_before = counter.frames, applied()
    started, cpu_started = time.perf_counter(), time.process_time()
    await asyncio.sleep(seconds)
    cpu_s, wall_s = time.process_time() - cpu_started, time.perf_counter() - started
    if counter.frames == frames:
        raise RuntimeError("md_ingest: the client took in no frame in the timed window")
    return Ingest(counter.frames - frames, wall_s, cpu_s, applied() - applied_before)


class _FrameCounter:
    def __init__(self) -> None:
        self.frames = 0


async def _count_frames(exchange: Any) -> _FrameCounter:
    """Wait for ``exchange``'s public socket and count every frame it decodes from then on.

    ccxt's client calls its `on_message_callback` attribute (the exchange's handler) once per
    decoded frame; the wrapper costs both clients the same one call.
    """
    counter = _FrameCounter()
    url = exchange.urls["api"]["ws"]["publicV2"]
    deadline = time.monotonic() + FIRST_FRAME_TIMEOUT_S
    while url not in exchange.clients:
        if time.monotonic() > deadline:
            raise RuntimeError("md_ingest: the client never opened its market-data socket")
        await asyncio.sleep(0.01)
    client = exchange.clients[url]
    handle = client.on_message_callback

    def counting(connection: Any, message: Any) -> Any:
        counter.frames += 1
        return handle(connection, message)

    client.on_message_callback = counting
    while not counter.frames:
        if time.monotonic() > deadline:
            raise RuntimeError("md_ingest: the replay sent the client no frame")
        await asyncio.sleep(0.01)
    return counter
