"""Provides the strategy loop: every interval, the strategies see a snapshot and their actions go
through the engine's one order path (intents) or its cancel."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Protocol

from tradetui.config import ConfigError
from tradetui.core.api import EngineError
from tradetui.core.execution.orders import OrderManager
from tradetui.core.feeds import VenueFeeds
from tradetui.core.metrics import EngineMetrics
from tradetui.core.model import (
    Decision,
    EngineSnapshot,
    MarketInfo,
    Mode,
    OrderIntent,
    TradingState,
)
from tradetui.core.risk.state import RiskState
from tradetui.core.services.signals import MarketSignals
from tradetui.core.store import Store, StoreError
from tradetui.core.strategies.base import CancelOrder
from tradetui.core.strategies.host import StrategyHost, StrategySpec

log = logging.getLogger("tradetui.engine")


class Engine(Protocol):
    """What the strategy loop uses of the engine that runs it."""

    metrics: EngineMetrics
    orders: OrderManager
    feeds: VenueFeeds
    signals: MarketSignals
    risk: RiskState

    def snapshot(self) -> EngineSnapshot: ...

    async def submit(self, intent: OrderIntent) -> Decision: ...


class StrategyRunner:
    """Ticks the strategy host until asked to stop; an order being submitted always finishes."""

    def __init__(
        self, host: StrategyHost, engine: Engine, interval_s: float, clock: Callable[[], float]
    ) -> None:
        self.host = host
        self._engine = engine
        self._interval_s = interval_s
        self._clock = clock
        self._stop_requested = asyncio.Event()

    @classmethod
    async def build(
        cls,
        specs: list[StrategySpec],
        engine: Engine,
        markets: Mapping[str, MarketInfo],
        store: Store,
        interval_s: float,
        clock: Callable[[], float],
    ) -> StrategyRunner:
        """Build the strategies and give them back their orders and fills from the store.
        Raises EngineError (one line)."""
        try:
            host = StrategyHost(specs, markets)
        except ConfigError as exc:
            raise EngineError(str(exc)) from None
        fills = [fill for mode in Mode for fill in await store.fills(mode)]
        host.restore(await store.orders(), fills)
        for order in engine.orders.open_orders():
            host.record_order(order)  # the live objects, so strategies see their updates
        log.info("strategies: %s", ", ".join(host.ids), extra={"event": "strategies"})
        return cls(host, engine, interval_s, clock)

    def request_stop(self) -> None:
        """Stop after the action being carried out (the loop returns at its next check)."""
        self._stop_requested.set()

    async def run(self) -> None:
        """Tick every ``interval_s`` until asked to stop; nothing is sent while HALTED."""
        engine, metrics = self._engine, self._engine.metrics
        metrics.strategy_ticked_at = self._clock()  # the first tick is an interval away
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_requested.wait(), self._interval_s)
            if self._stop_requested.is_set():
                return
            metrics.strategy_ticked_at = self._clock()
            if engine.risk.state is TradingState.HALTED:
                continue
            books, signals = dict(engine.feeds.books), engine.signals.latest
            for action in self.host.tick(engine.snapshot(), books, signals, engine.signals.tape):
                try:
                    if isinstance(action, CancelOrder):
                        await self._cancel(action.client_id)
                    else:
                        # Only the kill switch may flatten through a HALT.
                        await engine.submit(replace(action, flatten=False))
                except StoreError as exc:
                    metrics.store_failed()
                    log.error("order not placed: %s", exc)

    async def _cancel(self, client_id: str) -> None:
        try:
            await self._engine.orders.cancel(client_id)
        except Exception as exc:  # noqa: BLE001 - the strategy asks again if it still wants to
            log.warning("strategy cancel of %s failed: %s", client_id, exc)
