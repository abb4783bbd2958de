"""Start-up tells the truth: passing venue trouble is ridden out while the engine says what it
waits for, definitive errors end the start in one line, and a failed start never erases the mark
a crash left."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import quiet_settings, wait_until
from tradetui.config import Settings, load_settings
from tradetui.core.api import EngineError
from tradetui.core.model import Mode, TradingState
from tradetui.ops.remote import ControlClient
from tradetui.paths import DataPaths
from tradetui.runtime import Runtime, build_engine
from tradetui.sim.faults import Faults
from tradetui.sim.server import SimInfo, SimServer


@pytest.fixture
async def failing_sim() -> AsyncIterator[SimServer]:
    """A standalone simulator whose REST answers every request EService:Unavailable."""
    sim = SimServer(port=0, faults=Faults(error_rate=1.0))
    await sim.start()
    yield sim
    await sim.stop()


def external(info: SimInfo, **overrides: Any) -> Settings:
    venue = {
        "exchange": "sim-external",
        "rest_url": info.rest,
        "ws_public_url": info.ws_public,
        "ws_private_url": info.ws_private,
    }
    return load_settings(None, venue=venue, **{"strategy": {"enabled": False}, **overrides})


def kv(path: Path, key: str) -> str | None:
    with sqlite3.connect(path) as db:
        row = db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def health(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=5) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


async def test_a_start_rides_out_a_venue_that_fails_and_says_so_meanwhile(
    failing_sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = failing_sim.info
    assert info is not None
    monkeypatch.setenv("TRADETUI_API_KEY", info.api_key)
    monkeypatch.setenv("TRADETUI_API_SECRET", info.secret)
    settings = external(info, strategy={"enabled": True}, ops={"http_port": 0})
    paths = DataPaths(tmp_path / "d").ensure()
    runtime = Runtime(settings, paths, http=True)
    starting = asyncio.create_task(runtime.start())
    try:
        await wait_until(
            lambda: "EService:Unavailable" in runtime.snapshot().phase_detail, what="retries"
        )
        snapshot = runtime.snapshot()
        assert (snapshot.phase, snapshot.connected) == ("connecting", False)
        assert runtime.engine.metrics.strategy_ticked_at is None, "no strategy before the venue"
        assert runtime.ops_server is not None
        code, doc = await asyncio.to_thread(health, runtime.ops_server.url)
        assert code == 503 and doc["reasons"][0].startswith("connecting to the venue…")
        client = ControlClient(paths.root)
        await client.connect()
        try:
            assert (await client.request("status"))["phase"] == "connecting"
        finally:
            await client.close()
        failing_sim.faults.update({"error_rate": 0.0})  # the venue is back
        await asyncio.wait_for(starting, 30)
        assert runtime.snapshot().phase == "running" and runtime.snapshot().connected
    finally:
        if not starting.done():
            starting.cancel()
        await runtime.stop()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"symbols": ["BTC/USD", "NOPE/USD"]}, "unknown symbol(s) on this venue: NOPE/USD"),
        ({}, "failed: AuthenticationError: kraken"),
    ],
    ids=["unknown-symbol", "bad-key"],
)
async def test_a_definitive_venue_error_ends_the_start_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, overrides: dict[str, Any], message: str
) -> None:
    sim = SimServer(port=0)
    info = await sim.start()
    monkeypatch.setenv("TRADETUI_API_KEY", "bm9wZQ==" if not overrides else info.api_key)
    monkeypatch.setenv("TRADETUI_API_SECRET", info.secret)
    engine = build_engine(external(info, **overrides), DataPaths(tmp_path / "d").ensure())
    try:
        with pytest.raises(EngineError) as refused:
            await asyncio.wait_for(engine.start(), 30)
        assert message in str(refused.value) and "\n" not in str(refused.value)
    finally:
        await engine.stop()
        await sim.stop()


async def test_a_failed_start_after_a_crash_keeps_the_crash_for_the_next_start(
    tmp_path: Path,
) -> None:
    paths = DataPaths(tmp_path / "d").ensure()
    first = build_engine(quiet_settings(), paths)
    await first.start()
    await first.stop()
    with sqlite3.connect(paths.database) as db:  # the next session is killed: no clean stop
        db.execute("UPDATE kv SET value = 'running' WHERE key = 'session'")

    failed = build_engine(quiet_settings(symbols=["NOPE/USD"]), paths)
    with pytest.raises(EngineError, match="NOPE/USD"):
        await failed.start()
    await failed.stop()
    assert kv(paths.database, "session") == "running", "a failed start is not a clean session"

    alerts: list[str] = []
    live = build_engine(quiet_settings(mode="live"), paths)
    live.alerts.hook = lambda kind, subject, message, **fields: alerts.append(kind)
    await live.start()
    try:
        assert live.snapshot().mode is Mode.LIVE
        assert live.snapshot().state is TradingState.PAUSED
        assert "crash_recovery" in alerts
    finally:
        await live.stop()
    assert kv(paths.database, "session") == "clean"


async def test_the_demo_strategy_never_starts_live_and_pulse_named_on_purpose_does(
    tmp_path: Path,
) -> None:
    demo = build_engine(load_settings(None, mode="live"), DataPaths(tmp_path / "a").ensure())
    with pytest.raises(EngineError, match=r"the demo strategy pulse runs only on paper"):
        await demo.start()
    await demo.stop()
    on_purpose = load_settings(None, mode="live", strategies=[{"name": "pulse"}])
    engine = build_engine(on_purpose, DataPaths(tmp_path / "b").ensure())
    await engine.start()
    try:
        assert engine.snapshot().state is TradingState.PAUSED, "the first live start pauses"
    finally:
        await engine.stop()
