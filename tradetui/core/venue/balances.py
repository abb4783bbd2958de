"""Provides live venue balances: the WS stream first, REST to seed, re-seed and back it up."""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal

from tradetui.core.model import Balance
from tradetui.core.venue.breaker import CircuitBreaker
from tradetui.core.venue.client import VenueClient
from tradetui.core.venue.errors import VenueError

log = logging.getLogger("tradetui.balances")

REST_EVERY_S = 120.0
"""REST poll interval while the stream is alive."""
REST_EVERY_SILENT_S = 5.0
"""REST poll interval once the stream has been silent for STREAM_SILENT_S."""
STREAM_SILENT_S = 60.0
DIRTY_MIN_GAP_S = 2.0
"""After the engine's own orders change holds, re-read REST, but not more often than this."""
ZERO = Decimal(0)


class LiveBalances:
    """The venue account's balances.

    ccxt's ``watch_balance`` carries totals only, so the holds (``used``) come from REST:
    after every stream reconnect, after the engine's own order activity, and on a timer.
    """

    def __init__(
        self, client: VenueClient, clock: Callable[[], float], breaker: CircuitBreaker
    ) -> None:
        self._client = client
        self._clock = clock
        self._breaker = breaker
        self.balances: dict[str, Balance] = {}
        self._rest_at = float("-inf")
        self._stream_at = clock()
        self._reseed = True
        self._dirty = False
        self.seeded = False
        """Read over REST at least once: until then the balances (and holds) are unknown."""

    def mark_dirty(self) -> None:
        """Holds changed (an order was placed, canceled or filled): re-read REST soon."""
        self._dirty = True

    def stream_health(self, healthy: bool) -> None:
        """Supervisor callback: any stream failure means a REST re-seed once it is back."""
        if not healthy:
            self._reseed = True

    async def watch_once(self) -> None:
        """Apply the next balances message from the stream (post-change totals per asset)."""
        totals = await self._client.watch_balance_totals()
        self._stream_at = self._clock()
        for currency, total in totals.items():
            previous = self.balances.get(currency)
            used = previous.used if previous is not None else ZERO
            self.balances[currency] = Balance(currency, total - used, used, total)

    async def poll_if_due(self) -> None:
        """Read REST when a re-seed, a hold change or the timer asks for it."""
        now = self._clock()
        silent = now - self._stream_at >= STREAM_SILENT_S
        interval = REST_EVERY_SILENT_S if silent else REST_EVERY_S
        due = self._reseed or now - self._rest_at >= interval
        if self._dirty and now - self._rest_at >= DIRTY_MIN_GAP_S:
            due = True
        if due:
            await self.refresh()

    async def refresh(self, strict: bool = False) -> None:
        """Read every balance over REST (free, used and total). A failure is logged and the next
        poll retries, unless ``strict`` (start-up): then it raises, breaker or not."""
        if not strict and not self._breaker.allow():
            return
        try:
            balances = await self._client.fetch_balances()
        except Exception as exc:  # noqa: BLE001 - the next poll retries
            if isinstance(exc, VenueError) and exc.transport:
                self._breaker.record_failure()
            if strict:
                raise
            log.warning("balance refresh failed: %s", exc)
            return
        self._breaker.record_success()
        self._rest_at = self._clock()
        self._reseed = self._dirty = False
        self.balances = balances
        self.seeded = True
