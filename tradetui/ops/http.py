"""Provides the /health and /metrics listener: a small aiohttp server living as long as the engine."""

from __future__ import annotations

import ipaddress
import json
import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from tradetui.ops.health import MonitoredEngine, check
from tradetui.ops.metrics import build_registry, render

log = logging.getLogger("tradetui.ops")


class OpsError(Exception):
    """The listener could not start; the message says what to change."""


class OpsServer:
    """Serves ``GET /health`` (JSON) and ``GET /metrics`` (Prometheus text) for one engine."""

    def __init__(self, engine: MonitoredEngine, host: str = "127.0.0.1", port: int = 0) -> None:
        self.engine = engine
        self.host = host
        self.port = port
        """The configured port until started, then the bound one (0 picks a free port)."""
        self.registry = build_registry(engine)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """Base URL of the listener, e.g. ``http://127.0.0.1:9185``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> str:
        """Bind and serve; returns the base URL. Raises OpsError when the address is unusable."""
        if self._runner is not None:
            return self.url
        if not _is_loopback(self.host):
            log.warning(
                "/health and /metrics listen on %s, which is not loopback: equity, positions and "
                "trading state are exposed to anyone who can reach that address",
                self.host or "every interface",
                extra={"event": "ops_http_exposed"},
            )
        app = web.Application()
        app.router.add_get("/health", self._health)
        app.router.add_get("/metrics", self._metrics)
        runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except OSError as exc:
            await runner.cleanup()
            raise OpsError(
                f"cannot serve /health and /metrics on {self.host}:{self.port} "
                f"({exc.strerror or exc}); set ops.http_port to a free port (0 picks one) "
                "or ops.http_enabled = false"
            ) from None
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        return self.url

    async def stop(self) -> None:
        """Stop listening (idempotent)."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _health(self, request: web.Request) -> web.Response:
        health = check(self.engine)
        return web.json_response(
            health.document,
            status=health.http_status,
            headers={"Cache-Control": "no-store"},
            dumps=lambda document: json.dumps(document, indent=2),
        )

    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(
            body=render(self.registry),
            headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"},
        )


async def start_ops_server(engine: MonitoredEngine) -> OpsServer | None:
    """Serve /health and /metrics on the configured address and log the URL.

    A port that cannot be bound is logged as an error and trading goes on without the listener:
    the engine is already running, and a monitor sees the scrape fail either way.
    """
    ops = engine.settings.ops
    server = OpsServer(engine, ops.http_host, ops.http_port)
    try:
        url = await server.start()
    except OpsError as exc:
        log.error("%s", exc, extra={"event": "ops_http_failed"})
        return None
    log.info(
        "health on %s/health, metrics on %s/metrics",
        url,
        url,
        extra={"event": "ops_http", "url": url},
    )
    return server


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
