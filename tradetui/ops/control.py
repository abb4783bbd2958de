"""Provides the engine side of the control socket (the server) and SIGUSR1 as the kill switch.

The socket is ``<data-dir>/control.sock`` (0600 in the 0700 data dir); the protocol is described
in ``tradetui.ops.wire``. Requests on one connection run concurrently (a flatten does not hold up
a status poll), so responses carry the request's id; each starts in arrival order, so the
synchronous part of a command (pause, the HALT of halt) takes effect before the next request runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradetui.core.api import CommandRefused, EngineControls, EngineError
from tradetui.core.model import Mode
from tradetui.ops.wire import ControlError, check_socket_path, one_line, socket_path, to_doc

if TYPE_CHECKING:
    from tradetui.logs import LogSink

log = logging.getLogger("tradetui.ops.control")

MAX_REQUEST_BYTES = 64 * 1024
MAX_IN_FLIGHT = 16
"""Requests one connection may have running at once; reading waits beyond that."""
REQUEST_STOP_TIMEOUT_S = 10.0
"""How long closing the server waits for commands still running."""


class _BadRequest(Exception):
    """A request the server cannot run; its message goes back as the error."""


Handler = Callable[[dict[str, Any]], Awaitable[Any]]


class ControlServer:
    """Serves one engine's controls on ``<data-dir>/control.sock`` while the engine runs.

    Start it only after ``Engine.start()`` succeeded: the engine then holds the data dir's lock,
    so a socket file already there is a dead engine's and is replaced.
    """

    def __init__(
        self, engine: EngineControls, data_dir: Path, log_sink: LogSink | None = None
    ) -> None:
        self.path = socket_path(data_dir)
        """The socket file."""
        self._engine = engine
        self._log_sink = log_sink
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[asyncio.Task[Any]] = set()
        self._requests: set[asyncio.Task[None]] = set()
        self._handlers: dict[str, Handler] = {
            "status": self._status,
            "pause": self._pause,
            "resume": self._resume,
            "toggle-pause": self._toggle_pause,
            "halt": self._halt,
            "cancel-all": self._cancel_all,
            "flatten": self._flatten,
            "release": self._release,
            "cancel-order": self._cancel_order,
            "set-mode": self._set_mode,
            "live-target": self._live_target,
            "logs": self._logs,
        }

    async def start(self) -> None:
        """Listen; raises ControlError (one line) when the socket cannot be made."""
        check_socket_path(self.path)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        try:
            self._server = await asyncio.start_unix_server(
                self._serve, path=str(self.path), limit=MAX_REQUEST_BYTES
            )
        except OSError as exc:
            raise ControlError(f"cannot listen on {self.path}: {exc.strerror or exc}") from None
        # The data dir is 0700, so nobody else could reach the socket before this.
        os.chmod(self.path, 0o600)
        log.info("control socket listening on %s", self.path, extra={"event": "control_socket"})

    async def start_logged(self) -> bool:
        """Start, or log why not: the engine trades on without its socket (SIGTERM and SIGUSR1
        still work), so a socket failure must not stop it."""
        try:
            await self.start()
        except ControlError as exc:
            log.error("%s; tradetui ctl and attach cannot reach this engine", exc)
            return False
        return True

    async def close(self) -> None:
        """Stop listening and end every connection, let running commands finish (a flatten cut
        short could leave an order half-sent), then remove the socket file."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for task in self._connections:
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        if self._requests:
            await asyncio.wait(set(self._requests), timeout=REQUEST_STOP_TIMEOUT_S)
        for task in self._requests:
            task.cancel()
        await asyncio.gather(*self._requests, return_exceptions=True)
        await server.wait_closed()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = asyncio.current_task()
        # Type narrowing for mypy; the value is set on this path.
        assert connection is not None  # nosec B101
        self._connections.add(connection)
        write_lock = asyncio.Lock()
        in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
        try:
            while True:
                try:
                    line = await reader.readline()
                except ValueError:  # longer than MAX_REQUEST_BYTES: the framing is lost
                    error = f"request longer than {MAX_REQUEST_BYTES} bytes; closing the connection"
                    await self._write(writer, write_lock, {"id": None, "ok": False, "error": error})
                    break
                except ConnectionError:
                    break
                if not line:
                    break
                if not line.strip():
                    continue
                await in_flight.acquire()
                # A request outlives its connection: a flatten goes on if ctl is interrupted.
                task = asyncio.create_task(self._answer(line, writer, write_lock))
                self._requests.add(task)
                task.add_done_callback(self._requests.discard)
                task.add_done_callback(lambda _: in_flight.release())
        finally:
            self._connections.discard(connection)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _answer(self, line: bytes, writer: asyncio.StreamWriter, lock: asyncio.Lock) -> None:
        request_id: Any = None
        try:
            request = _parse(line)
            request_id = request.get("id")
            handler = self._handlers.get(request["cmd"])
            if handler is None:
                raise _BadRequest(
                    f"unknown command {request['cmd']!r}; known: {', '.join(self._handlers)}"
                )
            response = {"id": request_id, "ok": True, "result": await handler(request)}
        except CommandRefused as exc:
            response = {"id": request_id, "ok": False, "error": one_line(exc), "refused": True}
        except (_BadRequest, EngineError) as exc:
            response = {"id": request_id, "ok": False, "error": one_line(exc)}
        except Exception as exc:  # noqa: BLE001 - one bad command must not take the server down
            log.exception("control request failed: %s", one_line(line.decode(errors="replace")))
            error = f"internal error: {type(exc).__name__}: {one_line(exc)}"
            response = {"id": request_id, "ok": False, "error": error}
        await self._write(writer, lock, response)

    @staticmethod
    async def _write(
        writer: asyncio.StreamWriter, lock: asyncio.Lock, response: dict[str, Any]
    ) -> None:
        data = json.dumps(response, separators=(",", ":")).encode() + b"\n"
        async with lock:
            if writer.is_closing():
                return
            writer.write(data)
            with contextlib.suppress(ConnectionError):
                await writer.drain()

    # ----------------------------------------------------------------- commands

    def _state(self) -> dict[str, Any]:
        return {"state": self._engine.snapshot().state.value}

    async def _status(self, request: dict[str, Any]) -> Any:
        return to_doc(self._engine.snapshot())

    async def _pause(self, request: dict[str, Any]) -> Any:
        await self._engine.pause()
        return self._state()

    async def _resume(self, request: dict[str, Any]) -> Any:
        await self._engine.resume()
        return self._state()

    async def _toggle_pause(self, request: dict[str, Any]) -> Any:
        await self._engine.toggle_pause()
        return self._state()

    async def _halt(self, request: dict[str, Any]) -> Any:
        self._engine.halt()  # before anything else runs: no order slips out during the cancels
        await self._engine.kill()
        snapshot = self._engine.snapshot()
        return {
            "state": snapshot.state.value,
            "mode": snapshot.mode.value,
            "open_orders": len(snapshot.open_orders),
        }

    async def _cancel_all(self, request: dict[str, Any]) -> Any:
        report = await self._engine.cancel_all()
        return {"canceled": list(report.canceled), "failed": list(report.failed), **self._state()}

    async def _flatten(self, request: dict[str, Any]) -> Any:
        flat = await self._engine.flatten(confirmed=_confirmed(request))
        return {"flat": flat, **self._state()}

    async def _release(self, request: dict[str, Any]) -> Any:
        await self._engine.release(confirmed=_confirmed(request))
        return self._state()

    async def _cancel_order(self, request: dict[str, Any]) -> Any:
        client_id = _argument(request, "client_id", str)
        return {"canceled": await self._engine.cancel_order(client_id)}

    async def _set_mode(self, request: dict[str, Any]) -> Any:
        name = _argument(request, "mode", str).upper()
        if name not in Mode.__members__:
            raise _BadRequest(f"mode must be one of {', '.join(Mode.__members__)}, not {name!r}")
        await self._engine.set_mode(Mode(name))
        return {"mode": self._engine.snapshot().mode.value}

    async def _live_target(self, request: dict[str, Any]) -> Any:
        return {"target": self._engine.live_target()}

    async def _logs(self, request: dict[str, Any]) -> Any:
        after_seq = request.get("after_seq", 0)
        if isinstance(after_seq, bool) or not isinstance(after_seq, int) or after_seq < 0:
            raise _BadRequest("after_seq must be a whole number >= 0")
        if self._log_sink is None:
            return {"lines": [], "last_seq": 0}
        lines = self._log_sink.lines(after_seq)
        return {"lines": [to_doc(line) for line in lines], "last_seq": self._log_sink.last_seq}


def _parse(line: bytes) -> dict[str, Any]:
    try:
        request = json.loads(line)
    except UnicodeDecodeError:
        raise _BadRequest("request is not UTF-8") from None
    except ValueError as exc:
        raise _BadRequest(f"request is not valid JSON: {exc}") from None
    if not isinstance(request, dict):
        raise _BadRequest(f"request must be a JSON object, not {type(request).__name__}")
    if not isinstance(request.get("cmd"), str):
        raise _BadRequest('request needs "cmd", a string')
    return request


def _confirmed(request: dict[str, Any]) -> bool:
    """The operator confirmed the command (``"confirmed": true``); the engine decides whether
    the command needs it."""
    return request.get("confirmed") is True


def _argument(request: dict[str, Any], name: str, kind: type) -> Any:
    value = request.get(name)
    if not isinstance(value, kind):
        raise _BadRequest(f"{request['cmd']} needs {name!r}, a {kind.__name__}")
    return value


class SignalKillSwitch:
    """SIGUSR1 engages the kill switch: HALT at once, then cancel every open order.

    Install it before the engine starts (SIGUSR1's default action would end the process). A
    signal before the engine knows its orders halts at once (restoring the saved state never
    loosens that) and the engine runs the cancels once it has started. Once the runtime is
    stopping, a signal only halts: the handler stays installed, so the process never dies of it
    in the middle of a clean stop.
    """

    def __init__(self, engine: EngineControls) -> None:
        self._engine = engine
        self._stopping = False
        self._tasks: set[asyncio.Task[None]] = set()

    def install(self) -> bool:
        """Handle SIGUSR1 on the running loop; False where signals cannot be handled."""
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, self.engage)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no Unix
            return False
        return True

    def engage(self) -> None:
        """The signal handler: halt now, cancel all in a task (not once the runtime is stopping)."""
        self._engine.halt()
        if self._stopping:
            log.warning("SIGUSR1 while stopping: HALTED", extra={"event": "kill_switch"})
            return
        log.warning("SIGUSR1: kill switch engaged", extra={"event": "kill_switch"})
        task = asyncio.create_task(self._cancel_all(), name="SIGUSR1 kill switch")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """From now on a signal only halts; wait for the cancel-alls still running."""
        self._stopping = True
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _cancel_all(self) -> None:
        try:
            await self._engine.kill()
        except Exception:  # noqa: BLE001 - the HALT holds; the operator reads why cancels failed
            log.exception("SIGUSR1: cancelling the open orders failed")
