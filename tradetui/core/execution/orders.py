"""Provides the order manager: client ids, write-ahead persistence, paper and venue execution."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable

from tradetui.core.execution.paper import PaperBroker
from tradetui.core.metrics import EngineMetrics
from tradetui.core.model import (
    CancelReport,
    Decision,
    Fill,
    MarketInfo,
    Mode,
    Order,
    OrderBook,
    OrderStatus,
    PublicTrade,
    TradeReport,
)
from tradetui.core.store import Store
from tradetui.core.venue.breaker import CircuitBreaker
from tradetui.core.venue.client import VenueClient
from tradetui.core.venue.errors import OrderNotFound, VenueError

log = logging.getLogger("tradetui.orders")

RECENT_LIMIT = 50
UNMATCHED_LIMIT = 200
RECENT_VENUE_S = 86_400.0
"""At start-up, live orders touched this recently stay matchable to venue trades."""


def new_client_id() -> str:
    """A fresh client order id (18 characters, within Kraken's free-text cl_ord_id limit)."""
    return "tt" + uuid.uuid4().hex[:16]


class OrderManager:
    """Owns every order: persisted as PENDING_SUBMIT before it is sent, never sent twice.

    The venue side of reconciliation (adoption, REST sync, the executions stream) is
    ``execution/reconcile.py``; it works on the orders tracked here.
    """

    def __init__(
        self,
        store: Store,
        clock: Callable[[], float],
        paper: PaperBroker,
        markets: dict[str, MarketInfo],
        breaker: CircuitBreaker,
        on_fill: Callable[[Fill], None],
        metrics: EngineMetrics | None = None,
        holds_changed: Callable[[Mode], None] = lambda mode: None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._paper = paper
        self._markets = markets
        self.breaker = breaker
        """The ``orders`` circuit breaker: every venue order call reports to it."""
        self._on_fill = on_fill
        self._holds_changed = holds_changed
        """Told when orders of a ledger were placed or canceled (venue holds need a re-read)."""
        self.client: VenueClient | None = None
        """The authenticated venue client (None: paper only)."""
        self.active: dict[str, Order] = {}
        """Orders not yet in a terminal state, by client id."""
        self.by_venue_id: dict[str, Order] = {}
        """Live orders (open, or finished recently) by venue id, for matching venue reports."""
        self._recent: list[Order] = []
        self.trades_since_ms: int | None = None
        """REST trade sync reads the venue's trades from here on (venue time, ms)."""
        self._unmatched_trades: dict[str, list[TradeReport]] = {}
        self._metrics = metrics or EngineMetrics(clock)
        self.resync: Callable[[Order], Awaitable[None]] | None = None
        """Asks the venue for one order's state (set by the reconciler)."""
        self.on_difference: Callable[[str, str], None] | None = None
        """Told (subject, one sentence) when reconciliation finds the venue and our records differ."""

    def open_orders(self, mode: Mode | None = None) -> list[Order]:
        """Orders not yet in a terminal state."""
        return [o for o in self.active.values() if mode is None or o.mode is mode]

    def recent_orders(self) -> list[Order]:
        """The latest terminal orders, newest last."""
        return list(self._recent)

    async def restore(self) -> None:
        """Load non-terminal orders: paper ones go back on the paper book, live ones get reconciled."""
        pending = [s for s in OrderStatus if not s.is_terminal]
        for order in await self._store.orders(pending):
            self.track(order)
            market = self._markets.get(order.symbol)
            if order.mode is Mode.PAPER:
                if (
                    order.status is OrderStatus.PENDING_SUBMIT
                    or market is None
                    or order.price is None
                ):
                    # A paper order that never reached the paper book: nothing happened to it.
                    await self.finish(order, OrderStatus.REJECTED, "not submitted before shutdown")
                else:
                    self._paper.rest(order, market)
        # A fill of an order finished locally may not have been saved before a crash: keep
        # recent venue ids matchable so the venue's trade history can still bring it in.
        for order in await self._store.live_orders_updated_since(self._clock() - RECENT_VENUE_S):
            self.by_venue_id.setdefault(str(order.venue_id), order)
            self._widen_trade_window(order)
        if self.open_orders(Mode.LIVE):
            log.info(
                "reconciling %d live order(s) with the venue", len(self.open_orders(Mode.LIVE))
            )

    async def place(
        self,
        decision: Decision,
        mode: Mode,
        book: OrderBook | None,
        may_send: Callable[[], bool] = lambda: True,
    ) -> Order:
        """Persist, then send, one approved order; returns it in its new state.

        ``may_send`` is asked again once the order is on disk, right before it goes out: a kill
        switch pulled while the write was in flight must still stop it.
        """
        intent = decision.intent
        now = self._clock()
        order = Order(
            client_id=new_client_id(),
            symbol=intent.symbol,
            side=intent.side,
            order_type=intent.order_type,
            amount=decision.amount,
            price=intent.price,
            mode=mode,
            strategy=intent.strategy,
            created_at=now,
            updated_at=now,
        )
        self.track(order)
        await self._store.save_order(order)  # write-ahead: on disk before anything is sent
        if not may_send():
            await self.finish(order, OrderStatus.REJECTED, "kill switch engaged before it was sent")
            return order
        if mode is Mode.PAPER:
            fills = self._paper.execute(order, book, self._markets[order.symbol])
            await self._record(order, fills)
        else:
            await self._send_live(order)
        self._holds_changed(mode)
        return order

    async def on_trades(self, trades: list[PublicTrade]) -> None:
        """Let the paper book fill resting orders the market traded through."""
        for order, fill in self._paper.on_trades(trades):
            await self._record(order, [fill])

    async def cancel(self, client_id: str) -> bool:
        """Cancel one open order; False when it is not open (any more)."""
        order = self.active.get(client_id)
        if order is None:
            return False
        try:
            return await self._cancel(order)
        finally:
            self._holds_changed(order.mode)

    async def _cancel(self, order: Order) -> bool:
        client_id = order.client_id
        if order.mode is Mode.PAPER:
            if self._paper.cancel(client_id) is None:
                return False
            await self.finish(order, OrderStatus.CANCELED)
            return True
        if self.client is None or order.venue_id is None:
            return False  # not acknowledged yet: the sync resolves it first
        try:
            canceled = await self.client.cancel_order(order.venue_id, order.symbol)
        except OrderNotFound:
            canceled = False
        except Exception as exc:
            self.count(exc)
            raise
        self.breaker.record_success()
        if not canceled:
            # Unknown to the venue, or it canceled nothing (count 0): the order closed before
            # the cancel arrived, filled or not. Its final state on the venue wins, never ours.
            if self.resync is not None:
                await self.resync(order)
            return False
        if not order.status.is_terminal:  # the executions stream can report it before the reply
            await self.finish(order, OrderStatus.CANCELED)
        return order.status is OrderStatus.CANCELED

    async def cancel_each(self) -> CancelReport:
        """Cancel every open order in both ledgers by its own id; other orders on the account stay.

        Paper orders come off the paper book; live cancels go to the venue together, and one the
        venue refuses does not stop the others. An order that filled meanwhile is in neither list.
        """
        orders = self.open_orders()
        outcomes = await asyncio.gather(*(self._cancel_reported(order) for order in orders))
        canceled = tuple(o.client_id for o, (done, _) in zip(orders, outcomes, strict=True) if done)
        return CancelReport(canceled, tuple(error for _, error in outcomes if error))

    async def _cancel_reported(self, order: Order) -> tuple[bool, str]:
        """Cancel one order for a report: (canceled, why not when it may still be open)."""
        if order.mode is Mode.LIVE and self.client is None:
            return False, f"{order.client_id}: no authenticated venue connection"
        if order.mode is Mode.LIVE and order.venue_id is None:
            return (
                False,
                f"{order.client_id}: not acknowledged by the venue yet (the sync resolves it)",
            )
        try:
            return await self.cancel(order.client_id), ""
        except Exception as exc:  # noqa: BLE001 - reported per order; the other cancels go on
            return False, f"{order.client_id}: {one_line(exc)}"

    async def cancel_all(self, venue_wide: bool) -> dict[Mode, int]:
        """The kill switch's cancel: every open order in both ledgers and, on the venue, every
        order of the account (CancelAll), ours or not, when we track live orders or
        ``venue_wide`` (trading live); returns how many of ours were canceled, per ledger."""
        canceled = {Mode.PAPER: 0, Mode.LIVE: 0}
        for order in self.open_orders(Mode.PAPER):
            if self._paper.cancel(order.client_id) is not None:
                await self.finish(order, OrderStatus.CANCELED)
                canceled[Mode.PAPER] += 1
        live = self.open_orders(Mode.LIVE)
        venue = "" if self.client is None else " (nothing sent to the venue)"
        if self.client is not None and (live or venue_wide):
            try:
                await self.client.cancel_all_orders()
            except Exception as exc:  # noqa: BLE001 - reported; the sync loop retries the state
                self.count(exc)
                log.error("cancel all on the venue failed: %s", exc)
                venue = " (the venue's CancelAll FAILED)"
            else:
                self.breaker.record_success()
                venue = " (and the venue's CancelAll took any other order of the account)"
                for order in live:
                    if not order.status.is_terminal:  # the executions stream may have been first
                        await self.finish(order, OrderStatus.CANCELED)
                        canceled[Mode.LIVE] += 1
        self._holds_changed(Mode.LIVE)
        log.warning(
            "kill switch canceled %d paper and %d live order(s)%s",
            canceled[Mode.PAPER],
            canceled[Mode.LIVE],
            venue,
            extra={
                "event": "cancel_all",
                "paper": canceled[Mode.PAPER],
                "live": canceled[Mode.LIVE],
            },
        )
        return canceled

    async def _send_live(self, order: Order) -> None:
        # Type narrowing for mypy; the value is set on this path.
        assert self.client is not None, "live mode without a venue connection"  # nosec B101
        if not self.breaker.allow():
            await self.finish(order, OrderStatus.REJECTED, "order circuit breaker is open")
            return
        try:
            venue_id = await self.client.create_order(
                order.symbol,
                order.order_type,
                order.side,
                order.amount,
                order.price,
                order.client_id,
            )
        except Exception as exc:  # noqa: BLE001 - classified below
            self.count(exc)
            if isinstance(exc, VenueError) and exc.transport:
                # The order may or may not be on the venue: look it up later, never resend.
                reason = one_line(exc)
                order.status, order.error = OrderStatus.UNKNOWN, reason
                order.updated_at = self._clock()
                await self._store.save_order(order)
                # The reason, not order.error: the executions stream may have found the order
                # (and cleared the error) while the row was being written.
                log.warning("order %s outcome unknown: %s", order.client_id, reason)
            else:
                await self.finish(order, OrderStatus.REJECTED, one_line(exc))
            return
        self.breaker.record_success()
        if not order.status.is_terminal:  # the executions stream may have finished it already
            order.status = OrderStatus.OPEN
        order.updated_at = self._clock()
        order.venue_id, order.error = venue_id, ""
        self.by_venue_id[venue_id] = order
        self._store.queue_order(order)
        log.info("order %s sent: %s", order.client_id, venue_id)
        await self.know_venue_id(order, venue_id)  # trades that beat the reply apply now

    async def know_venue_id(self, order: Order, venue_id: str) -> None:
        """Record the venue's id of ``order``; trades that arrived before it are applied now."""
        order.venue_id, order.error = venue_id, ""
        self.by_venue_id[venue_id] = order
        for trade in self._unmatched_trades.pop(venue_id, []):
            await self.apply_trade(trade)

    async def apply_trade(self, trade: TradeReport) -> None:
        """Apply one of the account's venue trades to the order it filled (once per trade id)."""
        order = self.by_venue_id.get(trade.order_id)
        if order is None:
            # The stream can beat the AddOrder reply: keep the trade until the order id is known.
            self._unmatched_trades.setdefault(trade.order_id, []).append(trade)
            while len(self._unmatched_trades) > UNMATCHED_LIMIT:  # other clients' trades
                del self._unmatched_trades[next(iter(self._unmatched_trades))]
            return
        fill = Fill(
            fill_id=trade.trade_id,
            client_id=order.client_id,
            symbol=order.symbol,
            side=trade.side,
            amount=trade.amount,
            price=trade.price,
            fee=trade.fee,
            fee_currency=trade.fee_currency,
            mode=Mode.LIVE,
            timestamp=trade.timestamp,
        )
        await self._store.save_fill(fill)
        self._on_fill(fill)

    async def _record(self, order: Order, fills: list[Fill]) -> None:
        for fill in fills:
            await self._store.save_fill(fill)
            self._on_fill(fill)
        if order.status.is_terminal:
            await self.finish(order, order.status, order.error)
        else:
            await self._store.save_order(order)

    async def save(self, order: Order) -> None:
        """Persist a change to a tracked order (its status or fills moved)."""
        order.updated_at = self._clock()
        await self._store.save_order(order)

    async def finish(self, order: Order, status: OrderStatus, error: str = "") -> None:
        """Move ``order`` to a terminal status: it leaves the open orders for the recent ones."""
        order.status, order.error, order.updated_at = status, error, self._clock()
        self.active.pop(order.client_id, None)
        self._recent.append(order)
        del self._recent[:-RECENT_LIMIT]
        self._store.queue_order(order)  # a final state: the venue (or paper book) already has it
        self._metrics.order_finished(order)
        if status is OrderStatus.REJECTED and error:
            log.warning("order %s rejected: %s", order.client_id, error)

    def track(self, order: Order) -> None:
        """Start tracking an open order (placed, restored or adopted)."""
        self.active[order.client_id] = order
        if order.venue_id is not None:
            self.by_venue_id[order.venue_id] = order
        if order.mode is Mode.LIVE:
            self._widen_trade_window(order)

    def _widen_trade_window(self, order: Order) -> None:
        # REST trade sync reads from a minute before the oldest live order it must match.
        since = int(order.created_at * 1000) - 60_000
        if self.trades_since_ms is None or since < self.trades_since_ms:
            self.trades_since_ms = since

    def differs(self, subject: str, message: str) -> None:
        """Report a difference between the venue and our records."""
        if self.on_difference is not None:
            self.on_difference(subject, message)

    def count(self, exc: BaseException) -> None:
        """Feed the breaker: transport failures count, the venue's business answers do not."""
        if isinstance(exc, VenueError) and exc.transport:
            self.breaker.record_failure()
        else:
            self.breaker.record_success()


def one_line(exc: BaseException) -> str:
    """``exc`` as one line of at most 200 characters, naming its class (and saying so when it
    has no message, as timeouts often have none)."""
    if isinstance(exc, VenueError):
        return exc.one_line()
    name, text = type(exc).__name__, str(exc).strip().splitlines()
    return (f"{name}: {text[0]}" if text else f"{name} (no message)")[:200]
