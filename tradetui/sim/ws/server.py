"""Serves Kraken's WebSocket v2 (`/v2` public, `/auth/v2` private) over aiohttp."""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable

from aiohttp import WSMsgType, web

from tradetui.sim import errors
from tradetui.sim.faults import FaultInjector
from tradetui.sim.fmt import iso
from tradetui.sim.instruments import PairSpec
from tradetui.sim.venue.exchange import SimExchange
from tradetui.sim.ws import trading as ws_trading
from tradetui.sim.ws.private import PrivateFeeds
from tradetui.sim.ws.public import PublicFeeds
from tradetui.sim.ws.request import WsRequest, requested_pairs
from tradetui.sim.ws.session import WsSession

log = logging.getLogger(__name__)
BOOK_DEPTHS = (10, 25, 100, 500, 1000)
PUBLIC_CHANNELS = ("ticker", "book")
PRIVATE_CHANNELS = ("executions", "balances")


class WsApi:
    """The WS v2 endpoints, their sessions and the feeds they subscribe to."""

    def __init__(self, exchange: SimExchange, faults: FaultInjector | None = None) -> None:
        self.exchange = exchange
        self.faults = faults
        self.public = PublicFeeds(exchange)
        self.private = PrivateFeeds(exchange)
        self.sessions: set[WsSession] = set()
        self._ids = itertools.count(1)
        self._methods: dict[str, Callable[[WsRequest], None]] = {
            "ping": self._ping,
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
            "add_order": lambda request: ws_trading.add_order(exchange, request),
            "cancel_order": lambda request: ws_trading.cancel_order(exchange, request),
            "cancel_all": lambda request: ws_trading.cancel_all(exchange, request),
        }
        self.public.tape.install(self._methods)

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/v2", self.serve_public), web.get("/auth/v2", self.serve_private)]

    async def serve_public(self, request: web.Request) -> web.WebSocketResponse:
        return await self._serve(request, private=False)

    async def serve_private(self, request: web.Request) -> web.WebSocketResponse:
        return await self._serve(request, private=True)

    async def _serve(self, request: web.Request, private: bool) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=1 << 20)
        await ws.prepare(request)
        session = WsSession(ws, next(self._ids), private, self.faults)
        self.sessions.add(session)
        session.start()
        session.send({
            "channel": "status",
            "type": "update",
            "data": [{"version": "2.0.10", "system": "online", "api_version": "v2",
                      "connection_id": session.connection_id}],
        })  # fmt: skip
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self.handle_text(session, message.data)
                elif message.type == WSMsgType.ERROR:
                    break
        finally:
            self.drop(session)
            await session.close()
        return ws

    def drop(self, session: WsSession) -> None:
        self.sessions.discard(session)
        self.public.drop(session)
        self.private.drop(session)

    async def close_all(self) -> None:
        for session in list(self.sessions):
            self.drop(session)
            await session.close()

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

    def _pairs(self, request: WsRequest) -> list[PairSpec] | None:
        return requested_pairs(request, self.exchange.instruments)

    def _subscribe(self, request: WsRequest) -> None:
        channel = request.params.get("channel")
        snapshot = request.params.get("snapshot", True) is not False
        if channel in PUBLIC_CHANNELS:
            depth = request.params.get("depth", 10)
            if channel == "book" and depth not in BOOK_DEPTHS:
                request.fail("Subscription depth not supported")
                return
            for pair in self._pairs(request) or []:
                if self.public.is_subscribed(request.session, channel, pair):
                    request.fail("Already subscribed", symbol=pair.symbol)
                    continue
                result: dict[str, object] = {"channel": channel, "symbol": pair.symbol}
                if channel == "book":
                    result["depth"] = depth
                request.ok({**result, "snapshot": snapshot})
                if channel == "ticker":
                    self.public.subscribe_ticker(request.session, pair, snapshot)
                else:
                    self.public.subscribe_book(request.session, pair, depth, snapshot)
        elif channel in PRIVATE_CHANNELS:
            account = self.exchange.accounts.account_for_token(request.params.get("token"))
            if account is None or not request.session.private:
                request.fail(errors.INVALID_SESSION)
                return
            if self.private.is_subscribed(request.session, channel, account):
                request.fail("Already subscribed")
                return
            request.session.account = account
            if channel == "executions":
                request.ok({"channel": channel, "maxratecount": 180, "snapshot": snapshot})
                snap_orders = request.params.get("snap_orders", True) is not False
                snap_trades = request.params.get("snap_trades", False) is True
                self.private.subscribe_executions(
                    request.session, account, snap_orders, snap_trades
                )
            else:
                request.ok({"channel": channel, "snapshot": snapshot})
                self.private.subscribe_balances(request.session, account)
        else:
            request.fail("Subscription name invalid")

    def _unsubscribe(self, request: WsRequest) -> None:
        channel = request.params.get("channel")
        if channel in PUBLIC_CHANNELS:
            for pair in self._pairs(request) or []:
                result = {"channel": channel, "symbol": pair.symbol}
                if self.public.unsubscribe(request.session, channel, pair):
                    request.ok(result)
                else:
                    request.fail("Subscription Not Found", symbol=pair.symbol)
        elif channel in PRIVATE_CHANNELS:
            account = self.exchange.accounts.account_for_token(request.params.get("token"))
            if account is None:
                request.fail(errors.INVALID_SESSION)
            elif self.private.unsubscribe(request.session, channel, account):
                request.ok({"channel": channel})
            else:
                request.fail("Subscription Not Found")
        else:
            request.fail("Subscription name invalid")
