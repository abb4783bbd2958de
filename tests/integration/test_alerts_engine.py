"""A real engine on the simulator alerting a local webhook: kill switch, breaker, recovery, stop."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.conftest import go_live, quiet_settings, wait_until
from tradetui.core.engine import Engine
from tradetui.core.model import OrderIntent, Side
from tradetui.ops.alerts import Alerter


@dataclass
class Webhook:
    """What a local webhook received."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [body for body in self.received if body["kind"] == kind]


@pytest.fixture
async def webhook() -> AsyncIterator[Webhook]:
    hook = Webhook()

    async def receive(request: web.Request) -> web.Response:
        hook.received.append(await request.json())
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/alerts/{token}", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    hook.url = f"http://127.0.0.1:{runner.addresses[0][1]}/alerts/s3cr3t-t0ken"
    yield hook
    await runner.cleanup()


async def start_alerting(
    make_engine: Callable[..., Engine], webhook: Webhook, **overrides: Any
) -> tuple[Engine, Alerter]:
    """A started engine whose alerts go to ``webhook``, as the headless command wires it."""
    engine = make_engine(quiet_settings(ops={"webhook_url": webhook.url}, **overrides))
    alerter = Alerter(engine.settings.ops)
    engine.alerts.hook = alerter.alert
    await engine.start()
    await wait_until(lambda: len(engine.snapshot().quotes) == 3, what="quotes")
    return engine, alerter


async def test_the_kill_switch_and_the_stop_each_reach_the_webhook(
    make_engine: Callable[..., Engine], webhook: Webhook
) -> None:
    engine, alerter = await start_alerting(make_engine, webhook)
    try:
        await engine.kill()
        await wait_until(lambda: bool(webhook.of_kind("kill_switch")), what="kill_switch alert")
    finally:
        await engine.stop()
        await alerter.aclose()
    [killed] = webhook.of_kind("kill_switch")
    assert killed["subject"] == "engine"
    assert killed["message"] == "kill switch engaged: HALTED (was ACTIVE)"
    assert killed["engine"]["state"] == "HALTED" and killed["engine"]["mode"] == "PAPER"
    assert killed["engine"]["venue"].startswith("sim (127.0.0.1:")
    [stopped] = webhook.of_kind("engine_stopped")
    assert stopped["message"] == "engine stopped in state HALTED"
    assert [body["kind"] for body in webhook.received] == ["kill_switch", "engine_stopped"]


async def test_a_5xx_burst_opens_the_order_breaker_and_the_lost_orders_are_reconciled(
    make_engine: Callable[..., Engine], webhook: Webhook
) -> None:
    engine, alerter = await start_alerting(make_engine, webhook, venue={"breaker_open_s": 1.0})
    try:
        await go_live(engine)
        engine.reconciler.unknown_grace_s = 1.0
        sim = engine.venue.sim.server  # type: ignore[union-attr]
        async with aiohttp.ClientSession() as admin:
            faults_url = f"{sim.info.rest}/admin/faults"
            async with admin.post(faults_url, json={"error_rate": 1.0, "error_kind": "http5xx"}):
                pass
            for _ in range(3):
                await engine.submit(
                    OrderIntent("SOL/USD", Side.BUY, Decimal("0.5"), confidence=0.9)
                )
            await wait_until(
                lambda: any(b["subject"] == "orders" for b in webhook.of_kind("breaker_open")),
                what="breaker_open alert",
            )
            async with admin.post(faults_url, json={"error_rate": 0.0}):
                pass
        # The orders whose outcome the outage hid are not on the venue: a reconciliation alert.
        await wait_until(lambda: bool(webhook.of_kind("reconciliation")), what="reconciliation")
    finally:
        await engine.stop()
        await alerter.aclose()
    [opened] = [b for b in webhook.of_kind("breaker_open") if b["subject"] == "orders"]
    assert opened["message"].startswith("circuit breaker orders opened")
    assert opened["engine"]["mode"] == "LIVE"
    [reconciled] = webhook.of_kind("reconciliation")  # three differences, one alert per interval
    assert reconciled["subject"] == "order_not_on_venue"
    assert "marked never sent" in reconciled["message"]


async def test_a_session_that_never_stopped_cleanly_is_reported_on_the_next_start(
    make_engine: Callable[..., Engine], webhook: Webhook
) -> None:
    engine, alerter = await start_alerting(make_engine, webhook)
    await engine.stop()
    await alerter.aclose()
    # What a SIGKILL leaves behind: the session still marked running.
    with sqlite3.connect(engine.paths.database) as db:
        db.execute("UPDATE kv SET value = 'running' WHERE key = 'session'")
    webhook.received.clear()
    engine, alerter = await start_alerting(make_engine, webhook)
    try:
        await wait_until(lambda: bool(webhook.of_kind("crash_recovery")), what="crash_recovery")
    finally:
        await engine.stop()
        await alerter.aclose()
    [recovered] = webhook.of_kind("crash_recovery")
    assert recovered["message"].startswith("the last session ended without a clean stop")
    assert recovered["adopted_orders"] == 0
