"""Provides alerts: a log line each, and a JSON POST to the operator's webhook, rate-limited.

The engine reports what an operator must hear about through its alert hook (``engine.alerts.hook``); ``Alerter``
is that hook. ``alert()`` never blocks and never raises: it logs, then hands the POST to one
background task through a bounded queue. The same (kind, subject) goes out at most once per
``ops.alert_min_interval_s``; the next one sent says how many were held back meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from tradetui.config import OpsSettings
from tradetui.logs import register_secret

log = logging.getLogger("tradetui.alerts")

ALERT_KINDS = (
    "kill_switch",
    "breaker_open",
    "daily_loss_limit",
    "drawdown_limit",
    "reconciliation",
    "crash_recovery",
    "engine_stopped",
    "market_listed",
    "market_delisted",
    "market_status",
    "delisting_stuck",
)
"""What the engine alerts about (see ``core/alerts.py``; the last four come from the listing
monitor, ``core/services/listings.py``). Any other kind is still logged and sent."""
ERROR_KINDS = frozenset(
    {"kill_switch", "daily_loss_limit", "drawdown_limit", "crash_recovery", "delisting_stuck"}
)
"""Kinds logged at ERROR: trading stopped or money is at stake. The rest log at WARNING."""
QUEUE_SIZE = 100
POST_TIMEOUT_S = 10.0
CLOSE_TIMEOUT_S = 5.0
"""How long ``aclose`` waits for queued alerts (the engine-stopped one, usually) to go out."""
_RESERVED = frozenset({"kind", "subject", "message", "text", "ts", "engine", "suppressed"})


@dataclass
class _Throttle:
    """When a (kind, subject) last went out, and how many repeats were held back since."""

    sent_at: float
    suppressed: int = 0


class Alerter:
    """Logs every alert and, with ``ops.webhook_url`` set, POSTs it as JSON (see ``payload``)."""

    def __init__(
        self,
        settings: OpsSettings,
        clock: Callable[[], float] = time.time,
        post_timeout_s: float = POST_TIMEOUT_S,
    ) -> None:
        self._url = settings.webhook_url or None
        self._min_interval_s = settings.alert_min_interval_s
        self._clock = clock
        self._post_timeout_s = post_timeout_s
        self.destination = _destination(self._url) if self._url else ""
        """Scheme, host and port of the webhook: all of its URL that may be logged."""
        self._throttles: dict[tuple[str, str], _Throttle] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[dict[str, Any]] | None = None
        self._sender: asyncio.Task[None] | None = None
        self._failures_unreported = 0
        self._failure_reported_at: float | None = None
        self.sent = 0
        """Alerts the webhook accepted (2xx/3xx)."""
        self.failed = 0
        """Alerts lost to an error, a timeout, a refusal (4xx/5xx) or a full queue."""
        self.suppressed = 0
        """Repeats held back by the rate limit."""
        if self._url:
            _register_url_secrets(self._url)

    def alert(self, kind: str, subject: str, message: str, **fields: Any) -> None:
        """Report one alert: logged now, POSTed in the background. Never blocks, never raises."""
        try:
            self._alert(kind, subject, message, fields)
        except Exception:  # noqa: BLE001 - an alert must never break the engine that raised it
            log.exception("alert %s could not be processed", kind)

    def _alert(self, kind: str, subject: str, message: str, fields: dict[str, Any]) -> None:
        now = self._clock()
        throttle = self._throttles.get((kind, subject))
        if throttle is not None and now - throttle.sent_at < self._min_interval_s:
            throttle.suppressed += 1
            self.suppressed += 1
            log.debug("alert %s [%s] held back by the rate limit: %s", kind, subject, message)
            return
        held_back = throttle.suppressed if throttle is not None else 0
        self._throttles[(kind, subject)] = _Throttle(now)
        text = f"{message} ({held_back} similar suppressed)" if held_back else message
        log.log(
            logging.ERROR if kind in ERROR_KINDS else logging.WARNING,
            "alert %s [%s]: %s",
            kind,
            subject,
            text,
            extra={"event": "alert", "kind": kind, "subject": subject},
        )
        if self._url is not None:
            self._submit(payload(kind, subject, text, now, held_back, fields))

    def _submit(self, body: dict[str, Any]) -> None:
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is None:
            # Called from another thread: hand it to the loop the sender lives on.
            if self._loop is not None and not self._loop.is_closed():
                self._loop.call_soon_threadsafe(self._enqueue, body)
            else:
                self._lost("no event loop to send it from")
            return
        if self._loop is not running or self._sender is None or self._sender.done():
            self._start(running)
        self._enqueue(body)

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._queue = asyncio.Queue(QUEUE_SIZE)
        self._sender = loop.create_task(self._send_loop(self._queue), name="alert webhook")

    def _enqueue(self, body: dict[str, Any]) -> None:
        # Type narrowing for mypy; the value is set on this path.
        assert self._queue is not None  # nosec B101
        try:
            self._queue.put_nowait(body)
        except asyncio.QueueFull:
            self._lost(f"{QUEUE_SIZE} alerts already waiting")

    async def _send_loop(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        timeout = aiohttp.ClientTimeout(total=self._post_timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                body = await queue.get()
                try:
                    await self._post(session, body)
                finally:
                    queue.task_done()

    async def _post(self, session: aiohttp.ClientSession, body: dict[str, Any]) -> None:
        # Type narrowing for mypy; the value is set on this path.
        assert self._url is not None  # nosec B101
        try:
            async with session.post(self._url, json=body, allow_redirects=False) as response:
                if response.status >= 400:
                    self._lost(f"the webhook answered HTTP {response.status}")
                    return
        except Exception as exc:  # noqa: BLE001 - a failed alert is reported, never raised
            # Only the exception's type: aiohttp puts the whole URL, token and all, in messages.
            reason = "timed out" if isinstance(exc, TimeoutError) else type(exc).__name__
            self._lost(reason)
            return
        self.sent += 1

    def _lost(self, reason: str) -> None:
        """Count a lost alert; report failures once per interval, never the URL's path."""
        self.failed += 1
        self._failures_unreported += 1
        now = self._clock()
        last = self._failure_reported_at
        if last is not None and now - last < self._min_interval_s:
            return
        log.warning(
            "alert webhook %s failed: %s (%d alert(s) lost since the last report)",
            self.destination or "(none)",
            reason,
            self._failures_unreported,
            extra={"event": "alert_failed"},
        )
        self._failure_reported_at = now
        self._failures_unreported = 0

    async def aclose(self, timeout_s: float = CLOSE_TIMEOUT_S) -> None:
        """Send what is queued (waiting up to ``timeout_s``), then stop the sender."""
        sender, queue = self._sender, self._queue
        self._sender = None
        if sender is None or queue is None:
            return
        if not sender.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(queue.join(), timeout_s)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender


def payload(
    kind: str,
    subject: str,
    message: str,
    now: float,
    suppressed: int = 0,
    fields: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON body of one alert.

    ``{"kind", "subject", "message", "text", "ts", "engine": {"state", "mode", "venue"},
    "suppressed", ...fields}``. ``text`` is a one-line summary, so chat webhooks that read that
    key (Slack, Mattermost) show the alert as is; ``ts`` is ISO 8601 UTC.
    """
    extra = dict(fields or {})
    engine = extra.pop("engine", {})
    body: dict[str, Any] = {
        "kind": kind,
        "subject": subject,
        "message": message,
        "text": f"tradetui {kind} [{subject}]: {message}",
        "ts": datetime.fromtimestamp(now, tz=UTC).isoformat(timespec="milliseconds")[:-6] + "Z",
        "engine": dict(engine),
        "suppressed": suppressed,
    }
    for key, value in extra.items():
        body[key if key not in _RESERVED else f"{key}_"] = value
    return body


def _destination(url: str) -> str:
    """``scheme://host[:port]`` of a URL: safe to log, unlike its path, query or user info."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme or '?'}://{host}{port}"


def _register_url_secrets(url: str) -> None:
    """Mask the URL's token-bearing parts wherever they might be logged (library messages too)."""
    parts = urlsplit(url)
    register_secret(url)
    tail = parts.path + (f"?{parts.query}" if parts.query else "")
    for secret in (tail, parts.query, parts.password or ""):
        if secret.strip("/"):
            register_secret(secret)
