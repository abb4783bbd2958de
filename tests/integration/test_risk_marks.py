"""The equity marks the daily-loss and drawdown gates measure against are the engine's own: its
1 s risk tick advances them, and reading a snapshot writes nothing."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import quiet_settings, wait_until
from tests.integration.test_copy import Leader
from tests.integration.test_copy import settings as copy_settings
from tradetui.core.engine import Engine
from tradetui.core.model import EngineSnapshot, Mode
from tradetui.paths import DataPaths
from tradetui.runtime import build_engine


def kv(engine: Engine, key: str) -> str | None:
    with sqlite3.connect(engine.paths.database) as db:
        row = db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


async def test_marks_advance_with_no_snapshot_reader_at_all(
    make_engine: Callable[..., Engine],
) -> None:
    """Copy trading only: no strategy, no console, no /metrics scrape reads a snapshot."""
    engine = make_engine(copy_settings())
    reads: list[float] = []
    real_snapshot = engine.snapshot

    def counted_snapshot() -> EngineSnapshot:
        reads.append(time.time())
        return real_snapshot()

    engine.snapshot = counted_snapshot  # type: ignore[method-assign]
    await engine.start()
    leader = Leader(engine)
    try:
        await wait_until(lambda: kv(engine, "day_start:PAPER") is not None, what="day start")
        await leader.market("buy", 0.2)
        await wait_until(lambda: engine.ledgers.portfolio.amount("ETH/USD") > 0, what="the copy")
        start = engine.risk.day_start_equity(Mode.PAPER)
        peak = engine.risk.peak_equity(Mode.PAPER)
        assert start is not None and start > 0 and peak is not None and peak >= start
        day_start = kv(engine, "day_start:PAPER") or ""
        assert day_start.startswith(time.strftime("%Y-%m-%d", time.gmtime()))
    finally:
        await leader.close()
        await engine.stop()
    assert reads == [], "nothing may have read a snapshot in this session"
    assert float(kv(engine, "peak_equity:PAPER") or 0) > 0  # flushed by the clean stop


async def test_reading_snapshots_writes_nothing_and_the_tick_starts_a_new_day(
    tmp_path: Path,
) -> None:
    """Readers on a new UTC day find the marks as the tick left them: only the tick starts the
    new day (the old snapshot() wrote the day start itself)."""
    offset = [0.0]
    engine = build_engine(
        quiet_settings(),
        DataPaths(tmp_path / "d").ensure(),
        clock=lambda: time.time() + offset[0],
    )
    await engine.start()
    try:
        await wait_until(lambda: engine.risk.day_start_equity(Mode.PAPER) is not None, what="start")
        offset[0] = 86_400.0  # tomorrow, UTC
        writes = engine._store.writes_queued
        for _ in range(50):  # no await in between: nothing but snapshot() runs
            snapshot = engine.snapshot()
        assert engine._store.writes_queued == writes, "snapshot() queued a write"
        assert snapshot.day_pnl is None  # tomorrow's start is not known until the tick marks it
        await wait_until(lambda: engine.risk.day_start_equity(Mode.PAPER) is not None, what="day")
        assert engine._store.writes_queued > writes
    finally:
        await engine.stop()
