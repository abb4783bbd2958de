"""Provides the strategy loop: every interval, the strategies see a snapshot and their actions go
through the engine's one order path (intents) or its cancel."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any

from tradetui.config import ConfigError
from tradetui.core.api import EngineError
from tradetui.core.metrics import EngineMetrics
from tradetui.core.model import (
    Decision,
    EngineSnapshot,
    MarketInfo,
    Mode,
    Order,
    OrderBook,
    OrderIntent,
    Signal,
)
from tradetui.core.services.signals import TradeTape
from tradetui.core.store import Store, StoreError
from tradetui.core.strategies.base import CancelOrder
from tradetui.core.strategies.host import StrategyHost, StrategySpec

log = logging.getLogger("tradetui.engine")


class StrategyRunner:
    """Ticks the strategy host until asked to stop; an order being submitted always finishes."""

    def __init__(
        self,
        host: StrategyHost,
        interval_s: float,
        *,
        snapshot: Callable[[], EngineSnapshot],
        market: Callable[[], tuple[Mapping[str, OrderBook], Mapping[str, Signal], TradeTape]],
        halted: Callable[[], bool],
        submit: Callable[[OrderIntent], Awaitable[Decision]],
        cancel: Callable[[str], Awaitable[None]],
        metrics: EngineMetrics,
        clock: Callable[[], float],
    ) -> None:
        self.host = host
        self._interval_s = interval_s
        self._snapshot = snapshot
        self._market = market
        self._halted = halted
        self._submit = submit
        self._cancel = cancel
        self._metrics = metrics
        self._clock = clock
        self._stop_requested = asyncio.Event()

    @classmethod
    async def build(
        cls,
        specs: list[StrategySpec],
        markets: Mapping[str, MarketInfo],
        store: Store,
        open_orders: list[Order],
        interval_s: float,
        **wiring: Any,
    ) -> StrategyRunner:
        """Build the strategies and give them back their orders and fills from the store;
        ``wiring`` is the constructor's keyword arguments. Raises EngineError (one line)."""
        try:
            host = StrategyHost(specs, markets)
        except ConfigError as exc:
            raise EngineError(str(exc)) from None
        fills = [fill for mode in Mode for fill in await store.fills(mode)]
        host.restore(await store.orders(), fills)
        for order in open_orders:
            host.record_order(order)  # the live objects, so strategies see their updates
        log.info("strategies: %s", ", ".join(host.ids), extra={"event": "strategies"})
        return cls(host, interval_s, **wiring)

    def request_stop(self) -> None:
        """Stop after the action being carried out (the loop returns at its next check)."""
        self._stop_requested.set()

    async def run(self) -> None:
        """Tick every ``interval_s`` until asked to stop; nothing is sent while HALTED."""
        self._metrics.strategy_ticked_at = self._clock()  # the first tick is an interval away
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_requested.wait(), self._interval_s)
            if self._stop_requested.is_set():
                return
            self._metrics.strategy_ticked_at = self._clock()
            if self._halted():
                continue
            books, signals, tape = self._market()
            for action in self.host.tick(self._snapshot(), dict(books), dict(signals), tape):
                try:
                    if isinstance(action, CancelOrder):
                        await self._cancel(action.client_id)
                    else:
                        # Only the kill switch may flatten through a HALT.
                        await self._submit(replace(action, flatten=False))
                except StoreError as exc:
                    self._metrics.store_failed()
                    log.error("order not placed: %s", exc)
