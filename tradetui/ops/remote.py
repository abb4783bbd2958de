"""Provides the far side of the control socket: the client, and RemoteEngine for `tradetui attach`.

RemoteEngine implements the console's EngineControls over the socket, so the ordinary TUI can run
on an engine that lives in another process; quitting the console only disconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from tradetui.core.api import CommandRefused, EngineError
from tradetui.core.model import CancelReport, EngineSnapshot, Mode, TradingState
from tradetui.logs import SINK_CAPACITY, LogLine
from tradetui.ops.wire import (
    ControlError,
    ControlRefused,
    NoEngineError,
    WireError,
    check_socket_path,
    from_doc,
    one_line,
    socket_path,
)

MAX_RESPONSE_BYTES = 64 * 1024 * 1024
STATUS_TIMEOUT_S = 10.0
"""A status answer slower than this counts as an unreachable engine."""
RECONNECT_S = 1.0


class ControlClient:
    """One connection to an engine's control socket; requests may overlap (matched by id)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        """The engine's data dir."""
        self.path = socket_path(data_dir)
        """The socket file."""
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._next_id = 0
        self._lost = ""

    @property
    def connected(self) -> bool:
        """True while the connection is open."""
        return self._writer is not None and not self._lost

    @property
    def lost_reason(self) -> str:
        """Why the connection ended (empty while it is open or before it opened)."""
        return self._lost

    async def connect(self) -> None:
        """Open the connection; raises NoEngineError when no engine listens on the data dir."""
        check_socket_path(self.path)
        try:
            reader, self._writer = await asyncio.open_unix_connection(
                str(self.path), limit=MAX_RESPONSE_BYTES
            )
        except (FileNotFoundError, ConnectionRefusedError):
            raise NoEngineError(
                f"no engine is running on data dir {self.data_dir} (no control socket)"
            ) from None
        except OSError as exc:
            raise ControlError(f"cannot open {self.path}: {exc.strerror or exc}") from None
        self._lost = ""
        self._reader_task = asyncio.create_task(self._read_responses(reader))

    def send(self, cmd: str, **arguments: Any) -> asyncio.Future[Any]:
        """Write a request now (synchronously) and return the future of its result.

        The future fails with ControlError when the engine refuses or the connection ends.
        """
        if self._writer is None or self._writer.is_closing() or self._lost:
            raise ControlError(self._lost or f"not connected to the engine on {self.data_dir}")
        self._next_id += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_mark_retrieved)
        self._pending[self._next_id] = future
        request = {"id": self._next_id, "cmd": cmd, **arguments}
        self._writer.write(json.dumps(request, separators=(",", ":")).encode() + b"\n")
        return future

    async def request(self, cmd: str, **arguments: Any) -> Any:
        """Send a request and return its result; raises ControlError."""
        return await self.send(cmd, **arguments)

    async def close(self) -> None:
        """Close the connection; requests still waiting fail."""
        writer, self._writer = self._writer, None
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader_task
            self._reader_task = None
        self._fail_pending("the connection to the engine was closed")
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _read_responses(self, reader: asyncio.StreamReader) -> None:
        reason = "the engine closed the control socket"
        try:
            while line := await reader.readline():
                response = json.loads(line)
                if not isinstance(response, dict):
                    raise ValueError("a response is not a JSON object")
                request_id = response.get("id")
                future = (
                    self._pending.pop(request_id, None) if isinstance(request_id, int) else None
                )
                if future is None or future.done():
                    continue
                if response.get("ok"):
                    future.set_result(response.get("result"))
                else:
                    error = one_line(response.get("error", "failed"))
                    refused = response.get("refused") is True
                    future.set_exception((ControlRefused if refused else ControlError)(error))
        except (OSError, ValueError) as exc:
            reason = f"lost the control socket: {one_line(exc)}"
        self._lost = reason
        self._fail_pending(reason)

    def _fail_pending(self, reason: str) -> None:
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(ControlError(reason))


def _mark_retrieved(future: asyncio.Future[Any]) -> None:
    """Read a failed future's error once, so one nobody awaits (a poll's second answer after
    its first failed) is not reported as "never retrieved" on stderr, under the console."""
    if not future.cancelled():
        future.exception()


def _engine_error(reason: object) -> EngineError:
    """The engine's answer as the contract gives it: a refusal stays a refusal."""
    kind = CommandRefused if isinstance(reason, ControlRefused) else EngineError
    return kind(one_line(reason))


class RemoteLogSource:
    """The engine's log lines fetched over the socket, plus the console's own notices about the
    connection, renumbered so a restarted engine's lines still follow the ones shown."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.remote_seq = 0
        """Sequence number, in the engine's sink, of the last line fetched."""
        self._clock = clock
        self._lines: deque[LogLine] = deque(maxlen=SINK_CAPACITY)
        self._seq = 0

    def lines(self, after_seq: int = 0) -> list[LogLine]:
        """Lines with ``seq > after_seq``, oldest first (the LogSource protocol)."""
        if not self._lines:
            return []
        skip = max(0, after_seq - self._lines[0].seq + 1)
        return list(itertools.islice(self._lines, skip, None))

    def add_remote(self, result: Any) -> None:
        """Take a ``logs`` result; an engine whose sink restarted is read again from its start."""
        if result["last_seq"] < self.remote_seq:
            self.remote_seq = 0
            return
        for doc in result["lines"]:
            line = from_doc(LogLine, doc)
            self.remote_seq = max(self.remote_seq, line.seq)
            self._append(line.ts, line.level, line.logger, line.message)

    def add_local(self, level: str, message: str) -> None:
        """A line of the console's own (the engine's log file does not have it)."""
        self._append(self._clock(), level, "tradetui.cli.attach", message)

    def _append(self, ts: float, level: str, logger: str, message: str) -> None:
        self._seq += 1
        self._lines.append(LogLine(self._seq, ts, level, logger, message))


class RemoteEngine:
    """The engine controls of an engine running in another process (``tradetui attach``).

    ``snapshot()`` must be synchronous, so a background task polls ``status`` (and ``logs``) at
    the console's refresh rate and this keeps the latest. Commands go over the socket; ``stop()``
    only disconnects. When the socket is lost the snapshot says disconnected and the poller
    reconnects every second.
    """

    keeps_engine_running = True
    """Quitting the console leaves the engine running (the console's quit wording reads this)."""

    def __init__(
        self, data_dir: Path, refresh_hz: float = 5.0, clock: Callable[[], float] = time.time
    ) -> None:
        self.data_dir = data_dir
        """The data dir of the engine attached to."""
        self.client = ControlClient(data_dir)
        """The current connection."""
        self.log_source = RemoteLogSource(clock)
        """The engine's log lines, for the Logs pane."""
        self._period = 1 / refresh_hz
        self._clock = clock
        self._snapshot = _placeholder(data_dir, clock())
        self._live_target = f"the engine on {data_dir}"
        self._poller: asyncio.Task[None] | None = None
        self._commands_sent = 0
        """Counts commands, so a status asked for before the latest command is not shown."""
        self._pending_halt: asyncio.Future[Any] | None = None
        self._lost = ""

    async def start(self) -> None:
        """Connect and read the first snapshot; raises EngineError when no engine is running."""
        try:
            await self._connect()
        except (ControlError, WireError) as exc:
            await self.client.close()
            raise _engine_error(exc) from None
        self._poller = asyncio.create_task(self._poll_forever(), name="attach poller")

    async def stop(self) -> None:
        """Disconnect; the engine keeps running."""
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        await self.client.close()

    def snapshot(self) -> EngineSnapshot:
        """The latest snapshot the engine sent (disconnected while the socket is lost)."""
        return self._snapshot

    def halt(self) -> None:
        """Send the kill switch now; ``kill()`` then waits for its cancel-all."""
        self._pending_halt = self._send_now("halt", TradingState.HALTED)

    async def kill(self) -> None:
        """Halt, then cancel every open order (the engine's ``halt`` command does both)."""
        future, self._pending_halt = self._pending_halt, None
        if future is None:
            await self._command("halt")
            return
        try:
            self._apply_state(await future)
        except ControlError as exc:
            raise _engine_error(exc) from None

    async def pause(self) -> None:
        """The engine's pause (it refuses while HALTED)."""
        await self._command("pause")

    async def resume(self) -> None:
        """The engine's resume (it refuses while HALTED)."""
        await self._command("resume")

    async def toggle_pause(self) -> None:
        """The engine's pause toggle (it refuses while HALTED)."""
        await self._command("toggle-pause")

    async def release(self, confirmed: bool = False) -> None:
        """The engine's release of the kill switch (it refuses unless HALTED and confirmed)."""
        await self._command("release", confirmed=confirmed)

    async def flatten(self, confirmed: bool = False) -> bool:
        """Kill switch, then close every position; True when flat."""
        self._pending_halt = None  # the engine's flatten runs the kill switch itself
        return bool((await self._command("flatten", confirmed=confirmed))["flat"])

    async def cancel_order(self, client_id: str) -> bool:
        """Cancel one open order; False when it is no longer open."""
        return bool((await self._request("cancel-order", client_id=client_id))["canceled"])

    async def cancel_all(self) -> CancelReport:
        """Cancel every open order the engine knows; the trading state stays."""
        result = await self._command("cancel-all")
        return CancelReport(tuple(result["canceled"]), tuple(result["failed"]))

    async def set_mode(self, mode: Mode) -> None:
        """Paper <-> live; the engine refuses live without credentials."""
        result = await self._request("set-mode", mode=mode.value)
        self._snapshot = replace(self._snapshot, mode=Mode(result["mode"]))

    def live_target(self) -> str:
        """Where the engine's live orders would go (read when attaching)."""
        return self._live_target

    # ----------------------------------------------------------------- internals

    async def _connect(self) -> None:
        client = ControlClient(self.data_dir)
        await client.connect()
        self.client = client
        generation = self._commands_sent
        self._show(await client.request("status"), generation)
        self._live_target = str((await client.request("live-target"))["target"])
        self.log_source.add_remote(
            await client.request("logs", after_seq=self.log_source.remote_seq)
        )

    def _send_now(self, cmd: str, expected: TradingState) -> asyncio.Future[Any] | None:
        """Write ``cmd`` at once (key handlers are synchronous) and show ``expected`` until the
        engine's next status; a failure goes to the Logs pane, since nobody awaits it."""
        try:
            future = self.client.send(cmd)
        except ControlError as exc:
            self.log_source.add_local("ERROR", f"{cmd} was not sent: {exc}")
            return None
        self._commands_sent += 1
        self._snapshot = replace(self._snapshot, state=expected)

        def report(done: asyncio.Future[Any]) -> None:
            if not done.cancelled() and done.exception() is not None:
                self.log_source.add_local("ERROR", f"{cmd} failed: {done.exception()}")

        future.add_done_callback(report)
        return future

    async def _command(self, cmd: str, **arguments: Any) -> Any:
        """A request whose result carries the engine's trading state, shown at once."""
        result = await self._request(cmd, **arguments)
        self._apply_state(result)
        return result

    def _apply_state(self, result: Any) -> None:
        if isinstance(result, dict) and result.get("state") in TradingState.__members__:
            self._snapshot = replace(self._snapshot, state=TradingState(result["state"]))

    async def _request(self, cmd: str, **arguments: Any) -> Any:
        try:
            future = self.client.send(cmd, **arguments)
            self._commands_sent += 1
            return await future
        except ControlError as exc:
            raise _engine_error(exc) from None

    def _show(self, doc: Any, generation: int) -> None:
        if generation == self._commands_sent:
            self._snapshot = from_doc(EngineSnapshot, doc)

    async def _poll_forever(self) -> None:
        last_attempt = 0.0
        while True:
            await asyncio.sleep(self._period)
            if self.client.connected:
                try:
                    await self._poll_once()
                    continue
                except TimeoutError:
                    await self._lose("the engine did not answer")
                except (ControlError, WireError) as exc:
                    await self._lose(one_line(exc))
            else:
                await self._lose(self.client.lost_reason or "not connected")
            self._snapshot = replace(self._snapshot, taken_at=self._clock())  # quotes age
            if self._clock() - last_attempt >= RECONNECT_S:
                last_attempt = self._clock()
                with contextlib.suppress(ControlError, WireError):
                    await self._connect()
                    self.log_source.add_local(
                        "INFO", f"reconnected to the engine on {self.data_dir}"
                    )
                    self._lost = ""

    async def _poll_once(self) -> None:
        generation = self._commands_sent
        status = self.client.send("status")
        logs = self.client.send("logs", after_seq=self.log_source.remote_seq)
        self._show(await asyncio.wait_for(status, STATUS_TIMEOUT_S), generation)
        self.log_source.add_remote(await logs)

    async def _lose(self, reason: str) -> None:
        await self.client.close()
        if not self._lost:
            self._lost = reason
            self.log_source.add_local(
                "ERROR", f"lost the engine on {self.data_dir}: {reason}; reconnecting every second"
            )
        self._snapshot = replace(
            self._snapshot, connected=False, venue=f"no engine on {self.data_dir}"
        )


def _placeholder(data_dir: Path, now: float) -> EngineSnapshot:
    """What the console shows before the first status arrives."""
    return EngineSnapshot.not_connected(now, f"engine on {data_dir}")
