"""Serves Kraken's WebSocket v2 (`/v2` public, `/auth/v2` private) with the websockets library."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import Callable
from http import HTTPStatus

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from tradetui.sim.faults import FaultInjector
from tradetui.sim.fmt import iso
from tradetui.sim.venue.exchange import SimExchange
from tradetui.sim.ws import trading as ws_trading
from tradetui.sim.ws.private import PrivateFeeds
from tradetui.sim.ws.public import PublicFeeds
from tradetui.sim.ws.request import WsRequest
from tradetui.sim.ws.session import CLOSE_TIMEOUT_S, WsSession
from tradetui.sim.ws.subscribe import Subscriptions

log = logging.getLogger(__name__)
PUBLIC_PATH, PRIVATE_PATH = "/v2", "/auth/v2"
MAX_MESSAGE_BYTES = 1 << 20
PACE_BYTES = 256 << 10
"""With `tick_interval=0`, a client with more than this unsent holds the next market tick
until websockets' flow control lets writing resume (under 8 KiB unsent)."""


class WsApi:
    """The WS v2 endpoints, their sessions and the feeds they subscribe to."""

    def __init__(self, exchange: SimExchange, faults: FaultInjector | None = None) -> None:
        self.exchange = exchange
        self.faults = faults
        self.public = PublicFeeds(exchange)
        self.private = PrivateFeeds(exchange)
        self.sessions: set[WsSession] = set()
        self._server: Server | None = None
        self._ids = itertools.count(1)
        subscriptions = Subscriptions(exchange, self.public, self.private)
        self._methods: dict[str, Callable[[WsRequest], None]] = {
            "ping": self._ping,
            "subscribe": subscriptions.subscribe,
            "unsubscribe": subscriptions.unsubscribe,
            "add_order": lambda request: ws_trading.add_order(exchange, request),
            "cancel_order": lambda request: ws_trading.cancel_order(exchange, request),
            "cancel_all": lambda request: ws_trading.cancel_all(exchange, request),
        }
        self.public.tape.install(self._methods)

    async def start(self, host: str, port: int) -> int:
        """Listen on `host:port` (0: a free port) and return the bound port."""
        self._server = await serve(
            self._serve,
            host,
            port,
            process_request=_route,
            # Fan-out sends one pre-encoded frame to every client, so no per-socket deflate.
            compression=None,
            max_size=MAX_MESSAGE_BYTES,
            close_timeout=CLOSE_TIMEOUT_S,
            # Kraken's keepalive is the JSON ping ccxt sends; the simulator sends no WS pings.
            ping_interval=None,
        )
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Close the listening socket and every client (1001, going away), in about a second."""
        if self._server is None:
            return
        self._server.close()
        try:
            await asyncio.wait_for(self._server.wait_closed(), CLOSE_TIMEOUT_S + 0.5)
        except TimeoutError:
            # websockets waits for a backlogged socket to drain before its close frame.
            for session in list(self.sessions):
                session.abort()
            await self._server.wait_closed()
        self._server = None

    async def _serve(self, connection: ServerConnection) -> None:
        path = connection.request.path if connection.request is not None else ""
        private = path.partition("?")[0] == PRIVATE_PATH
        session = WsSession(connection, next(self._ids), private, self.faults)
        self.sessions.add(session)
        session.start()
        session.send({
            "channel": "status",
            "type": "update",
            "data": [{"version": "2.0.10", "system": "online", "api_version": "v2",
                      "connection_id": session.connection_id}],
        })  # fmt: skip
        try:
            async for message in connection:
                if isinstance(message, str):
                    self.handle_text(session, message)
        except ConnectionClosed:
            pass  # a client that vanishes without a close frame is no error here
        finally:
            self.drop(session)
            await session.stop()

    def drop(self, session: WsSession) -> None:
        self.sessions.discard(session)
        self.public.drop(session)
        self.private.drop(session)

    async def wait_drained(self) -> None:
        """Return once no client is backlogged past PACE_BYTES (paces `tick_interval=0`)."""
        await asyncio.sleep(0)
        for session in list(self.sessions):
            if session.backlog_bytes() > PACE_BYTES:
                await session.drained()

    def handle_text(self, session: WsSession, text: str) -> None:
        time_in = iso(self.exchange.clock())
        try:
            message = json.loads(text)
        except ValueError:
            message = None
        if not isinstance(message, dict):
            request = WsRequest(session, "", None, {}, time_in, self.exchange.clock)
            request.fail("Malformed request")
            return
        params = message.get("params")
        request = WsRequest(
            session,
            str(message.get("method", "")),
            message.get("req_id"),
            params if isinstance(params, dict) else {},
            time_in,
            self.exchange.clock,
        )
        handler = self._methods.get(request.method)
        if handler is None:
            request.fail(f"Method not found: {request.method}")
            return
        try:
            handler(request)
        except Exception:
            # A simulator bug must not cost the client its socket; it sees Kraken's error instead.
            log.exception("ws %s failed", request.method)
            request.fail("EGeneral:Internal error")

    def _ping(self, request: WsRequest) -> None:
        """ccxt pings every 6 s and closes the socket after two pongs go missing."""
        time_out = iso(self.exchange.clock())
        request.session.send(
            {"method": "pong", "req_id": request.req_id, "time_in": request.time_in,
             "time_out": time_out}
        )  # fmt: skip


def _route(connection: ServerConnection, request: Request) -> Response | None:
    """Refuse the handshake (404) on any path but the two WS v2 endpoints."""
    if request.path.partition("?")[0] in (PUBLIC_PATH, PRIVATE_PATH):
        return None
    return connection.respond(HTTPStatus.NOT_FOUND, "The simulator serves /v2 and /auth/v2.\n")
