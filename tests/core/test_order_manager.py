"""The order manager's own rules, where a venue's timing is hard to stage on the simulator."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

from tests.core.markets import BTC
from tradetui.config import PaperSettings
from tradetui.core.execution.orders import OrderManager
from tradetui.core.execution.paper import PaperBroker
from tradetui.core.model import (
    Decision,
    Mode,
    OrderIntent,
    OrderStatus,
    OrderType,
    Side,
    Verdict,
)
from tradetui.core.store import Store
from tradetui.core.venue.breaker import CircuitBreaker


class StreamFirstClient:
    """A venue whose executions stream reports the order filled before AddOrder's reply."""

    def __init__(self) -> None:
        self.manager: OrderManager | None = None

    async def create_order(self, *args: object) -> str:
        assert self.manager is not None
        (order,) = self.manager.open_orders()
        await self.manager.finish(order, OrderStatus.FILLED)  # what the stream did meanwhile
        return "OFILLED-1"


async def test_a_late_addorder_reply_never_reopens_an_order_the_stream_finished(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "t.db")
    await store.open()
    client = StreamFirstClient()
    manager = OrderManager(
        store,
        time.time,
        PaperBroker(PaperSettings(), time.time),
        {"BTC/USD": BTC},
        CircuitBreaker("orders", time.time),
        on_fill=lambda fill: None,
    )
    manager.client = client  # type: ignore[assignment]
    client.manager = manager
    intent = OrderIntent("BTC/USD", Side.BUY, Decimal("0.01"), OrderType.LIMIT, Decimal(60_000))
    order = await manager.place(
        Decision(Verdict.APPROVE, intent, intent.amount, ()), Mode.LIVE, None
    )
    await store.close()
    assert order.status is OrderStatus.FILLED and order.venue_id == "OFILLED-1"
    assert manager.open_orders() == []
    assert [o.client_id for o in manager.recent_orders()] == [order.client_id]
