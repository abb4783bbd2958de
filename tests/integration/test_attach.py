"""`tradetui attach`: the console over RemoteEngine on a real headless engine process."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Static

from tests.conftest import quiet_settings
from tests.integration.test_ctl import ctl, start_headless, status, stop, wait_for_engine
from tests.ui.test_ui_engine import wait_for
from tradetui.config import Settings
from tradetui.core.api import EngineError
from tradetui.core.engine import Engine
from tradetui.core.model import TradingState
from tradetui.ops.control import ControlServer
from tradetui.ops.remote import ControlClient, RemoteEngine
from tradetui.ops.wire import socket_path
from tradetui.paths import DataPaths
from tradetui.runtime import Runtime
from tradetui.ui.app import TradeTuiApp

SIZE = (120, 40)


def header_text(app: TradeTuiApp, part: str) -> str:
    content = app.header.query_one(f"#{part}", Static).content
    return str(getattr(content, "plain", content))


async def engine_state(data_dir: Path) -> str:
    """The headless engine's trading state, asked over its socket (not through the app)."""
    client = ControlClient(data_dir)
    await client.connect()
    try:
        return str((await client.request("status"))["state"])
    finally:
        await client.close()


@pytest.fixture
def headless(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    data_dir = tmp_path / "d"
    process = start_headless(data_dir)
    try:
        wait_for_engine(process, data_dir)
        yield process, data_dir
    finally:
        if process.poll() is None:
            stop(process)


def attached_app(data_dir: Path) -> TradeTuiApp:
    engine = RemoteEngine(data_dir, refresh_hz=5.0)
    return TradeTuiApp(engine, Settings(), engine.log_source)


async def test_attach_shows_the_engine_p_pauses_it_and_quitting_leaves_it_running(
    headless: tuple[subprocess.Popen[bytes], Path],
) -> None:
    process, data_dir = headless
    app = attached_app(data_dir)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.ever_connected, 30, "the first snapshot")
        doc = await asyncio.to_thread(status, data_dir)
        await wait_for(pilot, lambda: header_text(app, "venue") == doc["venue"], 10, "the venue")
        assert header_text(app, "state") == doc["state"] == "ACTIVE"
        assert header_text(app, "mode") == doc["mode"] == "PAPER"

        await pilot.press("p")
        for _ in range(100):  # the command is on its way; the engine's own answer decides
            if await engine_state(data_dir) == "PAUSED":
                break
            await pilot.pause(0.1)
        assert await engine_state(data_dir) == "PAUSED"
        await wait_for(pilot, lambda: header_text(app, "state") == "PAUSED", 10, "PAUSED shown")
        await wait_for(
            pilot,
            lambda: any("-> PAUSED" in entry.message for entry in app.logs_pane.entries),
            10,
            "the engine's log line about it",
        )
    assert process.poll() is None, "quitting the attached console stopped the engine"
    assert (await asyncio.to_thread(status, data_dir))["state"] == "PAUSED"


async def test_a_lost_engine_shows_in_the_console_and_a_returning_one_is_reattached(
    engine: Engine,
) -> None:
    """The engine runs in this process here: its control server goes away and comes back, which
    the console sees exactly as an engine process that stops and starts again."""
    server = ControlServer(engine, engine.paths.root)
    await server.start()
    app = attached_app(engine.paths.root)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.ever_connected, 30, "the first snapshot")
            await server.close()
            await wait_for(
                pilot,
                lambda: (
                    header_text(app, "venue") == f"no engine on {engine.paths.root} · disconnected"
                ),
                30,
                "the console to say the engine is gone",
            )
            assert any("lost the engine" in entry.message for entry in app.logs_pane.entries)

            server = ControlServer(engine, engine.paths.root)
            await server.start()
            await wait_for(
                pilot,
                lambda: header_text(app, "venue") == engine.snapshot().venue,
                30,
                "the console to reconnect",
            )
            await wait_for(
                pilot,
                lambda: any("reconnected" in entry.message for entry in app.logs_pane.entries),
                10,
                "the console's note that it reconnected",
            )
    finally:
        await server.close()


async def test_attaching_to_nothing_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(EngineError, match=r"^no engine is running on data dir .*d \(no control"):
        await RemoteEngine(tmp_path / "d").start()
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "tradetui", "attach", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"tradetui attach: no engine is running on data dir {tmp_path} (no control socket)"
    ]


async def test_the_tui_serves_its_engine_to_ctl_while_it_runs(tmp_path: Path) -> None:
    settings = quiet_settings()
    runtime = Runtime(settings, DataPaths(tmp_path / "d").ensure())
    app = TradeTuiApp(runtime, settings)
    engine = runtime.engine
    path = socket_path(engine.paths.root)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, path.exists, 30, "the control socket")
        paused = await asyncio.to_thread(ctl, engine.paths.root, "pause")
        assert paused.returncode == 0, paused.stderr
        assert engine.snapshot().state is TradingState.PAUSED
    assert not path.exists()
