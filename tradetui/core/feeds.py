"""Provides VenueFeeds: the loops that keep the engine's view of the venue current (market data
per symbol and, with credentials, the private streams, the REST order sync and the dead-man's
switch)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from tradetui.config import Settings
from tradetui.core.execution.reconcile import Reconciler
from tradetui.core.metrics import EngineMetrics
from tradetui.core.model import OrderBook, PublicTrade, Quote
from tradetui.core.venue.balances import LiveBalances
from tradetui.core.venue.breaker import CircuitBreaker
from tradetui.core.venue.client import VenueClient
from tradetui.core.venue.deadman import DeadMansSwitch
from tradetui.core.venue.market_data import MarketData
from tradetui.core.venue.streams import supervise


class VenueFeeds:
    """Market data (quotes, books, trends) and the venue's private loops."""

    def __init__(
        self,
        settings: Settings,
        breaker: CircuitBreaker,
        metrics: EngineMetrics,
        clock: Callable[[], float],
    ) -> None:
        self._settings = settings
        self._breaker = breaker
        self._metrics = metrics
        self._clock = clock
        self.market: MarketData | None = None
        """Quotes, books and trends, once started."""
        self.dead_man: DeadMansSwitch | None = None
        """The venue's dead-man's switch (live trading with ``venue.dead_man_s`` > 0)."""

    @property
    def quotes(self) -> dict[str, Quote]:
        """The latest quote per symbol (empty before the feeds start)."""
        return self.market.quotes if self.market is not None else {}

    @property
    def books(self) -> dict[str, OrderBook]:
        """The latest book per symbol (empty before the feeds start)."""
        return self.market.books if self.market is not None else {}

    def market_data_down(self, symbol: str) -> bool:
        """Nothing keeps ``symbol``'s quote current (``MarketData.down``); True before the feeds
        start, when nothing does either."""
        return self.market is None or self.market.down(symbol)

    def start(
        self,
        client: VenueClient,
        on_trades: Callable[[list[PublicTrade]], Awaitable[None]],
        *,
        reconciler: Reconciler | None,
        balances: LiveBalances | None,
        live: Callable[[], bool],
        stream_health: Callable[[bool], None],
    ) -> list[asyncio.Task[None]]:
        """Start every loop; the caller owns (and cancels) the tasks."""
        self.market = MarketData(
            client,
            self._settings.symbols,
            self._clock,
            self._breaker,
            on_trades,
            self._metrics,
        )
        tasks = self.market.tasks()
        if reconciler is None or balances is None:
            return tasks
        tasks.append(asyncio.create_task(reconciler.run(live, balances), name="live sync"))
        if self._settings.venue.dead_man_s > 0:
            self.dead_man = DeadMansSwitch(client, self._settings.venue.dead_man_s, live)
            tasks.append(asyncio.create_task(self.dead_man.run(), name="dead man"))
        streams = (
            ("fills", reconciler.watch_fills_once, stream_health),
            ("orders", reconciler.watch_orders_once, stream_health),
            ("balances", balances.watch_once, balances.stream_health),
        )
        for label, receive, on_health in streams:
            stream = supervise(label, receive, on_health, self._metrics)
            tasks.append(asyncio.create_task(stream, name=f"{label} stream"))
        return tasks

    async def disarm(self) -> None:
        """A clean stop disarms the dead-man's switch: open orders are reconciliation's then."""
        if self.dead_man is not None and self.dead_man.armed:
            await self.dead_man.arm(False)
