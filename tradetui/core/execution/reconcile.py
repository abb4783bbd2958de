"""Provides reconciliation with the venue: adopting its open orders, resolving orders whose outcome
is unknown by client id (never by resending), and applying its order and trade reports."""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
from collections.abc import Awaitable, Callable

from tradetui.core.execution.orders import OrderManager
from tradetui.core.model import Mode, Order, OrderReport, OrderStatus
from tradetui.core.venue.balances import LiveBalances
from tradetui.core.venue.client import VenueClient
from tradetui.core.venue.errors import OrderNotFound

log = logging.getLogger("tradetui.orders")

LIVE_SYNC_INTERVAL_S = 1.0
FINAL_RETRY_S = 0.2
"""Pause between the final sync's passes while the venue fails some of its steps."""
REST_FALLBACK_S = 5.0
"""REST order sync interval while the executions stream is healthy."""


class Reconciler:
    """Keeps the live orders the OrderManager tracks in line with what the venue reports."""

    def __init__(
        self,
        orders: OrderManager,
        client: VenueClient,
        clock: Callable[[], float],
        unknown_grace_s: float = 10.0,
    ) -> None:
        self._orders = orders
        self._client = client
        self._clock = clock
        self.unknown_grace_s = unknown_grace_s
        """How long an order of unknown outcome may stay unfound before it counts as never sent."""
        self._failing = False
        self.streams_healthy = False
        """Whether the executions stream delivered last (its supervisor reports it)."""
        orders.resync = self._sync_order

    async def at_start(self, balances: LiveBalances | None) -> int:
        """Before any strategy runs: read the venue's balances (``balances``, trading live), adopt
        its open orders we have no record of, and sync our unfinished ones; returns how many
        orders were adopted. Raises VenueError."""
        if balances is not None:
            await balances.refresh(strict=True)
        adopted = await self.adopt_venue_orders()
        await self.sync_live(force=True, strict=True)
        return len(adopted)

    async def adopt_venue_orders(self) -> list[Order]:
        """Take charge of open orders on the venue that the engine has no record of.

        They are tracked (and canceled by the kill switch) like the engine's own, under
        their venue client id when they have one.
        """
        adopted: list[Order] = []
        for remote in await self._client.fetch_open_orders():
            if remote.venue_id in self._orders.by_venue_id:
                continue
            known = self._orders.active.get(str(remote.client_id))
            if known is not None:  # ours, sent but never acknowledged
                await self._orders.know_venue_id(known, remote.venue_id)
                continue
            order = self._adoptable(remote)
            if order is None:
                continue
            self._orders.track(order)
            await self._orders.save(order)
            adopted.append(order)
        if adopted:
            log.warning(
                "adopted %d open order(s) found on the venue: %s",
                len(adopted),
                ", ".join(f"{o.symbol} {o.side.value} {o.amount} ({o.venue_id})" for o in adopted),
                extra={"event": "orders_adopted"},
            )
            self._orders.differs(
                "adopted_orders",
                f"{len(adopted)} open order(s) on the venue had no local record and were adopted",
            )
        return adopted

    def _adoptable(self, remote: OrderReport) -> Order | None:
        if (
            not remote.symbol
            or remote.side is None
            or remote.order_type is None
            or remote.amount is None
        ):
            log.warning(
                "venue order %s (%s) not adopted: the engine cannot track its kind of order",
                remote.venue_id,
                remote.symbol,
            )
            return None
        now = self._clock()
        return Order(
            client_id=remote.client_id or f"venue-{remote.venue_id}",
            symbol=remote.symbol,
            side=remote.side,
            order_type=remote.order_type,
            amount=remote.amount,
            price=remote.price,
            mode=Mode.LIVE,
            strategy="adopted",
            status=OrderStatus.OPEN,
            filled=remote.filled,
            venue_id=remote.venue_id,
            created_at=remote.timestamp or now,
            updated_at=now,
        )

    async def sync_live(self, *, force: bool = False, strict: bool = False) -> int:
        """Bring live orders and fills in line with the venue (REST); resolves UNKNOWN by client id.

        Each step stands alone: the trade history is read whatever the order lookups do, and one
        order's failed lookup does not stop the others. Skipped while the orders breaker is open
        (half-open: it runs, and its answers close the breaker) unless ``force``; ``strict``
        raises the first failure once every step has been tried (start-up must not go on
        half-reconciled). Returns how many steps failed."""
        if self._orders.breaker.is_open and not force:
            return 0
        failures: list[Exception] = []
        await self._step(self._sync_trades, failures)
        for order in self._orders.open_orders(Mode.LIVE):
            await self._step(functools.partial(self._sync_order, order), failures)
        if failures:
            level = logging.DEBUG if self._failing else logging.WARNING
            log.log(level, "order sync: %d step(s) failed, first: %s", len(failures), failures[0])
        elif self._failing:
            log.info("order sync: the venue answers again")
        self._failing = bool(failures)
        if failures and strict:
            raise failures[0]
        return len(failures)

    async def final_sync(self, live: bool, timeout_s: float) -> None:
        """A clean stop's last look at the venue (bounded), so the database equals the venue:
        passes until one fails nothing, then the trade history once more (a fill that landed
        between a pass's trade read and its order lookups). Nothing to look at when not trading
        ``live`` and no live order is open."""
        if not live and not self._orders.open_orders(Mode.LIVE):
            return

        async def until_clean() -> None:
            for _ in itertools.count():  # bounded by the caller's timeout
                if not await self.sync_live(force=True):
                    break
                await asyncio.sleep(FINAL_RETRY_S)
            await self._step(self._sync_trades, [])

        try:
            await asyncio.wait_for(until_clean(), timeout_s)
        except TimeoutError:
            log.warning("the final order sync did not finish within %.0fs", timeout_s)

    async def _step(self, call: Callable[[], Awaitable[None]], failures: list[Exception]) -> None:
        try:
            await call()
        except Exception as exc:  # noqa: BLE001 - counted and reported; the other steps go on
            self._orders.count(exc)
            failures.append(exc)
        else:
            self._orders.breaker.record_success()

    async def _sync_trades(self) -> None:
        for trade in await self._client.fetch_my_trades(None, self._orders.trades_since_ms):
            await self._orders.apply_trade(trade)

    async def _sync_order(self, order: Order) -> None:
        if order.venue_id is None:
            found = await self._find_by_client_id(order.client_id)
            if found is None:
                # A request can still be in flight: only after the grace period is it never sent,
                # counted from the last we heard of it (a timeout's end, not the order's birth).
                if self._clock() - order.updated_at >= self.unknown_grace_s:
                    await self._orders.finish(
                        order, OrderStatus.REJECTED, "never reached the venue"
                    )
                    self._orders.differs(
                        "order_not_on_venue",
                        f"order {order.client_id} ({order.symbol}) had an unknown outcome and "
                        "is not on the venue: marked never sent",
                    )
                return
            await self._orders.know_venue_id(order, found.venue_id)
        # Type narrowing for mypy; set just above or before.
        assert order.venue_id is not None  # nosec B101
        try:
            remote = await self._client.fetch_order(order.venue_id, order.symbol)
        except OrderNotFound:
            await self._orders.finish(order, OrderStatus.REJECTED, "venue does not know this order")
            self._orders.differs(
                "order_not_on_venue",
                f"order {order.client_id} ({order.symbol}, venue id {order.venue_id}) "
                "is unknown to the venue: marked rejected",
            )
            return
        await self._apply_remote(order, remote)

    async def _find_by_client_id(self, client_id: str) -> OrderReport | None:
        # ccxt sends clientOrderId as cl_ord_id, so the venue filters for us.
        for fetch in (self._client.fetch_open_orders, self._client.fetch_closed_orders):
            for remote in await fetch(client_id):
                if remote.client_id == client_id:
                    return remote
        return None

    async def _apply_remote(self, order: Order, remote: OrderReport) -> None:
        status = remote.status or order.status
        filled = remote.filled
        if status is OrderStatus.OPEN and filled > 0:
            status = OrderStatus.PARTIALLY_FILLED
        if status is OrderStatus.CANCELED and filled > 0 and filled >= order.amount:
            status = OrderStatus.FILLED
        if remote.average_price is not None:
            order.average_price = remote.average_price
        order.filled = filled
        if status.is_terminal:
            await self._orders.finish(order, status)
        elif status is not order.status:
            order.status = status
            await self._orders.save(order)

    async def watch_fills_once(self) -> None:
        """Apply the fills the venue's executions stream reports next (REST sync is the fallback)."""
        for trade in await self._client.watch_my_trades():
            await self._orders.apply_trade(trade)

    async def watch_orders_once(self) -> None:
        """Apply the order updates the venue's executions stream reports next."""
        for remote in await self._client.watch_orders():
            order = self._orders.by_venue_id.get(remote.venue_id)
            if order is None:
                order = self._orders.active.get(str(remote.client_id))
                if order is None or order.mode is not Mode.LIVE:
                    continue
                await self._orders.know_venue_id(order, remote.venue_id)
            if not order.status.is_terminal:
                await self._apply_remote(order, remote)

    async def run(self, live: Callable[[], bool], balances: LiveBalances) -> None:
        """Read the venue over REST while live orders exist or the engine trades live: every
        second while the executions stream is down, every 5 s while it is healthy; then poll the
        balances when due."""
        last_sync = 0.0
        while True:
            await asyncio.sleep(LIVE_SYNC_INTERVAL_S)
            if not (live() or self._orders.open_orders(Mode.LIVE)):
                continue
            interval = REST_FALLBACK_S if self.streams_healthy else LIVE_SYNC_INTERVAL_S
            if self._clock() - last_sync >= interval:
                last_sync = self._clock()
                await self.sync_live()
            await balances.poll_if_due()
