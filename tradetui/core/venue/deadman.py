"""Provides the venue's dead-man's switch (Kraken's CancelAllOrdersAfter): armed while live, so a
bot that dies or loses its connection leaves no order open longer than the timeout."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from tradetui.core.venue.client import VenueClient

log = logging.getLogger("tradetui.engine")


class DeadMansSwitch:
    """Re-arms the venue's timer every third of its timeout while ``live()`` says so, and disarms
    it when going back to paper or on a clean stop (open orders are then reconciliation's)."""

    def __init__(self, client: VenueClient, timeout_s: float, live: Callable[[], bool]) -> None:
        self._client = client
        self.timeout_s = timeout_s
        self._live = live
        self.armed = False
        """True while the venue's timer is known to be running."""

    async def run(self) -> None:
        """Keep the timer armed while live, disarmed otherwise (until cancelled)."""
        while True:
            live = self._live()
            if live or self.armed:
                await self.arm(live)
            await asyncio.sleep(max(1.0, self.timeout_s / 3))

    async def arm(self, on: bool) -> None:
        """Arm (``on``) or disarm the venue's timer now; a failure is logged and retried later."""
        timeout_s = self.timeout_s if on else 0.0
        try:
            await self._client.cancel_all_orders_after(int(timeout_s * 1000))
        except Exception as exc:  # noqa: BLE001 - retried on the next beat
            log.warning("dead-man's switch not %s: %s", "armed" if on else "disarmed", exc)
            return
        if self.armed != on:
            log.info(
                "dead-man's switch %s",
                f"armed ({timeout_s:.0f}s)" if on else "disarmed",
                extra={"event": "dead_man", "armed": on},
            )
        self.armed = on
