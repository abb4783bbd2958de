"""Tests alerts against a real webhook on 127.0.0.1: the JSON, the rate limit, failures, the token."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from tests.conftest import wait_until
from tradetui.config import OpsSettings
from tradetui.logs import redact
from tradetui.ops.alerts import ALERT_KINDS, QUEUE_SIZE, Alerter

TOKEN = "T0ken-Xq7pLm2vR9sW4bZ1"
ENGINE = {"state": "HALTED", "mode": "paper", "venue": "sim (127.0.0.1:1)"}


@dataclass
class Webhook:
    """A local webhook: ``/ok/...`` records and answers 200, ``/fail/...`` 500, ``/hang/...`` never."""

    base: str
    received: list[dict[str, Any]] = field(default_factory=list)
    arrived: int = 0
    """Requests that reached the server, answered or not."""

    def url(self, behaviour: str) -> str:
        return f"{self.base}/{behaviour}/{TOKEN}?token={TOKEN}"


@pytest.fixture
async def webhook() -> AsyncIterator[Webhook]:
    hook = Webhook("")

    async def handle(request: web.Request) -> web.Response:
        hook.arrived += 1
        behaviour = request.match_info["behaviour"]
        if behaviour == "hang":
            await asyncio.sleep(60)
        if behaviour == "fail":
            return web.Response(status=500)
        hook.received.append(await request.json())
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/{behaviour}/{token}", handle)
    # No access log: the receiver stands in for a remote server, whose logs are not ours.
    runner = web.AppRunner(app, shutdown_timeout=0.1, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    hook.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield hook
    await runner.cleanup()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def alerter_for(url: str | None, clock: FakeClock | None = None, **kwargs: Any) -> Alerter:
    settings = OpsSettings(webhook_url=url, alert_min_interval_s=300)
    return Alerter(settings, clock or FakeClock(), **kwargs)


async def test_every_kind_arrives_as_json_with_the_engine_context(webhook: Webhook) -> None:
    alerter = alerter_for(webhook.url("ok"))
    for kind in ALERT_KINDS:
        alerter.alert(kind, "orders", f"{kind} happened", engine=ENGINE, category="orders")
    await alerter.aclose()
    assert [body["kind"] for body in webhook.received] == list(ALERT_KINDS)
    first = webhook.received[0]
    assert first == {
        "kind": "kill_switch",
        "subject": "orders",
        "message": "kill_switch happened",
        "text": "tradetui kill_switch [orders]: kill_switch happened",
        "ts": "2023-11-14T22:13:20.000Z",
        "engine": ENGINE,
        "suppressed": 0,
        "category": "orders",
    }
    assert alerter.sent == len(ALERT_KINDS) and alerter.failed == 0


async def test_repeats_within_the_interval_are_held_back_and_counted_on_the_next_one_sent(
    webhook: Webhook, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    alerter = alerter_for(webhook.url("ok"), clock)
    caplog.set_level(logging.DEBUG, logger="tradetui.alerts")
    for _ in range(4):  # a flapping breaker
        alerter.alert("breaker_open", "orders", "circuit breaker orders opened")
        clock.now += 10
    alerter.alert("breaker_open", "market_data", "circuit breaker market_data opened")
    clock.now += 300
    alerter.alert("breaker_open", "orders", "circuit breaker orders opened")
    await alerter.aclose()
    assert [(b["subject"], b["suppressed"], b["message"]) for b in webhook.received] == [
        ("orders", 0, "circuit breaker orders opened"),
        ("market_data", 0, "circuit breaker market_data opened"),
        ("orders", 3, "circuit breaker orders opened (3 similar suppressed)"),
    ]
    assert alerter.suppressed == 3
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 3  # one log line per alert sent, not per repeat


async def test_without_a_webhook_alerts_are_log_lines_at_error_or_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="tradetui.alerts")
    alerter = alerter_for(None)
    alerter.alert("kill_switch", "engine", "kill switch engaged")
    alerter.alert("engine_stopped", "engine", "engine stopped")
    await alerter.aclose()
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("ERROR", "alert kill_switch [engine]: kill switch engaged"),
        ("WARNING", "alert engine_stopped [engine]: engine stopped"),
    ]


async def test_a_hanging_webhook_never_blocks_the_caller_and_times_out_into_a_count(
    webhook: Webhook,
) -> None:
    alerter = alerter_for(webhook.url("hang"), post_timeout_s=0.5)
    for subject in ("a", "b"):
        alerter.alert("reconciliation", subject, "venue and records differ")
    # Both calls returned while the first POST is still waiting for an answer.
    await wait_until(lambda: webhook.arrived == 1, what="the first POST")
    assert alerter.sent == alerter.failed == 0
    await wait_until(lambda: alerter.failed == 2, what="both timeouts")
    await alerter.aclose()


async def test_a_full_queue_and_a_refusing_webhook_are_counted_and_reported_once(
    webhook: Webhook, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tradetui.alerts")
    alerter = alerter_for(webhook.url("fail"))
    for n in range(QUEUE_SIZE + 5):  # more than the queue holds, all at once
        alerter.alert("reconciliation", f"order-{n}", "venue and records differ")
    await alerter.aclose(timeout_s=30)
    assert alerter.sent == 0 and alerter.failed == QUEUE_SIZE + 5
    reports = [r.getMessage() for r in caplog.records if "alert webhook" in r.getMessage()]
    assert len(reports) == 1  # once per interval, however many fail
    assert reports[0].startswith(f"alert webhook {webhook.base} failed: ")


async def test_an_alert_from_another_thread_is_sent_from_the_loop(webhook: Webhook) -> None:
    alerter = alerter_for(webhook.url("ok"))
    alerter.alert("kill_switch", "engine", "first, from the loop")
    await asyncio.to_thread(alerter.alert, "engine_stopped", "engine", "then from a thread")
    await alerter.aclose()
    assert [b["kind"] for b in webhook.received] == ["kill_switch", "engine_stopped"]


@pytest.mark.parametrize("behaviour", ["fail", "hang", "refused"])
async def test_the_webhook_token_never_appears_in_logs(
    webhook: Webhook, behaviour: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # everything any logger says, aiohttp's included
    caplog.set_level(logging.DEBUG, logger="tradetui")
    url = webhook.url(behaviour)
    if behaviour == "refused":  # nothing listens on port 1
        url = url.replace(webhook.base, "http://127.0.0.1:1")
    alerter = alerter_for(url, post_timeout_s=0.3)
    alerter.alert("kill_switch", "engine", "kill switch engaged")
    await wait_until(lambda: alerter.failed == 1, what="the failure")
    await alerter.aclose()
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "alert webhook http://127.0.0.1:" in logged
    assert TOKEN not in logged
    # Anything else that logs the URL (a library, say) goes through redaction.
    assert TOKEN not in redact(f"POST {url} failed")
