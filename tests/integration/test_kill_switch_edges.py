"""The kill switch at the edges of a session: pulled before or while the engine starts, signalled
while it stops, and in live mode on orders the engine never placed."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import go_live, quiet_settings, wait_until
from tests.integration.test_engine_sim import resting_bid
from tradetui.core.engine import Engine
from tradetui.core.model import Mode, TradingState
from tradetui.paths import DataPaths
from tradetui.runtime import Runtime
from tradetui.ui.deferred_engine import DeferredEngine


def kv(path: Path, key: str) -> str | None:
    with sqlite3.connect(path) as db:
        row = db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


async def leave_a_resting_order(make_engine: Callable[..., Engine]) -> Engine:
    """A session that ends with one paper bid resting (it goes back on the book next start)."""
    first = make_engine()
    await first.start()
    await wait_until(lambda: "BTC/USD" in first.snapshot().quotes, what="a quote")
    await first.submit(resting_bid(first))
    assert len(first.snapshot().open_orders) == 1
    await first.stop()
    return first


async def test_a_kill_then_release_before_the_engine_exists_cancels_and_stays_released(
    make_engine: Callable[..., Engine],
) -> None:
    first = await leave_a_resting_order(make_engine)
    settings = quiet_settings()
    deferred = DeferredEngine(lambda: Runtime(settings, first.paths), settings)
    await deferred.kill()
    await deferred.release(confirmed=True)
    assert deferred.snapshot().state is TradingState.PAUSED
    await deferred.start()
    try:
        snapshot = deferred.snapshot()
        assert snapshot.state is TradingState.PAUSED, "the release the operator saw holds"
        assert snapshot.open_orders == (), "the kill switch's cancels still ran"
    finally:
        await deferred.stop()


async def test_a_kill_while_the_engine_starts_cancels_once_its_orders_are_known(
    make_engine: Callable[..., Engine],
) -> None:
    first = await leave_a_resting_order(make_engine)
    settings = quiet_settings()
    built = asyncio.Event()

    def build() -> Runtime:
        built.set()  # we wake once start() has begun and awaits the store or the venue
        return Runtime(settings, first.paths)

    deferred = DeferredEngine(build, settings)
    starting = asyncio.create_task(deferred.start())
    await asyncio.wait_for(built.wait(), 30)
    assert not deferred.snapshot().connected, "pulled while the engine is still starting"
    await deferred.kill()
    await starting
    try:
        snapshot = deferred.snapshot()
        assert snapshot.state is TradingState.HALTED and snapshot.open_orders == ()
    finally:
        await deferred.stop()


async def test_sigusr1_while_stopping_only_halts_and_the_stop_ends_clean(tmp_path: Path) -> None:
    """Guards the shutdown: SIGUSR1's default action would end the process mid-stop."""
    paths = DataPaths(tmp_path / "d").ensure()
    runtime = Runtime(quiet_settings(), paths)
    await runtime.start()
    await runtime.close_front()
    os.kill(os.getpid(), signal.SIGUSR1)
    await wait_until(lambda: runtime.snapshot().state is TradingState.HALTED, what="the halt")
    await runtime.stop()
    assert kv(paths.database, "session") == "clean"
    assert kv(paths.database, "trading_state") == "HALTED"


async def test_a_live_kill_cancels_orders_the_engine_never_placed(engine: Engine) -> None:
    """The venue's CancelAll takes every order of the account, not only ours."""
    await go_live(engine)
    exchange = engine.venue.client.exchange  # type: ignore[union-attr]
    price = round(engine.snapshot().quotes["BTC/USD"].bid * 0.9, 1)
    by_hand = await exchange.create_order("BTC/USD", "limit", "buy", 0.001, price)
    assert engine.snapshot().open_orders == (), "the engine does not track it"
    await engine.kill()
    assert [o["id"] for o in await exchange.fetch_open_orders()] == []
    assert (await exchange.fetch_order(by_hand["id"]))["status"] == "canceled"


async def test_back_to_paper_names_the_live_order_it_leaves_and_the_kill_counts_per_ledger(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    await go_live(engine)
    await engine.submit(resting_bid(engine))
    with caplog.at_level(logging.WARNING, logger="tradetui"):
        await engine.set_mode(Mode.PAPER)
        await engine.submit(resting_bid(engine, "ETH/USD"))
        await engine.kill()
    messages = [record.getMessage() for record in caplog.records]
    assert any(
        "back to paper: left on the venue: 1 live order(s) (BTC/USD buy" in m for m in messages
    )
    assert any("kill switch canceled 1 paper and 1 live order(s)" in m for m in messages)
