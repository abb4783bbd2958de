"""Provides the engine: its lifecycle, the one path from intent to broker, and snapshots."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from tradetui.config import ConfigError, Settings
from tradetui.core.alerts import EngineAlerts
from tradetui.core.api import EngineError
from tradetui.core.commands import OperatorCommands
from tradetui.core.execution.orders import OrderManager
from tradetui.core.execution.paper import PaperBroker
from tradetui.core.execution.procedures import Procedures
from tradetui.core.execution.reconcile import Reconciler
from tradetui.core.feeds import VenueFeeds
from tradetui.core.ledgers import Ledgers
from tradetui.core.metrics import EngineMetrics
from tradetui.core.model import (
    Decision,
    EngineSnapshot,
    Fill,
    MarketInfo,
    Mode,
    OrderIntent,
    PublicTrade,
    TradingState,
)
from tradetui.core.risk import RiskGuard
from tradetui.core.risk.state import RiskState
from tradetui.core.services.signals import MarketSignals
from tradetui.core.services.supervisor import Services
from tradetui.core.session import Session
from tradetui.core.startup import Phase, until_done
from tradetui.core.store import Store
from tradetui.core.strategies import StrategySpec, resolve_strategies
from tradetui.core.strategies.loader import refuse_demo_in_live
from tradetui.core.strategies.runner import StrategyRunner
from tradetui.core.venue.breaker import CircuitBreaker
from tradetui.core.venue.connect import Venue, VenueAccess, open_venue
from tradetui.core.venue.errors import VenueSetupError
from tradetui.core.venue.streams import cancel_tasks
from tradetui.paths import DataPaths

log = logging.getLogger("tradetui.engine")

BREAKER_CATEGORIES = ("market_data", "account", "orders")
STRATEGY_STOP_TIMEOUT_S = 10.0
FINAL_SYNC_S = 5.0
"""A clean stop reads the venue's orders and trades once more, for at most this long."""


class Engine(OperatorCommands):
    """The trading engine. The UI and ops only call its public methods and read snapshots."""

    def __init__(
        self,
        settings: Settings,
        paths: DataPaths,
        access: VenueAccess,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.paths = paths
        self._access = access
        self._clock = clock
        self._store = Store(paths.database)
        self._session = Session(paths, self._store)
        self._guard = RiskGuard(settings.risk)
        self.risk = RiskState(settings.risk, settings.symbols, self._store, clock)
        """Trading state, order rate, cooldowns, equity marks, correlations, latest verdicts."""
        self.metrics = EngineMetrics(clock)
        """Counters for /metrics and /health (read by tradetui.ops)."""
        self.alerts = EngineAlerts(self._describe)
        """Where the engine's alerts go (set ``alerts.hook``)."""
        self.risk.on_state_change = self.alerts.state_changed
        v = settings.venue
        self._breakers = {
            c: CircuitBreaker(c, clock, v.breaker_threshold, v.breaker_open_s, self.metrics)
            for c in BREAKER_CATEGORIES
        }
        for breaker in self._breakers.values():
            breaker.on_change = lambda c, s: self.alerts.breaker_changed(c, s, v.breaker_open_s)
        mode = Mode.LIVE if settings.mode == "live" else Mode.PAPER
        self.ledgers = Ledgers(mode, PaperBroker(settings.paper, clock))
        """Paper and live balances and positions, and which ledger trades now."""
        self._markets: dict[str, MarketInfo] = {}
        self.orders = OrderManager(
            self._store,
            clock,
            self.ledgers.paper,
            self._markets,
            self._breakers["orders"],
            self._on_fill,
            self.metrics,
            self.ledgers.holds_changed,
        )
        """Every order of both ledgers."""
        self.orders.on_difference = functools.partial(self.alerts.alert, "reconciliation")
        self.procedures = Procedures(
            self.orders,
            self.ledgers,
            self._markets,
            halt=self.halt,
            submit=self.submit,
            sync_live=self._sync_live,
            flatten_attempts=v.flatten_attempts,
        )
        self.feeds = VenueFeeds(settings, self._breakers["market_data"], self.metrics, clock)
        """Market data and the venue's private loops."""
        self.signals = MarketSignals(clock)
        """Market intelligence: the public tape and every symbol's signal."""
        self.services = Services(
            settings,
            self._store,
            clock,
            self._markets,
            access,
            (self.ledgers, self.feeds, self.signals),
            submit=self.submit,
            alert=self.alerts.alert,
        )
        """Listings and copy trading, once started."""
        self.venue: Venue | None = None
        """The open venue (its client, and the embedded simulator when there is one)."""
        self.reconciler: Reconciler | None = None
        """Reconciliation with the venue (None without credentials: paper only)."""
        self._strategies: StrategyRunner | None = None
        self._strategy_task: asyncio.Task[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._connected = False
        self._kill_after_start = False
        self._unclean: bool | None = None
        """Whether the last session crashed; None until ``open()``."""
        self._strategy_specs: list[StrategySpec] = []
        self.phase = Phase()
        """Where the start is, and why it waits (the snapshot's ``phase``)."""

    # ----------------------------------------------------------------- lifecycle

    async def open(self) -> None:
        """Take the data dir and restore what the last session left (trading state, marks,
        ledgers); does nothing the second time. Raises EngineError with one line."""
        if self._unclean is not None:
            return
        try:
            self._strategy_specs = resolve_strategies(self.settings)
            if self.ledgers.mode is Mode.LIVE:
                refuse_demo_in_live(self._strategy_specs)
        except ConfigError as exc:
            raise EngineError(str(exc)) from None
        self._unclean = await self._session.begin()
        await self.risk.load()
        await self.ledgers.replay(self._store)

    async def start(self) -> None:
        """Open, connect to the venue and reconcile (passing venue troubles are retried while
        the phase says so), then start streams and strategies. Raises EngineError."""
        await self.open()
        try:
            venue = await self._open_venue()
        except VenueSetupError as exc:
            raise EngineError(str(exc)) from None
        symbols, target = self.settings.symbols, venue.target
        markets = await until_done(
            self.phase, "connecting", target, lambda: venue.load_markets(symbols)
        )
        self._markets.update(markets)
        await self.orders.restore()
        live_balances = self.ledgers.live_balances if self.ledgers.mode is Mode.LIVE else None
        adopted, reconciler = 0, self.reconciler
        if reconciler is not None:  # before any strategy runs: our orders and the venue's agree
            step = lambda: reconciler.at_start(live_balances)  # noqa: E731
            adopted = await until_done(self.phase, "reconciling", target, step)
        if self.ledgers.mode is Mode.LIVE:
            self.risk.going_live()
        if self._unclean:  # live starts PAUSED after a crash, and the operator hears of it
            self.risk.after_unclean_stop(self.ledgers.mode is Mode.LIVE, adopted)
            self.alerts.crash_recovered(self.risk.state, len(self.orders.open_orders()), adopted)
        self._tasks = self.feeds.start(
            venue.client,
            self._on_public_trades,
            reconciler=self.reconciler,
            balances=self.ledgers.live_balances,
            live=lambda: self.ledgers.mode is Mode.LIVE,
            stream_health=self._stream_health,
        )
        self._spawn(self.risk.run(self._equity_reading, self._mids), "risk tick")
        self._spawn(self.signals.run(lambda: (self.feeds.quotes, self.feeds.books)), "signals")
        if self._strategy_specs:
            self._strategies = await StrategyRunner.build(
                self._strategy_specs,
                self,
                self._markets,
                self._store,
                self.settings.strategy.interval_s,
                self._clock,
            )
            self._strategy_task = self._spawn(self._strategies.run(), "strategies")
        await self.services.start(venue)
        self._connected = True
        self.phase.enter("running")
        if self._kill_after_start:  # pulled while starting: the orders are known only now
            self._kill_after_start = False
            await self.procedures.kill()
        log.info(
            "engine started: %s mode on %s, state %s",
            self.ledgers.mode.value,
            self._target(),
            self.risk.state.value,
            extra={"event": "engine_started"},
        )

    async def _open_venue(self) -> Venue:
        venue = self.venue = await open_venue(
            self.settings.venue,
            self.paths.root,
            self.ledgers.mode is Mode.LIVE,
            self._access,
            self._clock,
        )
        if venue.authenticated:
            self.orders.client = venue.client
            grace_s = self.settings.venue.unknown_order_grace_s
            self.reconciler = Reconciler(self.orders, venue.client, self._clock, grace_s)
            self.ledgers.follow_venue(venue.client, self._clock, self._breakers["account"])
        return venue

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(work, name=name)
        self._tasks.append(task)
        return task

    async def stop(self) -> None:
        """Stop every task, persist state and close venue, simulator and store."""
        if self._strategies is not None and self._strategy_task is not None:
            # Let an order being submitted finish, so none is left half-sent by a clean stop.
            self._strategies.request_stop()
            await asyncio.wait({self._strategy_task}, timeout=STRATEGY_STOP_TIMEOUT_S)
        await self.services.stop()
        await cancel_tasks(self._tasks)
        self._tasks = []
        if self.reconciler is not None and self._connected:
            await self.reconciler.final_sync(self.ledgers.mode is Mode.LIVE, FINAL_SYNC_S)
        await self.feeds.disarm()
        if self.venue is not None:
            with contextlib.suppress(Exception):
                await self.venue.close()
            self.venue = None
        await self._session.end(self.risk.save, started=self._connected)
        self.phase.enter("stopped")
        was_running, self._connected = self._connected, False
        log.info("engine stopped", extra={"event": "engine_stopped"})
        if was_running:
            self.alerts.stopped(self.risk.state)

    # ----------------------------------------------------------------- the order path

    async def submit(self, intent: OrderIntent) -> Decision:
        """The only way to an order: risk guard, audit, then the broker of the current mode."""
        mode = self.ledgers.mode
        self.risk.mark_equity(*self._equity_reading())  # a new day's first order marks its start
        context = self.risk.context(
            intent,
            ledgers=self.ledgers,
            breaker_open=self._breakers["orders"].is_open,
            markets=self._markets,
            quotes=self.feeds.quotes,
            market_data_down=self.feeds.market_data_down(intent.symbol),
        )
        evaluated_at = time.perf_counter()
        decision = self._guard.evaluate(intent, context)
        self.metrics.decided(decision, time.perf_counter() - evaluated_at)
        self.risk.record(decision)
        if decision.rejected_by is not None:
            self.alerts.rejected(decision.rejected_by, mode)
        client_id = None
        try:
            if decision.approved:
                self.risk.order_sent()
                self.metrics.orders_submitted[mode.value] += 1
                order = await self.orders.place(
                    decision,
                    mode,
                    self.feeds.books.get(intent.symbol),
                    lambda: self.risk.state is not TradingState.HALTED or intent.flatten,
                )
                client_id = order.client_id
                if self._strategies is not None:
                    self._strategies.host.record_order(order)
        finally:
            self._store.audit(self._clock(), mode, decision, client_id)
        log.info(
            "%s %s %s %s -> %s%s",
            intent.strategy,
            intent.side.value,
            intent.amount,
            intent.symbol,
            decision.verdict.value,
            f" ({decision.rejected_by.code})" if decision.rejected_by else "",
            extra={"event": "decision", "verdict": decision.verdict.value},
        )
        return decision

    def _on_fill(self, fill: Fill) -> None:
        new, loss = self.ledgers.apply(fill)
        if not new:
            return
        if self._strategies is not None:
            self._strategies.host.queue_fill(fill)  # heard of on the strategy's next tick
        if loss:
            self.risk.losing_trade(fill.symbol)
        log.info(
            "fill %s %s %s @ %s (%s)",
            fill.side.value,
            fill.amount,
            fill.symbol,
            fill.price,
            fill.mode.value,
            extra={"event": "fill", "mode": fill.mode.value},
        )

    async def _on_public_trades(self, trades: list[PublicTrade]) -> None:
        self.signals.record(trades, self.feeds.quotes)
        await self.orders.on_trades(trades)

    async def _sync_live(self) -> None:
        if self.reconciler is not None:
            await self.reconciler.sync_live()

    def _stream_health(self, healthy: bool) -> None:
        if self.reconciler is not None:
            self.reconciler.streams_healthy = healthy
        self.services.stream_health(healthy)

    # ----------------------------------------------------------------- reading

    def _quote_currency(self) -> str:
        return next(iter(self._markets.values())).quote if self._markets else "USD"

    def _equity_reading(self) -> tuple[Mode, float | None]:
        """The current ledger and its equity (None unless every asset it holds is priced)."""
        quotes = self.feeds.quotes
        return self.ledgers.mode, self.ledgers.equity(quotes, self._quote_currency(), self._markets)

    def _mids(self) -> dict[str, float]:
        return {symbol: quote.mid for symbol, quote in self.feeds.quotes.items()}

    def _describe(self) -> dict[str, str]:
        mode, state = self.ledgers.mode.value, self.risk.state.value
        return {"state": state, "mode": mode, "venue": self._target()}

    def snapshot(self) -> EngineSnapshot:
        """A frozen view of the whole engine (cheap enough for 10 Hz). Writes nothing."""
        quotes = dict(self.feeds.quotes)
        balances = self.ledgers.balances()
        portfolio = self.ledgers.portfolio
        quote_ccy = self._quote_currency()
        total_equity = self.ledgers.equity(quotes, quote_ccy, self._markets)
        mode = self.ledgers.mode
        market = self.feeds.market
        return EngineSnapshot(
            taken_at=self._clock(),
            state=self.risk.state,
            mode=mode,
            venue=self._target(),
            connected=self._connected,
            symbols=tuple(self.settings.symbols),
            quotes=quotes,
            balances=balances,
            positions=portfolio.positions(quotes),
            open_orders=tuple(sorted(self.orders.open_orders(mode), key=lambda o: o.created_at)),
            recent_orders=tuple(self.orders.recent_orders()),
            gates=self.risk.gates(),
            last_rejections=self.risk.last_rejections(),
            breakers=tuple(b.snapshot() for b in self._breakers.values()),
            equity=total_equity,
            day_pnl=self.risk.day_pnl(mode, total_equity),
            peak_equity=self.risk.peak_equity(mode),
            quote_currency=quote_ccy,
            fills_count=portfolio.fills_count,
            trends=market.trends.all_points() if market is not None else {},
            signals=self.signals.latest,
            listing_events=self.services.listing_events(),
            copy_drift=self.services.copy_drift(),
            phase=self.phase.name,
            phase_detail=self.phase.detail,
        )
