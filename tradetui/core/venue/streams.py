"""Provides the supervisor that keeps one ccxt.pro stream alive (reconnect with backoff), and the
cancel-and-wait that ends a set of such tasks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from tradetui.core.metrics import EngineMetrics

log = logging.getLogger("tradetui.streams")

FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 10.0


async def cancel_tasks(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel ``tasks`` and wait for each to end; whatever they raise on the way out is dropped."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def supervise(
    label: str,
    receive_once: Callable[[], Awaitable[None]],
    on_health: Callable[[bool], None] | None = None,
    metrics: EngineMetrics | None = None,
) -> None:
    """Call ``receive_once`` forever; after a failure wait (doubling up to 10 s) and go on.

    ccxt.pro reconnects on the next watch_* call, so retrying the call is the reconnect. Stream
    failures do not feed a circuit breaker: the REST fallbacks must stay usable while a stream
    is down, and the breakers guard those calls.
    """
    stats = (metrics or EngineMetrics()).stream(label)
    backoff = FIRST_BACKOFF_S
    failing = False
    while True:
        try:
            await receive_once()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any stream failure reconnects
            stats.on_failure()
            if on_health is not None:
                on_health(False)
            # One warning per outage; the retries of the same outage go to debug.
            level = logging.DEBUG if failing else logging.WARNING
            log.log(level, "%s stream: %s; retrying in %.1fs", label, exc, backoff)
            failing = True
            await asyncio.sleep(backoff)
            backoff = min(MAX_BACKOFF_S, backoff * 2)
        else:
            stats.on_message()
            if failing:
                log.info("%s stream resumed", label)
                failing = False
            backoff = FIRST_BACKOFF_S
            if on_health is not None:
                on_health(True)
