"""Serves the loopback-only admin API: read and change faults, step the market."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable

from aiohttp import web

from tradetui.sim.faults import FaultInjector, FaultsError


def is_loopback(remote: str | None) -> bool:
    """Whether a peer address is this host (127.0.0.0/8 or ::1); unknown peers are not."""
    if not remote:
        return False
    try:
        return ipaddress.ip_address(remote.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _refused() -> web.Response:
    return web.json_response({"error": "the admin API answers loopback clients only"}, status=403)


class AdminApi:
    """`GET/POST /admin/faults` and `POST /admin/step` of one simulator."""

    def __init__(self, injector: FaultInjector, step: Callable[[], None]) -> None:
        self.injector = injector
        self._step = step

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/admin/faults", self.get_faults),
            web.post("/admin/faults", self.set_faults),
            web.post("/admin/step", self.step),
        ]

    async def get_faults(self, request: web.Request) -> web.Response:
        if not is_loopback(request.remote):
            return _refused()
        return web.json_response(self.injector.faults.to_json())

    async def set_faults(self, request: web.Request) -> web.Response:
        """Apply a partial update, e.g. `{"error_rate": 0.5}`; answers the resulting faults."""
        if not is_loopback(request.remote):
            return _refused()
        try:
            changes = json.loads(await request.read() or b"{}")
        except ValueError:
            return web.json_response({"error": "the body must be a JSON object"}, status=400)
        if not isinstance(changes, dict):
            return web.json_response({"error": "the body must be a JSON object"}, status=400)
        try:
            faults = self.injector.update(changes)
        except FaultsError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(faults.to_json())

    async def step(self, request: web.Request) -> web.Response:
        """Run one market tick now (handy with a long `--tick-interval`)."""
        if not is_loopback(request.remote):
            return _refused()
        self._step()
        return web.json_response({"stepped": 1})
