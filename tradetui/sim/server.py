"""Runs the simulator's REST and WS v2 APIs on one aiohttp port and ticks its market."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tradetui.sim.exchange import SimExchange
from tradetui.sim.rest import RestApi
from tradetui.sim.ws import WsApi

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SimInfo:
    """Where a running simulator listens and the credentials of its main account."""

    rest: str
    """REST base URL, e.g. `http://127.0.0.1:8080` (ccxt appends `/0/public/<Name>`)."""
    ws_public: str
    """WS v2 public URL, `ws://127.0.0.1:8080/v2`."""
    ws_private: str
    """WS v2 private URL, `ws://127.0.0.1:8080/auth/v2`."""
    api_key: str
    secret: str
    """Base64 API secret, as Kraken issues them."""

    def ccxt_config(self) -> dict[str, Any]:
        """Constructor config for `ccxt.pro.kraken` (or `ccxt.kraken`) pointed at this simulator."""
        ws_base = self.ws_public.removesuffix("/v2")
        return {
            "apiKey": self.api_key,
            "secret": self.secret,
            "enableRateLimit": False,
            "urls": {
                "api": {
                    "public": self.rest,
                    "private": self.rest,
                    "ws": {
                        "publicV2": self.ws_public,
                        "privateV2": self.ws_private,
                        # v1 keys: never dialled by ccxt 4.5.x; "private" only keys the token cache
                        "public": ws_base + "/v1",
                        "private": ws_base + "/auth/v1",
                    },
                }
            },
        }


class SimServer:
    """The embeddable simulator: `info = await SimServer(...).start()`, then `await stop()`."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 7,
        tick_interval: float = 0.25,
        *,
        nonce_window: int = 0,
        book_levels: int = 100,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.host = host
        self.port = port
        self.tick_interval = tick_interval
        self.exchange = SimExchange(
            seed, clock=clock, book_levels=book_levels, nonce_window=nonce_window
        )
        self.rest_api = RestApi(self.exchange)
        self.ws_api = WsApi(self.exchange)
        self._runner: web.AppRunner | None = None
        self._ticker: asyncio.Task[None] | None = None
        self.info: SimInfo | None = None

    async def start(self) -> SimInfo:
        """Bind the port, start ticking and return the addresses and credentials."""
        if self.info is not None:
            return self.info
        app = web.Application()
        app.add_routes(self.rest_api.routes() + self.ws_api.routes())
        runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        port = int(runner.addresses[0][1])
        account = self.exchange.main_account
        self.info = SimInfo(
            rest=f"http://{self.host}:{port}",
            ws_public=f"ws://{self.host}:{port}/v2",
            ws_private=f"ws://{self.host}:{port}/auth/v2",
            api_key=account.api_key,
            secret=account.secret,
        )
        self._ticker = asyncio.create_task(self._tick_loop(), name="sim-ticks")
        log.info("simulator listening on %s", self.info.rest)
        return self.info

    def step(self) -> None:
        """Run one market tick now and publish it; tests use this with a long tick_interval."""
        self.exchange.tick()
        self.ws_api.public.publish()

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.tick_interval)
            try:
                self.step()
            except Exception:
                log.exception("simulator tick failed")

    async def stop(self) -> None:
        """Stop ticking, close every WebSocket and the listening socket."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        await self.ws_api.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.info = None

    async def __aenter__(self) -> SimInfo:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
