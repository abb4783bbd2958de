"""Provides the UI benchmarks: the real app's first paint in a pty, and one snapshot applied."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import inspect
import os
import pty
import re
import select
import signal
import statistics
import struct

# Runs our own interpreter with fixed arguments.
import subprocess  # nosec B404
import sys
import tempfile
import termios
import time
from pathlib import Path
from typing import Any

from textual import events
from textual.app import App
from textual.driver import Driver
from textual.geometry import Size
from textual.timer import Timer, TimerCallback

from tradetui.cli.bench.figures import Figure, percentile
from tradetui.cli.bench.synthetic import SyntheticEngine
from tradetui.config import load_settings
from tradetui.ui.app import TradeTuiApp

FIRST_PAINT_RUNS = 5
PTY_COLUMNS, PTY_ROWS = 120, 40
FIRST_PAINT_TIMEOUT_S = 30.0
QUIT_TIMEOUT_S = 30.0

FRAME_SAMPLES = 200
FRAME_WARMUP = 20
FRAME_SIZE = (160, 48)
FRAME_QUIET_S = 0.05
FRAME_SETTLE_TIMEOUT_S = 10.0


class _FrameTimingDriver(Driver):
    """A terminal driver without a terminal: it takes the bytes of every frame and notes when
    each frame ends.

    It says it is not headless, so Textual encodes each frame into escape sequences exactly as it
    does for a real terminal (headless runs skip that step) and hands them over with `write`,
    then `flush` once per frame. Only public Textual API: the `Driver` base class, and the
    `Resize` event a terminal driver sends at start.
    """

    def __init__(
        self,
        app: App[Any],
        *,
        debug: bool = False,
        mouse: bool = True,
        size: tuple[int, int] | None = None,
    ) -> None:
        super().__init__(app, debug=debug, mouse=mouse, size=size)
        if not isinstance(app, _FrameBenchApp):
            raise TypeError("_FrameTimingDriver drives the frame benchmark's app only")
        self.bench_app = app
        self.columns, self.rows = size or FRAME_SIZE

    def write(self, data: str) -> None:
        # Making the bytes is the cost measured; no terminal shows them.
        self.bench_app.terminal_chars_written += len(data)

    def flush(self) -> None:
        # Textual flushes once per frame, after its last write.
        self.bench_app.frame_ends_cpu_ns.append(time.thread_time_ns())

    def start_application_mode(self) -> None:
        size = Size(self.columns, self.rows)
        self.bench_app.post_message(events.Resize(size, size))

    def disable_input(self) -> None:
        pass  # there is no input

    def stop_application_mode(self) -> None:
        pass  # there is no terminal to restore


class _FrameBenchApp(TradeTuiApp):
    """TradeTuiApp whose own refresh timer stays paused and whose frames are encoded and timed."""

    # Textual resolves a relative CSS_PATH next to the subclass's module; use the app's file.
    CSS_PATH = str(Path(inspect.getfile(TradeTuiApp)).with_name("app.tcss"))

    def __init__(self, engine: SyntheticEngine) -> None:
        super().__init__(engine, load_settings(None))
        # Run with run_test(headless=False): Textual then builds this driver class.
        self.driver_class = _FrameTimingDriver
        self.frame_ends_cpu_ns: list[int] = []
        """UI-thread CPU clock at the end of every frame since the list was last cleared."""
        self.terminal_chars_written = 0
        """Characters of escape sequences and text Textual wrote to the driver."""
        self.paused_refresh_timer: Timer | None = None
        """The app's own snapshot timer, which this benchmark never lets run."""

    def set_interval(
        self,
        interval: float,
        callback: TimerCallback | None = None,
        *,
        name: str | None = None,
        repeat: int = 0,
        pause: bool = False,
    ) -> Timer:
        # The benchmark ticks the app itself; the app's own timer would land in its samples.
        if callback != self._tick:
            return super().set_interval(interval, callback, name=name, repeat=repeat, pause=pause)
        # Held here: a paused timer's task is otherwise only referenced weakly, and is collected.
        self.paused_refresh_timer = super().set_interval(
            interval, callback, name=name, repeat=repeat, pause=True
        )
        return self.paused_refresh_timer


def bench_ui_frame(samples: int = FRAME_SAMPLES, warmup: int = FRAME_WARMUP) -> list[Figure]:
    """UI-thread time to apply one snapshot of 20 symbols, every quote changed (ms, p50/p99).

    A sample starts just before `app.refresh_snapshot()` (read the snapshot, diff every pane's
    rows, update the changed cells inside `batch_update()`) and ends when the last frame that
    snapshot caused has been composed (Textual's compositor rendering the dirty lines, and any
    layout a changed width caused), encoded by Textual into terminal escape sequences and
    written to the driver (`_FrameTimingDriver`, which has no terminal behind it). It counts the
    UI thread's CPU time (`time.thread_time_ns`): the work of a frame, not its latency, so the
    wait for Textual's 60 fps paint timer and time spent waiting for a busy CPU are left out;
    garbage collections that run inside the window are in. 160x48, at most 10 snapshots/s.
    """
    ticks_ns, full_ns = asyncio.run(_frame_samples(samples, warmup))
    ticks_ns.sort()
    full_ns.sort()
    return [
        Figure("ui_frame.p50", percentile(ticks_ns, 50) / 1e6, "ms"),
        Figure("ui_frame.p99", percentile(ticks_ns, 99) / 1e6, "ms"),
        Figure("ui_frame_every_pane.p50", percentile(full_ns, 50) / 1e6, "ms"),
    ]


async def _frame_samples(samples: int, warmup: int) -> tuple[list[int], list[int]]:
    """Samples of a timer tick (the slow panes redraw every 2nd or 3rd), then of a redraw of
    every pane (what a command such as the kill switch causes)."""
    engine = SyntheticEngine()
    app = _FrameBenchApp(engine)
    ticks_ns: list[int] = []
    full_ns: list[int] = []
    # Not headless: frames go through the terminal encoding to _FrameTimingDriver.
    async with app.run_test(headless=False, size=FRAME_SIZE) as pilot:
        for _ in range(500):  # the app shows its first snapshot right after its first paint
            if app.snapshots_shown:
                break
            await pilot.pause(0.01)
        else:
            raise RuntimeError("the frame benchmark's app never showed a snapshot")
        for every_pane, samples_ns in ((False, ticks_ns), (True, full_ns)):
            for index in range(warmup + samples):
                engine.advance()
                app.frame_ends_cpu_ns.clear()
                started = time.thread_time_ns()
                app.refresh_snapshot(every_pane=every_pane)
                await _frames_settled(app)
                if index >= warmup:
                    samples_ns.append(app.frame_ends_cpu_ns[-1] - started)
    return ticks_ns, full_ns


async def _frames_settled(app: _FrameBenchApp) -> None:
    """Wait until the snapshot has painted and no frame came for 50 ms (three paint ticks)."""
    await asyncio.sleep(FRAME_QUIET_S)
    for _ in range(int(FRAME_SETTLE_TIMEOUT_S / FRAME_QUIET_S)):
        frames = len(app.frame_ends_cpu_ns)
        await asyncio.sleep(FRAME_QUIET_S)
        if frames and len(app.frame_ends_cpu_ns) == frames:
            return
    raise RuntimeError("a snapshot with every quote changed painted no frame within 10 s")


def bench_ui_first_paint(runs: int = FIRST_PAINT_RUNS) -> list[Figure]:
    """Process start to the app's first frame on a 120x40 pseudo-terminal (ms, median and max).

    Runs `python -m tradetui` on a throwaway data dir with TERM=xterm-256color and times from
    just before the spawn until the first complete frame has been read from the terminal: the
    Markets title and "connecting…" drawn, down to the bottom row and the cursor placement that
    ends the frame. Then presses q and waits for the process (and its in-process simulator) to
    exit; a process that ignores q is killed and the benchmark fails.
    """
    samples_ms = sorted(_first_paint_ms() for _ in range(runs))
    return [
        Figure("ui_first_paint.median", statistics.median(samples_ms), "ms"),
        Figure("ui_first_paint.max", samples_ms[-1], "ms"),
    ]


_FRAME_END = re.compile(rb"\x1b\[%d;1H.*?\x1b\[\d+;\d+H" % PTY_ROWS, re.DOTALL)
"""The move to the bottom row, then the cursor placement Textual writes after every frame."""
_FIRST_PAINT_TEXT = (b"Markets", "connecting…".encode())


def _first_paint_ms() -> float:
    with tempfile.TemporaryDirectory(prefix="tradetui-bench-") as data_dir:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", PTY_ROWS, PTY_COLUMNS, 0, 0))
        # No strategy: q must quit at once, not ask about open orders.
        env = {key: value for key, value in os.environ.items() if not _is_terminal_override(key)}
        env.update(TERM="xterm-256color", TRADETUI_STRATEGY__ENABLED="false")
        started = time.perf_counter()
        # Our own interpreter and fixed arguments, no shell.
        child = subprocess.Popen(  # nosec B603
            [sys.executable, "-m", "tradetui", "--data-dir", data_dir],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        try:
            output = _read_first_frame(master, started + FIRST_PAINT_TIMEOUT_S)
            elapsed_ms = (time.perf_counter() - started) * 1000
        finally:
            quit_cleanly = _quit(child, master)
            os.close(master)
    if output is None:
        raise RuntimeError("the app drew no first frame within 30 s")
    if not quit_cleanly:
        raise RuntimeError("the app did not exit within 30 s of pressing q and was killed")
    if child.returncode != 0:
        raise RuntimeError(f"the app exited with status {child.returncode} after q")
    return elapsed_ms


def _is_terminal_override(name: str) -> bool:
    """Environment that would change the pty's size or the app's look and speed."""
    return name in {"COLUMNS", "LINES", "NO_COLOR"} or name.startswith("TEXTUAL")


def _read_first_frame(master: int, deadline: float) -> bytes | None:
    """Read the terminal until the first complete frame is on it (None at the deadline or EOF)."""
    output = bytearray()
    while (remaining := deadline - time.perf_counter()) > 0:
        chunk = _read_some(master, remaining)
        if chunk is None:
            return None
        output += chunk
        if all(text in output for text in _FIRST_PAINT_TEXT) and _FRAME_END.search(output):
            return bytes(output)
    return None


def _read_some(master: int, timeout_s: float) -> bytes | None:
    """What the terminal got within ``timeout_s`` (b"" if nothing); None once the app is gone."""
    readable, _, _ = select.select([master], [], [], timeout_s)
    if not readable:
        return b""
    try:
        return os.read(master, 65536) or None
    except OSError:  # EIO: every process holding the pty's other end has exited
        return None


def _quit(child: subprocess.Popen[bytes], master: int) -> bool:
    """Press q and wait for the app to exit; True when it did, False when it had to be killed."""
    with contextlib.suppress(OSError):
        os.write(master, b"q")
    deadline = time.perf_counter() + QUIT_TIMEOUT_S
    # Keep reading: an app blocked writing to a full terminal could never exit.
    while child.poll() is None and time.perf_counter() < deadline:
        if _read_some(master, 0.05) is None:
            break
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(timeout=max(0.0, deadline - time.perf_counter()))
        return True
    for signum in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signum)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=5)
            break
    return False
