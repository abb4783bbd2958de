"""Serves Kraken's REST API (`/0/public/<Name>`, `/0/private/<Name>`) over aiohttp."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from tradetui.sim import errors
from tradetui.sim.auth import authenticate
from tradetui.sim.errors import KrakenError
from tradetui.sim.rest.private import PRIVATE_METHODS
from tradetui.sim.rest.public import PUBLIC_METHODS
from tradetui.sim.venue.exchange import SimExchange

log = logging.getLogger(__name__)


def envelope(result: Any = None, error: list[str] | None = None) -> web.Response:
    """Kraken's `{"error": [...], "result": ...}` wrapper; errors still answer HTTP 200."""
    body: dict[str, Any] = {"error": error or []}
    if not error:
        body["result"] = result
    return web.Response(text=json.dumps(body), content_type="application/json")


def parse_body(body: bytes, content_type: str) -> dict[str, str]:
    """Form or JSON body as flat string params; nested ccxt keys like `close[price]` pass as-is."""
    if not body:
        return {}
    if content_type == "application/json":
        parsed = json.loads(body)
        if not isinstance(parsed, dict):
            raise errors.invalid_argument()
        return {str(key): value if isinstance(value, str) else json.dumps(value)
                for key, value in parsed.items()}  # fmt: skip
    return dict(parse_qsl(body.decode(), keep_blank_values=True))


class RestApi:
    """The REST routes of one simulated exchange."""

    def __init__(self, exchange: SimExchange) -> None:
        self.exchange = exchange

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/0/public/{name}", self.public),
            web.post("/0/public/{name}", self.public),
            web.post("/0/private/{name}", self.private),
        ]

    async def public(self, request: web.Request) -> web.Response:
        handler = PUBLIC_METHODS.get(request.match_info["name"])
        if handler is None:
            return envelope(error=[errors.UNKNOWN_METHOD])
        params = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            params.update(parse_body(await request.read(), request.content_type))
        try:
            return envelope(handler(self.exchange, params))
        except KrakenError as exc:
            return envelope(error=[exc.message])

    async def private(self, request: web.Request) -> web.Response:
        handler = PRIVATE_METHODS.get(request.match_info["name"])
        if handler is None:
            return envelope(error=[errors.UNKNOWN_METHOD])
        body = await request.read()
        try:
            try:
                params = parse_body(body, request.content_type)
            except (ValueError, UnicodeDecodeError) as exc:
                raise errors.invalid_argument() from exc
            account = authenticate(
                self.exchange.accounts,
                request.headers.get("API-Key"),
                request.headers.get("API-Sign"),
                request.path,
                params.pop("nonce", None),
                body,
                self.exchange.nonce_window,
            )
            return envelope(handler(self.exchange, account, params))
        except KrakenError as exc:
            log.debug("private %s refused: %s", request.path, exc.message)
            return envelope(error=[exc.message])
