"""Wraps one WebSocket client: pre-encoded frames, batched into one socket write per loop turn."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterable
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.protocol import State

from tradetui.sim.faults import FaultInjector
from tradetui.sim.venue.accounts import Account

log = logging.getLogger(__name__)
MAX_BUFFERED_BYTES = 4 << 20
"""Bytes a client may fall behind by (past the kernel's socket buffers, about 16,000 book
updates) before it is disconnected as too slow, as Kraken drops slow consumers."""
FAULT_POLL_S = 0.5
"""The longest a socket waits before it looks again at the live disconnect fault."""
CLOSE_TIMEOUT_S = 1.0
"""How long a close may take before the socket is cut (a client that stopped reading never
gets the close frame queued behind its backlog, and websockets would wait for it forever)."""


def text_frame(text: str) -> bytes:
    """`text` as one unmasked, uncompressed WS text frame: the same bytes for every client."""
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=False)


def fan_out(sessions: Iterable[WsSession], text: str) -> None:
    """Send one message to many sockets, framing it once (`websockets.broadcast` frames it
    per socket and writes per message; this writes once per socket per loop turn)."""
    frame = text_frame(text)
    for session in sessions:
        session.send_frame(text, frame)


class WsSession:
    """A connected client; sending never blocks the tick loop (frames wait for the next flush).

    Every data frame goes through `send_frame`, so they leave in the order they were sent;
    websockets itself writes only control frames (close, pong) between flushes.
    """

    def __init__(
        self,
        connection: ServerConnection,
        connection_id: int,
        private: bool,
        faults: FaultInjector | None = None,
    ) -> None:
        self.connection = connection
        self.connection_id = connection_id
        self.private = private
        """Whether the client dialled the authenticated endpoint (`/auth/v2`)."""
        self.account: Account | None = None
        self._sequence = 0
        self._pending: list[bytes] = []
        self._loop = asyncio.get_running_loop()
        self.closed = False
        self._faults = faults
        self._connected_at = faults.monotonic() if faults is not None else 0.0
        self._frames_sent = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        if self._faults is not None:
            self._spawn(self._disconnect_when_due(self._faults))

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine, name=f"sim-ws-{self.connection_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def next_sequence(self) -> int:
        self._sequence += 1
        return self._sequence

    def send_frame(self, text: str, frame: bytes) -> None:
        """Queue `frame` (which is `text_frame(text)`); the socket is written on the next loop turn."""
        if self.closed:
            return
        if self._faults is not None:
            if self._faults.ws_stalled(self._connected_at):
                return
            self._frames_sent += 1
            if self._faults.ws_malformed(self._frames_sent):
                # A corrupted frame replaces the message, as a broken proxy would deliver it.
                frame = text_frame(text[: len(text) // 2])
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(frame)

    def send_text(self, text: str) -> None:
        self.send_frame(text, text_frame(text))

    def send(self, message: dict[str, Any]) -> None:
        self.send_text(json.dumps(message))

    def send_sequenced(self, message_text: str) -> None:
        """Send a pre-serialised private message with this socket's next `sequence` added."""
        self.send_text(f'{message_text[:-1]}, "sequence": {self.next_sequence()}}}')

    def backlog_bytes(self) -> int:
        """What the socket has not yet handed to the kernel (0 once it is closing)."""
        transport = self.connection.transport
        return 0 if transport.is_closing() else transport.get_write_buffer_size()

    async def drained(self) -> None:
        """Wait until websockets' flow control lets writing resume (or the socket is gone)."""
        with contextlib.suppress(ConnectionClosed, OSError):
            await self.connection.drain()

    def _flush(self) -> None:
        frames, self._pending = self._pending, []
        # Past OPEN websockets has written its close frame: no data frame may follow it.
        if self.closed or self.connection.state is not State.OPEN:
            return
        self.connection.transport.writelines(frames)
        if self.backlog_bytes() > MAX_BUFFERED_BYTES:
            log.warning("ws client %d too slow, disconnecting", self.connection_id)
            self._spawn(self.close(1013, "too slow"))

    async def _disconnect_when_due(self, faults: FaultInjector) -> None:
        """Close the socket once `ws_disconnect_every_s` has passed (read live, so it can change)."""
        while not self.closed:
            await asyncio.sleep(faults.ws_disconnect_wait(self._connected_at, FAULT_POLL_S))
            if faults.ws_disconnect_due(self._connected_at):
                log.info("fault: disconnecting ws client %d", self.connection_id)
                await self.close(1001, "sim fault: disconnect")
                return

    async def close(self, code: int, reason: str) -> None:
        """Send a close frame and wait for the client's; cut the socket if that takes too long."""
        if self._pending and not self.closed:
            self._flush()  # what was sent before the close goes out before the close frame
        self.closed = True
        try:
            await asyncio.wait_for(self.connection.close(code, reason), CLOSE_TIMEOUT_S)
        except TimeoutError:
            self.abort()

    def abort(self) -> None:
        """Cut the socket now, dropping whatever it has not sent."""
        self.closed = True
        self.connection.transport.abort()

    async def stop(self) -> None:
        """Stop sending and end this session's tasks; the connection's own close is websockets'."""
        self.closed = True
        self._pending.clear()
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
