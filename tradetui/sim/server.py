"""Runs the simulator: REST on aiohttp, WS v2 on websockets (each on its own port), market ticks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from aiohttp import web

from tradetui.sim import persist
from tradetui.sim.admin import AdminApi
from tradetui.sim.faults import FaultInjector, Faults
from tradetui.sim.instruments import Instruments, select_pairs
from tradetui.sim.persist import StateSaver
from tradetui.sim.rest.server import RestApi
from tradetui.sim.scenario import FlashCrash
from tradetui.sim.schedule import ListingSchedule
from tradetui.sim.venue.exchange import SimExchange
from tradetui.sim.ws.server import WsApi

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SimInfo:
    """Where a running simulator listens and the credentials of its main account."""

    rest: str
    """REST base URL, e.g. `http://127.0.0.1:8080` (ccxt appends `/0/public/<Name>`); the
    loopback-only admin API is there too (`/admin/*`)."""
    ws_public: str
    """WS v2 public URL on the WS port, e.g. `ws://127.0.0.1:8081/v2`."""
    ws_private: str
    """WS v2 private URL on the WS port, e.g. `ws://127.0.0.1:8081/auth/v2`."""
    api_key: str
    secret: str
    """Base64 API secret, as Kraken issues them."""
    leader_api_key: str | None = None
    """API key of the second ("leader") account, whose trades a copy-trading bot can follow."""
    leader_secret: str | None = None

    def ccxt_config(self) -> dict[str, Any]:
        """Constructor config for `ccxt.pro.kraken` (or `ccxt.kraken`) pointed at this simulator."""
        ws_base = self.ws_public.removesuffix("/v2")
        return {
            "apiKey": self.api_key,
            "secret": self.secret,
            "enableRateLimit": False,
            # Loopback: permessage-deflate would only burn CPU on both ends of every frame.
            "options": {"ws": {"compress": 0}},
            # Plain HTTP: close() has no TLS shutdown to wait out (ccxt sleeps 250 ms by default).
            "timeout_on_exit": 0,
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
        ws_port: int = 0,
        nonce_window: int = 0,
        book_levels: int = 100,
        clock: Callable[[], float] = time.time,
        faults: Faults | None = None,
        state_file: Path | None = None,
        flash_crash: FlashCrash | None = None,
        schedule: ListingSchedule | None = None,
        pairs: Sequence[str] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        """The REST port (0: a free one)."""
        self.ws_port = ws_port
        """The WebSocket port (0: a free one); Kraken too serves WS from other hosts than REST."""
        self.tick_interval = tick_interval
        """Seconds between market ticks; 0 ticks as fast as the WebSocket clients take them."""
        self.exchange = SimExchange(
            seed,
            clock=clock,
            book_levels=book_levels,
            nonce_window=nonce_window,
            flash_crash=flash_crash,
            schedule=schedule,
            instruments=Instruments(pairs=select_pairs(pairs)) if pairs else None,
        )
        if nonce_window and faults is not None:
            faults = replace(faults, nonce_window=nonce_window)
        self.faults = FaultInjector(
            self.exchange, faults or Faults(nonce_window=nonce_window), seed=seed
        )
        """The live faults; the admin API and tests change them at runtime."""
        self.state_file = state_file
        """Where accounts, orders and fills persist across restarts; None keeps them in memory."""
        self._saver: StateSaver | None = None
        self.rest_api = RestApi(self.exchange)
        self.ws_api = WsApi(self.exchange, self.faults)
        self.admin_api = AdminApi(self.faults, self.step)
        self._runner: web.AppRunner | None = None
        self._ticker: asyncio.Task[None] | None = None
        self.info: SimInfo | None = None

    async def start(self) -> SimInfo:
        """Bind the port, start ticking and return the addresses and credentials."""
        if self.info is not None:
            return self.info
        if self.state_file is not None and self._saver is None:
            # Raises SimStateError before anything listens, so a bad file costs no port.
            persist.load(self.exchange, self.state_file)
            self._saver = StateSaver(self.exchange, self.state_file)
        app = web.Application(middlewares=[self.faults.middleware])
        app.add_routes(self.rest_api.routes() + self.admin_api.routes())
        runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        self._runner = runner
        try:
            await web.TCPSite(runner, self.host, self.port).start()
            ws_port = await self.ws_api.start(self.host, self.ws_port)
        except BaseException:
            await self.stop()
            raise
        port = int(runner.addresses[0][1])
        host = f"[{self.host}]" if ":" in self.host else self.host
        account = self.exchange.main_account
        self.info = SimInfo(
            rest=f"http://{host}:{port}",
            ws_public=f"ws://{host}:{ws_port}/v2",
            ws_private=f"ws://{host}:{ws_port}/auth/v2",
            api_key=account.api_key,
            secret=account.secret,
            leader_api_key=self.exchange.leader_account.api_key,
            leader_secret=self.exchange.leader_account.secret,
        )
        self._ticker = asyncio.create_task(self._tick_loop(), name="sim-ticks")
        if self._saver is not None:
            self._saver.start()
        log.info("simulator listening on %s", self.info.rest)
        return self.info

    def step(self) -> None:
        """Run one market tick now and publish it; tests use this with a long tick_interval."""
        self.exchange.tick()
        self.ws_api.public.publish()

    async def _tick_loop(self) -> None:
        while True:
            if self.tick_interval > 0:
                await asyncio.sleep(self.tick_interval)
            else:
                await self.ws_api.wait_drained()
            try:
                self.step()
            except Exception:
                log.exception("simulator tick failed")

    async def stop(self) -> None:
        """Stop ticking, close every WebSocket and both listening sockets, save the state file."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        await self.ws_api.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._saver is not None and self.info is not None:
            # Last, so that requests still in flight during shutdown are in the file too.
            await self._saver.stop()
        self.info = None

    async def __aenter__(self) -> SimInfo:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
