"""Wraps one WebSocket client: an outbound queue drained by its own writer task."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from aiohttp import web

from tradetui.sim.faults import FaultInjector
from tradetui.sim.venue.accounts import Account

log = logging.getLogger(__name__)
MAX_QUEUED = 10_000
"""Messages a client may fall behind by before it is disconnected as too slow."""
FAULT_POLL_S = 0.5
"""The longest a socket waits before it looks again at the live disconnect fault."""


class WsSession:
    """A connected client; sending never blocks the tick loop (messages are queued)."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        connection_id: int,
        private: bool,
        faults: FaultInjector | None = None,
    ) -> None:
        self.ws = ws
        self.connection_id = connection_id
        self.private = private
        """Whether the client dialled the authenticated endpoint (`/auth/v2`)."""
        self.account: Account | None = None
        self._sequence = 0
        self._queue: asyncio.Queue[str] = asyncio.Queue(MAX_QUEUED)
        self._writer: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None
        self.closed = False
        self._faults = faults
        self._connected_at = faults.monotonic() if faults is not None else 0.0
        self._frames_sent = 0
        self._disconnector: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._writer = asyncio.create_task(self._write_loop(), name=f"sim-ws-{self.connection_id}")
        if self._faults is not None:
            self._disconnector = asyncio.create_task(
                self._disconnect_when_due(self._faults), name=f"sim-ws-fault-{self.connection_id}"
            )

    def next_sequence(self) -> int:
        self._sequence += 1
        return self._sequence

    def send_text(self, text: str) -> None:
        if self.closed:
            return
        if self._faults is not None:
            if self._faults.ws_stalled(self._connected_at):
                return
            self._frames_sent += 1
            if self._faults.ws_malformed(self._frames_sent):
                # A corrupted frame replaces the message, as a broken proxy would deliver it.
                text = text[: len(text) // 2]
        try:
            self._queue.put_nowait(text)
        except asyncio.QueueFull:
            log.warning("ws client %d too slow, disconnecting", self.connection_id)
            self.closed = True
            self._closer = asyncio.create_task(self._close_slow())

    def send(self, message: dict[str, Any]) -> None:
        self.send_text(json.dumps(message))

    def send_sequenced(self, message_text: str) -> None:
        """Send a pre-serialised private message with this socket's next `sequence` added."""
        self.send_text(f'{message_text[:-1]}, "sequence": {self.next_sequence()}}}')

    async def _close_slow(self) -> None:
        await self.ws.close(code=1013, message=b"too slow")

    async def _write_loop(self) -> None:
        try:
            while True:
                text = await self._queue.get()
                await self.ws.send_str(text)
        except (ConnectionError, RuntimeError) as exc:
            log.debug("ws client %d writer stopped: %s", self.connection_id, exc)
            self.closed = True

    async def _disconnect_when_due(self, faults: FaultInjector) -> None:
        """Close the socket once `ws_disconnect_every_s` has passed (read live, so it can change)."""
        while not self.closed:
            await asyncio.sleep(faults.ws_disconnect_wait(self._connected_at, FAULT_POLL_S))
            if faults.ws_disconnect_due(self._connected_at):
                log.info("fault: disconnecting ws client %d", self.connection_id)
                self.closed = True
                await self.ws.close(code=1001, message=b"sim fault: disconnect")
                return

    async def close(self) -> None:
        """Stop writing and close the socket; safe to call more than once."""
        self.closed = True
        if self._disconnector is not None and self._disconnector is not asyncio.current_task():
            self._disconnector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._disconnector
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        if not self.ws.closed:
            await self.ws.close()
