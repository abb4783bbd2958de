"""Provides the kill switch's procedures: HALT then cancel everything (kill), close every position
and check it against the venue (flatten), and the operator's cancel of every known order."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from tradetui.core.execution.orders import OrderManager
from tradetui.core.ledgers import Ledgers
from tradetui.core.model import CancelReport, Decision, MarketInfo, Mode, OrderIntent, Side

log = logging.getLogger("tradetui.engine")

FLATTEN_WAIT_S = 5.0
"""How long one FLATTEN attempt waits for the venue to report its closing orders done."""
FLATTEN_POLL_S = 0.25


class Procedures:
    """The multi-step operator procedures, run on the engine's orders and order path."""

    def __init__(
        self,
        orders: OrderManager,
        ledgers: Ledgers,
        markets: Mapping[str, MarketInfo],
        *,
        halt: Callable[[], None],
        submit: Callable[[OrderIntent], Awaitable[Decision]],
        sync_live: Callable[[], Awaitable[None]],
        flatten_attempts: int,
    ) -> None:
        self._orders = orders
        self._ledgers = ledgers
        self._markets = markets
        self._halt = halt
        self._submit = submit
        self._sync_live = sync_live
        self._attempts = flatten_attempts

    async def kill(self) -> None:
        """Kill switch: HALT immediately, then cancel every open order (live: the venue's
        CancelAll, which takes every order of the account)."""
        self._halt()
        await self._orders.cancel_all(venue_wide=self._ledgers.mode is Mode.LIVE)

    async def flatten(self) -> bool:
        """Kill switch in depth: HALT, cancel everything, then close every position at market
        and check against the venue, retrying a bounded number of times. True when flat."""
        await self.kill()
        for attempt in range(1, self._attempts + 1):
            remaining = self._ledgers.open_positions(self._markets)
            if not remaining:
                log.warning("flatten: flat", extra={"event": "flatten", "flat": True})
                return True
            log.warning(
                "flatten attempt %d/%d: closing %s",
                attempt,
                self._attempts,
                ", ".join(f"{amount} {symbol}" for symbol, amount in remaining.items()),
                extra={"event": "flatten"},
            )
            for symbol, amount in remaining.items():
                await self._submit(
                    OrderIntent(
                        symbol,
                        Side.SELL,
                        amount,
                        strategy="kill-switch",
                        confidence=1.0,
                        reduce_only=True,
                        flatten=True,
                    )
                )
            await self._await_venue_fills()
        remaining = self._ledgers.open_positions(self._markets)
        if remaining:
            log.error(
                "flatten gave up after %d attempts; still open: %s",
                self._attempts,
                remaining,
                extra={"event": "flatten", "flat": False},
            )
        return not remaining

    async def _await_venue_fills(self) -> None:
        """In live mode, read the venue (REST) until the closing orders are done or time is up."""
        if self._ledgers.mode is not Mode.LIVE:
            return
        for _ in range(int(FLATTEN_WAIT_S / FLATTEN_POLL_S)):
            await self._sync_live()  # the venue's own trade history is the check
            if not self._orders.open_orders(Mode.LIVE):
                return
            await asyncio.sleep(FLATTEN_POLL_S)

    async def cancel_all(self, state: str) -> CancelReport:
        """Cancel every open order the engine knows, paper and live, by id; ``state`` is the
        trading state, for the log line (it is left as it is)."""
        report = await self._orders.cancel_each()
        log.warning(
            "cancel-all: canceled %d open order(s), trading state %s%s",
            len(report.canceled),
            state,
            f"; {len(report.failed)} not canceled, first: {report.failed[0]}"
            if report.failed
            else "",
            extra={"event": "cancel_all", "canceled": len(report.canceled)},
        )
        return report
