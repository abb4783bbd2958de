"""Provides the order manager: client ids, write-ahead persistence, paper and venue execution."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

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
    OrderType,
    PublicTrade,
    Side,
)
from tradetui.core.store import Store
from tradetui.core.venue.breaker import CircuitBreaker
from tradetui.core.venue.client import is_order_not_found, is_transport_error

log = logging.getLogger("tradetui.orders")

RECENT_LIMIT = 50
UNMATCHED_LIMIT = 200
RECENT_VENUE_S = 86_400.0
"""At start-up, live orders touched this recently stay matchable to venue trades."""

_VENUE_STATUS = {
    "open": OrderStatus.OPEN,
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "expired": OrderStatus.CANCELED,
    "rejected": OrderStatus.REJECTED,
}


def new_client_id() -> str:
    """A fresh client order id (18 characters, within Kraken's free-text cl_ord_id limit)."""
    return "tt" + uuid.uuid4().hex[:16]


class OrderManager:
    """Owns every order: persisted as PENDING_SUBMIT before it is sent, never sent twice."""

    def __init__(
        self,
        store: Store,
        clock: Callable[[], float],
        paper: PaperBroker,
        markets: dict[str, MarketInfo],
        breaker: CircuitBreaker,
        on_fill: Callable[[Fill], None],
        unknown_grace_s: float = 10.0,
        metrics: EngineMetrics | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._paper = paper
        self._markets = markets
        self._breaker = breaker
        self._on_fill = on_fill
        self.exchange: Any | None = None
        self._active: dict[str, Order] = {}
        self._recent: list[Order] = []
        self._by_venue_id: dict[str, Order] = {}
        self._trades_since_ms: int | None = None
        self.unknown_grace_s = unknown_grace_s
        self._unmatched_trades: dict[str, list[dict[str, Any]]] = {}
        self._metrics = metrics or EngineMetrics(clock)
        self.on_difference: Callable[[str, str], None] | None = None
        """Told (subject, one sentence) when reconciliation finds the venue and our records differ."""

    def open_orders(self, mode: Mode | None = None) -> list[Order]:
        """Orders not yet in a terminal state."""
        return [o for o in self._active.values() if mode is None or o.mode is mode]

    def recent_orders(self) -> list[Order]:
        """The latest terminal orders, newest last."""
        return list(self._recent)

    async def restore(self) -> None:
        """Load non-terminal orders: paper ones go back on the paper book, live ones get reconciled."""
        pending = [s for s in OrderStatus if not s.is_terminal]
        for order in await self._store.orders(pending):
            self._track(order)
            market = self._markets.get(order.symbol)
            if order.mode is Mode.PAPER:
                if (
                    order.status is OrderStatus.PENDING_SUBMIT
                    or market is None
                    or order.price is None
                ):
                    # A paper order that never reached the paper book: nothing happened to it.
                    await self._finish(order, OrderStatus.REJECTED, "not submitted before shutdown")
                else:
                    self._paper.rest(order, market)
        # A fill of an order finished locally may not have been saved before a crash: keep
        # recent venue ids matchable so the venue's trade history can still bring it in.
        for order in await self._store.live_orders_updated_since(self._clock() - RECENT_VENUE_S):
            self._by_venue_id.setdefault(str(order.venue_id), order)
            self._widen_trade_window(order)
        if self.open_orders(Mode.LIVE):
            log.info(
                "reconciling %d live order(s) with the venue", len(self.open_orders(Mode.LIVE))
            )

    async def adopt_venue_orders(self) -> list[Order]:
        """Take charge of open orders on the venue that the engine has no record of.

        They are tracked (and canceled by the kill switch) like the engine's own, under
        their venue client id when they have one.
        """
        # Type narrowing for mypy; the value is set on this path.
        assert self.exchange is not None  # nosec B101
        adopted: list[Order] = []
        for remote in await self.exchange.fetch_open_orders():
            venue_id = str(remote["id"])
            if venue_id in self._by_venue_id:
                continue
            client_id = remote.get("clientOrderId")
            known = self._active.get(str(client_id))
            if known is not None:  # ours, sent but never acknowledged
                known.venue_id = venue_id
                self._by_venue_id[venue_id] = known
                continue
            now = self._clock()
            order = Order(
                client_id=str(client_id) if client_id not in (None, "0") else f"venue-{venue_id}",
                symbol=str(remote["symbol"]),
                side=Side(remote["side"]),
                order_type=OrderType(remote["type"]),
                amount=Decimal(str(remote["amount"])),
                price=Decimal(str(remote["price"])) if remote.get("price") else None,
                mode=Mode.LIVE,
                strategy="adopted",
                status=OrderStatus.OPEN,
                filled=Decimal(str(remote.get("filled") or 0)),
                venue_id=venue_id,
                created_at=(remote.get("timestamp") or now * 1000) / 1000,
                updated_at=now,
            )
            self._track(order)
            await self._store.save_order(order)
            adopted.append(order)
        if adopted:
            log.warning(
                "adopted %d open order(s) found on the venue: %s",
                len(adopted),
                ", ".join(f"{o.symbol} {o.side.value} {o.amount} ({o.venue_id})" for o in adopted),
                extra={"event": "orders_adopted"},
            )
            self._differs(
                "adopted_orders",
                f"{len(adopted)} open order(s) on the venue had no local record and were adopted",
            )
        return adopted

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
        self._track(order)
        await self._store.save_order(order)  # write-ahead: on disk before anything is sent
        if not may_send():
            await self._finish(
                order, OrderStatus.REJECTED, "kill switch engaged before it was sent"
            )
            return order
        if mode is Mode.PAPER:
            fills = self._paper.execute(order, book, self._markets[order.symbol])
            await self._record(order, fills)
        else:
            await self._send_live(order)
        return order

    async def on_trades(self, trades: list[PublicTrade]) -> None:
        """Let the paper book fill resting orders the market traded through."""
        for order, fill in self._paper.on_trades(trades):
            await self._record(order, [fill])

    async def cancel(self, client_id: str) -> bool:
        """Cancel one open order; False when it is not open (any more)."""
        order = self._active.get(client_id)
        if order is None:
            return False
        if order.mode is Mode.PAPER:
            if self._paper.cancel(client_id) is None:
                return False
            await self._finish(order, OrderStatus.CANCELED)
            return True
        if self.exchange is None or order.venue_id is None:
            return False  # not acknowledged yet: the sync resolves it first
        try:
            await self.exchange.cancel_order(order.venue_id, order.symbol)
        except Exception as exc:
            self._count(exc)
            if is_order_not_found(exc):  # filled or gone meanwhile: let the venue say which
                await self._sync_order(order)
                return False
            raise
        self._breaker.record_success()
        if not order.status.is_terminal:  # the executions stream can report it before the reply
            await self._finish(order, OrderStatus.CANCELED)
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
        if order.mode is Mode.LIVE and self.exchange is None:
            return False, f"{order.client_id}: no authenticated venue connection"
        if order.mode is Mode.LIVE and order.venue_id is None:
            return (
                False,
                f"{order.client_id}: not acknowledged by the venue yet (the sync resolves it)",
            )
        try:
            return await self.cancel(order.client_id), ""
        except Exception as exc:  # noqa: BLE001 - reported per order; the other cancels go on
            return False, f"{order.client_id}: {_one_line(exc)}"

    async def cancel_all(self) -> int:
        """The kill switch's cancel: every open order in both ledgers and, on the venue, every
        order of the account (CancelAll), ours or not; returns how many of ours were canceled."""
        count = 0
        for order in self.open_orders(Mode.PAPER):
            if self._paper.cancel(order.client_id) is not None:
                await self._finish(order, OrderStatus.CANCELED)
                count += 1
        live = self.open_orders(Mode.LIVE)
        if self.exchange is not None and live:
            try:
                await self.exchange.cancel_all_orders()
            except Exception as exc:  # noqa: BLE001 - reported; the sync loop retries the state
                self._count(exc)
                log.error("cancel all on the venue failed: %s", exc)
            else:
                self._breaker.record_success()
                for order in live:
                    if not order.status.is_terminal:  # the executions stream may have been first
                        await self._finish(order, OrderStatus.CANCELED)
                        count += 1
        log.warning("canceled %d open order(s)", count, extra={"event": "cancel_all"})
        return count

    async def sync_live(self) -> None:
        """Bring live orders and fills in line with the venue (REST); resolves UNKNOWN by client id."""
        if self.exchange is None or not self._breaker.allow():
            return
        try:
            for order in self.open_orders(Mode.LIVE):
                await self._sync_order(order)
            await self._sync_trades()
        except Exception as exc:  # noqa: BLE001 - a failed sync is retried on the next cycle
            self._count(exc)
            log.warning("order sync failed: %s", exc)
        else:
            self._breaker.record_success()

    async def _send_live(self, order: Order) -> None:
        # Type narrowing for mypy; the value is set on this path.
        assert self.exchange is not None, "live mode without a venue connection"  # nosec B101
        if not self._breaker.allow():
            await self._finish(order, OrderStatus.REJECTED, "order circuit breaker is open")
            return
        price = float(order.price) if order.price is not None else None
        try:
            result = await self.exchange.create_order(
                order.symbol,
                order.order_type.value,
                order.side.value,
                float(order.amount),
                price,
                {"clientOrderId": order.client_id},
            )
        except Exception as exc:  # noqa: BLE001 - classified below
            self._count(exc)
            if is_transport_error(exc):
                # The order may or may not be on the venue: look it up later, never resend.
                order.status, order.error = OrderStatus.UNKNOWN, _one_line(exc)
                order.updated_at = self._clock()
                await self._store.save_order(order)
                log.warning("order %s outcome unknown: %s", order.client_id, order.error)
            else:
                await self._finish(order, OrderStatus.REJECTED, _one_line(exc))
            return
        self._breaker.record_success()
        order.venue_id = str(result["id"])
        order.status = OrderStatus.OPEN
        order.updated_at = self._clock()
        self._by_venue_id[order.venue_id] = order
        self._store.queue_order(order)
        log.info("order %s sent: %s", order.client_id, order.venue_id)
        for trade in self._unmatched_trades.pop(order.venue_id, []):
            await self._apply_trade(trade)

    async def _sync_order(self, order: Order) -> None:
        # Type narrowing for mypy; the value is set on this path.
        assert self.exchange is not None  # nosec B101
        if order.venue_id is None:
            found = await self._find_by_client_id(order.client_id)
            if found is None:
                # A request can still be in flight: only after the grace period is it never sent.
                if self._clock() - order.created_at >= self.unknown_grace_s:
                    await self._finish(order, OrderStatus.REJECTED, "never reached the venue")
                    self._differs(
                        "order_not_on_venue",
                        f"order {order.client_id} ({order.symbol}) had an unknown outcome and "
                        "is not on the venue: marked never sent",
                    )
                return
            order.venue_id, order.error = str(found["id"]), ""
            self._by_venue_id[order.venue_id] = order
        try:
            remote = await self.exchange.fetch_order(order.venue_id, order.symbol)
        except Exception as exc:
            if is_order_not_found(exc):
                await self._finish(order, OrderStatus.REJECTED, "venue does not know this order")
                self._differs(
                    "order_not_on_venue",
                    f"order {order.client_id} ({order.symbol}, venue id {order.venue_id}) "
                    "is unknown to the venue: marked rejected",
                )
                return
            raise
        await self._apply_remote(order, remote)

    async def _find_by_client_id(self, client_id: str) -> dict[str, Any] | None:
        # Type narrowing for mypy; the value is set on this path.
        assert self.exchange is not None  # nosec B101
        # ccxt sends clientOrderId as cl_ord_id here, so the venue filters for us.
        by_client_id = {"clientOrderId": client_id}
        for fetch in (self.exchange.fetch_open_orders, self.exchange.fetch_closed_orders):
            for remote in await fetch(None, None, None, by_client_id):
                if remote.get("clientOrderId") == client_id:
                    return dict(remote)
        return None

    async def _apply_remote(self, order: Order, remote: dict[str, Any]) -> None:
        status = _VENUE_STATUS.get(str(remote.get("status")), order.status)
        filled = Decimal(str(remote.get("filled") or 0))
        if status is OrderStatus.OPEN and filled > 0:
            status = OrderStatus.PARTIALLY_FILLED
        if status is OrderStatus.CANCELED and filled > 0 and filled >= order.amount:
            status = OrderStatus.FILLED
        if remote.get("average"):
            order.average_price = Decimal(str(remote["average"]))
        order.filled = filled
        if status.is_terminal:
            await self._finish(order, status)
        elif status is not order.status:
            order.status, order.updated_at = status, self._clock()
            await self._store.save_order(order)

    async def _sync_trades(self) -> None:
        # Type narrowing for mypy; the value is set on this path.
        assert self.exchange is not None  # nosec B101
        for trade in await self.exchange.fetch_my_trades(None, self._trades_since_ms):
            await self._apply_trade(trade)

    async def watch_fills_once(self) -> None:
        """Apply the fills the venue's executions stream reports next (REST sync is the fallback)."""
        # Type narrowing for mypy; the value is set on this path.
        assert self.exchange is not None  # nosec B101
        for trade in await self.exchange.watch_my_trades():
            await self._apply_trade(trade)

    async def watch_orders_once(self) -> None:
        """Apply the order updates the venue's executions stream reports next."""
        # Type narrowing for mypy; the value is set on this path.
        assert self.exchange is not None  # nosec B101
        for remote in await self.exchange.watch_orders():
            order = self._by_venue_id.get(str(remote.get("id")))
            if order is None:
                # ccxt takes clientOrderId from userref on WS; Kraken's own cl_ord_id is in info.
                order = self._active.get(str((remote.get("info") or {}).get("cl_ord_id")))
                if order is None or order.mode is not Mode.LIVE:
                    continue
                order.venue_id, order.error = str(remote["id"]), ""
                self._by_venue_id[order.venue_id] = order
            if not order.status.is_terminal:
                await self._apply_remote(order, remote)

    async def _apply_trade(self, trade: dict[str, Any]) -> None:
        order_id = str(trade.get("order"))
        order = self._by_venue_id.get(order_id)
        if order is None:
            # The stream can beat the AddOrder reply: keep the trade until the order id is known.
            self._unmatched_trades.setdefault(order_id, []).append(trade)
            while len(self._unmatched_trades) > UNMATCHED_LIMIT:  # other clients' trades
                del self._unmatched_trades[next(iter(self._unmatched_trades))]
            return
        fee = trade.get("fee") or {}
        fill = Fill(
            fill_id=str(trade["id"]),
            client_id=order.client_id,
            symbol=order.symbol,
            side=Side(trade["side"]),
            amount=Decimal(str(trade["amount"])),
            price=Decimal(str(trade["price"])),
            fee=Decimal(str(fee.get("cost") or 0)),
            fee_currency=str(fee.get("currency") or order.symbol.split("/")[1]),
            mode=Mode.LIVE,
            timestamp=float(trade["timestamp"]) / 1000,
        )
        await self._store.save_fill(fill)
        self._on_fill(fill)

    async def _record(self, order: Order, fills: list[Fill]) -> None:
        for fill in fills:
            await self._store.save_fill(fill)
            self._on_fill(fill)
        if order.status.is_terminal:
            await self._finish(order, order.status, order.error)
        else:
            await self._store.save_order(order)

    async def _finish(self, order: Order, status: OrderStatus, error: str = "") -> None:
        order.status, order.error, order.updated_at = status, error, self._clock()
        self._active.pop(order.client_id, None)
        self._recent.append(order)
        del self._recent[:-RECENT_LIMIT]
        self._store.queue_order(order)  # a final state: the venue (or paper book) already has it
        self._metrics.order_finished(order)
        if status is OrderStatus.REJECTED and error:
            log.warning("order %s rejected: %s", order.client_id, error)

    def _track(self, order: Order) -> None:
        self._active[order.client_id] = order
        if order.venue_id is not None:
            self._by_venue_id[order.venue_id] = order
        if order.mode is Mode.LIVE:
            self._widen_trade_window(order)

    def _widen_trade_window(self, order: Order) -> None:
        # REST trade sync reads from a minute before the oldest live order it must match.
        since = int(order.created_at * 1000) - 60_000
        if self._trades_since_ms is None or since < self._trades_since_ms:
            self._trades_since_ms = since

    def _differs(self, subject: str, message: str) -> None:
        if self.on_difference is not None:
            self.on_difference(subject, message)

    def _count(self, exc: BaseException) -> None:
        if is_transport_error(exc):
            self._breaker.record_failure()
        else:
            self._breaker.record_success()


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:200]
