"""Provides the supervisor that keeps one ccxt.pro stream alive: reconnect with backoff."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from tradetui.core.breaker import CircuitBreaker
from tradetui.core.gateway import is_transport_error

log = logging.getLogger("tradetui.streams")

FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 10.0


async def supervise(
    label: str,
    receive_once: Callable[[], Awaitable[None]],
    breaker: CircuitBreaker,
    on_health: Callable[[bool], None] | None = None,
) -> None:
    """Call ``receive_once`` forever; after a failure wait (doubling up to 10 s) and go on.

    ccxt.pro reconnects on the next watch_* call, so retrying the call is the reconnect.
    """
    backoff = FIRST_BACKOFF_S
    while True:
        try:
            await receive_once()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any stream failure reconnects
            if is_transport_error(exc):
                breaker.record_failure()
            if on_health is not None:
                on_health(False)
            log.warning("%s stream: %s; retrying in %.1fs", label, exc, backoff)
            await asyncio.sleep(backoff)
            backoff = min(MAX_BACKOFF_S, backoff * 2)
        else:
            backoff = FIRST_BACKOFF_S
            breaker.record_success()
            if on_health is not None:
                on_health(True)
