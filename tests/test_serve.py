"""`tradetui serve` end to end: the page, tabs over textual-serve's websocket, the engine lock."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

TERMINAL_CONTROL = re.compile(
    rb"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[()][0-9A-Za-z]|[=>])"
)
"""Escape sequences in a tab's output (CSI, OSC, charset and keypad switches)."""


class Served:
    """A running `tradetui serve` on 127.0.0.1."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, data_dir: Path, out: Path):
        self.process = process
        self.port = port
        self.data_dir = data_dir
        self.out = out

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def stop(self) -> int:
        """SIGTERM, as an operator's Ctrl+C would; returns the exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    port = free_port()
    data_dir = tmp_path / "data"
    out = tmp_path / "serve.out"
    with out.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "tradetui", "serve", "--port", str(port)]
            + ["--data-dir", str(data_dir)],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = Served(process, port, data_dir, out)
    yield server
    if process.poll() is None:
        server.stop()


async def index_page(served: Served, within_s: float = 60.0) -> str:
    """GET / once the server listens; fail the test (never hang) if it never does."""
    async with aiohttp.ClientSession() as session:
        async with asyncio.timeout(within_s):
            while True:
                assert served.process.poll() is None, served.out.read_text()
                try:
                    async with session.get(served.url) as response:
                        assert response.status == 200
                        return await response.text()
                except aiohttp.ClientConnectorError:
                    await asyncio.sleep(0.1)


async def screen_until(
    tab: aiohttp.ClientWebSocketResponse, wanted: str, within_s: float = 60.0
) -> str:
    """Read a tab's terminal output until its text shows ``wanted``; return that text."""
    output = b""
    text = ""
    try:
        async with asyncio.timeout(within_s):
            while wanted not in text:
                message = await tab.receive()
                assert message.type is aiohttp.WSMsgType.BINARY, message
                output += message.data
                text = TERMINAL_CONTROL.sub(b"", output).decode(errors="replace")
    except TimeoutError:
        pytest.fail(f"the tab never showed {wanted!r}; it showed:\n{text[-3000:]}")
    return text


def lock_holder_pid(data_dir: Path) -> int:
    return int(json.loads((data_dir / "engine.lock").read_text())["pid"])


async def test_serve_answers_with_textual_serves_page_for_tradetui_and_stops_on_sigterm(
    served: Served,
) -> None:
    page = await index_page(served)
    assert f'data-session-websocket-url="ws://127.0.0.1:{served.port}/ws"' in page
    assert "<div>tradetui</div>" in page
    assert "/static/js/textual.js" in page
    assert served.stop() == 0
    assert f"tradetui serve: open {served.url} in a browser" in served.out.read_text()


async def test_a_second_tab_is_told_which_pid_runs_the_engine_and_stop_ends_the_first(
    served: Served,
) -> None:
    """Guards the point of the lock: two browser tabs never run two engines on one data dir."""
    await index_page(served)
    # Wide enough that the refusal, with its long temporary path, fits on one line of a pane.
    tab_url = f"ws://127.0.0.1:{served.port}/ws?width=400&height=60"
    async with aiohttp.ClientSession() as session:
        first = await session.ws_connect(tab_url)
        await screen_until(first, "BTC/USD")  # a quote from the running engine's venue
        engine_pid = lock_holder_pid(served.data_dir)
        assert engine_pid != served.process.pid

        async with session.ws_connect(tab_url) as second:
            shown = await screen_until(second, f"(pid {engine_pid})")
        assert "engine failed to start: data dir" in shown
        assert "is in use by another tradetui engine" in shown
        assert lock_holder_pid(served.data_dir) == engine_pid

        served.process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(60):
            async for _ in first:  # the page's terminal keeps drawing until the server closes it
                pass
        assert first.closed
        assert served.process.wait(timeout=60) == 0
    # The server waited for the first tab's app to quit, and that app stopped its engine cleanly.
    with sqlite3.connect(served.data_dir / "tradetui.db") as db:
        assert db.execute("SELECT value FROM kv WHERE key = 'session'").fetchone() == ("clean",)
    assert (served.data_dir / "engine.lock").read_text() == ""


def test_a_non_loopback_host_needs_allow_remote(tmp_path: Path) -> None:
    refused = subprocess.run(
        [sys.executable, "-m", "tradetui", "serve", "--host", "0.0.0.0", "--port", "1"]
        + ["--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        "tradetui serve: 0.0.0.0 is not a loopback address; add --allow-remote to serve the "
        "bot's controls to the network"
    ]
