"""Provides the engine: owns every task, the trading state and the one path from intent to broker."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any, Protocol

from tradetui.config import ConfigError, Settings
from tradetui.core.api import EngineError
from tradetui.core.execution.orders import OrderManager
from tradetui.core.execution.paper import PaperBroker
from tradetui.core.instance_lock import InstanceLock, InstanceLockError
from tradetui.core.metrics import EngineMetrics
from tradetui.core.model import (
    NOT_EVALUATED,
    Balance,
    BreakerState,
    CancelReport,
    Decision,
    EngineSnapshot,
    Fill,
    GateResult,
    MarketInfo,
    Mode,
    Order,
    OrderIntent,
    PublicTrade,
    Side,
    Signal,
    TradingState,
)
from tradetui.core.portfolio import Portfolio, equity
from tradetui.core.risk import GATE_NAMES, RiskContext, RiskGuard
from tradetui.core.risk.correlation import CorrelationTracker
from tradetui.core.risk.equity_marks import EquityMarks
from tradetui.core.risk.protections import Protections
from tradetui.core.services.copy_trading import CopyTrader
from tradetui.core.services.listings import ListingMonitor
from tradetui.core.services.signals import SignalState, TradeTape, compute_signals
from tradetui.core.store import Store, StoreError
from tradetui.core.strategies import CancelOrder, StrategyHost, StrategySpec, resolve_strategies
from tradetui.core.venue.balances import LiveBalances
from tradetui.core.venue.breaker import CircuitBreaker
from tradetui.core.venue.client import GatewayError, is_transport_error, market_infos
from tradetui.core.venue.connect import (
    Venue,
    no_credentials_message,
    open_leader_client,
    open_venue,
)
from tradetui.core.venue.market_data import MarketData
from tradetui.core.venue.streams import cancel_tasks, supervise
from tradetui.paths import DataPaths

log = logging.getLogger("tradetui.engine")

BREAKER_CATEGORIES = ("market_data", "account", "orders")
LIVE_SYNC_INTERVAL_S = 1.0
REST_FALLBACK_S = 5.0
"""REST order sync interval while the executions stream is healthy."""
CONNECT_TIMEOUT_S = 30.0
STRATEGY_STOP_TIMEOUT_S = 10.0
SIGNAL_INTERVAL_S = 1.0
"""How often market-intelligence signals are recomputed (their volume history's time step)."""
FLATTEN_WAIT_S = 5.0
"""How long one FLATTEN attempt waits for the venue to report its closing orders done."""


class AlertHook(Protocol):
    """Receives what an operator must hear about even when nobody watches (``Engine.on_alert``).

    ``kind`` is one of ``kill_switch``, ``breaker_open``, ``daily_loss_limit``, ``drawdown_limit``,
    ``reconciliation``, ``crash_recovery``, ``engine_stopped``, ``market_listed``,
    ``market_status``, ``market_delisted``, ``delisting_stuck``; ``subject`` says which breaker,
    ledger, difference or market, for rate limiting. Called on the event loop; it must not block.
    """

    def __call__(self, kind: str, subject: str, message: str, **fields: Any) -> None: ...


LIMIT_ALERTS = {"DAILY_LOSS": "daily_loss_limit", "DRAWDOWN": "drawdown_limit"}
"""Rejection codes that raise an alert, and the alert kind each raises."""


class Engine:
    """The trading engine. The UI and ops only call its public methods and read snapshots."""

    def __init__(
        self, settings: Settings, paths: DataPaths, clock: Callable[[], float] = time.time
    ) -> None:
        self.settings = settings
        self.paths = paths
        self._clock = clock
        self._state = TradingState.ACTIVE
        self._mode = Mode.LIVE if settings.mode == "live" else Mode.PAPER
        self._store = Store(paths.database)
        self._lock = InstanceLock(paths.root)
        self._guard = RiskGuard(settings.risk)
        self.metrics = EngineMetrics(clock)
        """Counters for /metrics and /health (read by tradetui.ops)."""
        venue = settings.venue
        self._breakers = {
            c: CircuitBreaker(c, clock, venue.breaker_threshold, venue.breaker_open_s, self.metrics)
            for c in BREAKER_CATEGORIES
        }
        self._paper = PaperBroker(settings.paper, clock)
        self._portfolios = {Mode.PAPER: Portfolio(), Mode.LIVE: Portfolio()}
        self._markets: dict[str, MarketInfo] = {}
        self._orders = OrderManager(
            self._store,
            clock,
            self._paper,
            self._markets,
            self._breakers["orders"],
            self._on_fill,
            venue.unknown_order_grace_s,
            self.metrics,
        )
        self._market_data: MarketData | None = None
        self._exchange: Any = None
        self._venue: Venue | None = None
        self._live_balances: LiveBalances | None = None
        risk = settings.risk
        self._correlation = CorrelationTracker(
            settings.symbols, risk.correlation_window, risk.cluster_correlation
        )
        self._protections = Protections(risk)
        self._sent_at: deque[float] = deque()
        """When each order of the last minute was sent (for the order-rate gate)."""
        self._strategy_host: StrategyHost | None = None
        self._tape = TradeTape()
        self._signal_state = SignalState()
        self._signals: dict[str, Signal] = {}
        self.new_listings: set[str] = set()
        """Recently listed symbols: their signals get the new-listing bonus."""
        self._tasks: list[asyncio.Task[None]] = []
        self._gate_latest: dict[str, GateResult] = {}
        self._last_rejections: dict[str, GateResult] = {}
        self._marks = EquityMarks(self._store)
        self._connected = False
        self._started = False
        self._streams_healthy = False
        self._stop_requested = asyncio.Event()
        self._strategy_task: asyncio.Task[None] | None = None
        self._dead_man_armed = False
        self.on_alert: AlertHook | None = None
        """Where alerts go (``tradetui.ops.alerts.Alerter.alert``); None: only the usual logs."""
        self.listings: ListingMonitor | None = None
        """The listing monitor (``[listing]``), once started."""
        self.copy_traders: list[CopyTrader] = []
        """One per ``[[copy_trading.leaders]]`` entry, once started."""
        for breaker in self._breakers.values():
            breaker.on_change = self._breaker_changed
        self._orders.on_difference = self._reconciliation_difference

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Open the store, connect to the venue, reconcile, then start streams and strategies."""
        try:
            strategy_specs = resolve_strategies(self.settings)
        except ConfigError as exc:
            raise EngineError(str(exc)) from None
        self.paths.ensure()
        try:
            self._lock.acquire()
        except InstanceLockError as exc:
            raise EngineError(str(exc)) from None
        try:
            await self._store.open()
        except StoreError as exc:
            self._lock.release()
            raise EngineError(str(exc)) from None
        self._started = True
        saved_state = await self._store.get_value("trading_state")
        if saved_state is not None and saved_state in TradingState.__members__:
            self._state = TradingState(saved_state)
        # "running" left behind means the last session never reached stop(): it crashed.
        unclean = await self._store.get_value("session") == "running"
        await self._store.put_value("session", "running")
        await self._replay_fills()
        await self._marks.load()
        cooldowns = await self._store.get_value("cooldowns")
        if cooldowns is not None:
            self._protections.cooldowns = {k: float(v) for k, v in json.loads(cooldowns).items()}
        try:
            await asyncio.wait_for(self._connect(), CONNECT_TIMEOUT_S)
        except TimeoutError:
            raise EngineError(
                f"venue {self.settings.venue.exchange} did not answer within {CONNECT_TIMEOUT_S:.0f}s"
            ) from None
        except GatewayError as exc:
            raise EngineError(str(exc)) from None
        await self._orders.restore()
        adopted: list[Order] = []
        if self._orders.exchange is not None:
            self._live_balances = LiveBalances(
                self._exchange, self._clock, self._breakers["account"]
            )
            if self._mode is Mode.LIVE:
                await self._live_balances.refresh()
            # Before any strategy runs: the venue's open orders and our unfinished ones agree.
            adopted = await self._orders.adopt_venue_orders()
            await self._orders.sync_live()
        if unclean and self._mode is Mode.LIVE and self._state is TradingState.ACTIVE:
            self._set_state(TradingState.PAUSED)
            log.warning(
                "the last session ended without a clean stop: starting PAUSED. Reconciliation "
                "adopted %d venue order(s); %d live order(s) are open. Resume when satisfied.",
                len(adopted),
                len(self._orders.open_orders(Mode.LIVE)),
                extra={"event": "unclean_start"},
            )
        if unclean:
            self._alert(
                "crash_recovery",
                "session",
                f"the last session ended without a clean stop; restarted {self._state.value} "
                f"with {len(self._orders.open_orders())} open order(s) after reconciliation",
                adopted_orders=len(adopted),
            )
        self._market_data = MarketData(
            self._exchange,
            self.settings.symbols,
            self._clock,
            self._breakers["market_data"],
            self._on_public_trades,
            self.metrics,
        )
        self._tasks = self._market_data.tasks()
        self._tasks.append(asyncio.create_task(self._live_sync_loop(), name="live sync"))
        self._tasks.append(asyncio.create_task(self._correlation_loop(), name="correlation"))
        if self._orders.exchange is not None and self.settings.venue.dead_man_s > 0:
            self._tasks.append(asyncio.create_task(self._dead_man_loop(), name="dead man"))
        if self._live_balances is not None:
            private_streams = (
                ("fills", self._orders.watch_fills_once, self._stream_health),
                ("orders", self._orders.watch_orders_once, self._stream_health),
                ("balances", self._live_balances.watch_once, self._live_balances.stream_health),
            )
            for label, receive, on_health in private_streams:
                self._tasks.append(
                    asyncio.create_task(
                        supervise(label, receive, on_health, self.metrics), name=f"{label} stream"
                    )
                )
        self._tasks.append(asyncio.create_task(self._signals_loop(), name="signals"))
        if strategy_specs:
            await self._start_strategies(strategy_specs)
            self._strategy_task = asyncio.create_task(self._strategy_loop(), name="strategies")
            self._tasks.append(self._strategy_task)
        await self._start_listings_and_copying()
        self._connected = True
        log.info(
            "engine started: %s mode on %s, state %s",
            self._mode.value,
            self._target(),
            self._state.value,
            extra={"event": "engine_started"},
        )

    async def stop(self) -> None:
        """Stop every task, persist state and close venue, simulator and store."""
        self._stop_requested.set()
        if self._strategy_task is not None:
            # Let an order being submitted finish, so none is left half-sent by a clean stop.
            await asyncio.wait({self._strategy_task}, timeout=STRATEGY_STOP_TIMEOUT_S)
            self._strategy_task = None
        await self._stop_listings_and_copying()
        await cancel_tasks(self._tasks)
        self._tasks = []
        if self._dead_man_armed:
            await self._arm_dead_man(0.0)  # a clean stop leaves open orders to reconciliation
        if self._venue is not None:
            with contextlib.suppress(Exception):
                await self._venue.close()
            self._venue = None
        if self._started:
            try:
                await self._store.put_value("trading_state", self._state.value)
                await self._store.put_value("session", "clean")
                await self._marks.flush()
            finally:
                await self._store.close()
                self._started = False
        # Released last, after the store is closed: a failed start() leaves that to stop() too.
        self._lock.release()
        was_running, self._connected = self._connected, False
        log.info("engine stopped", extra={"event": "engine_stopped"})
        if was_running:
            self._alert("engine_stopped", "engine", f"engine stopped in state {self._state.value}")

    async def _connect(self) -> None:
        self._venue = await open_venue(
            self.settings.venue, self.paths.root, need_credentials=self._mode is Mode.LIVE
        )
        self._exchange = self._venue.exchange
        self._orders.exchange = self._exchange if self._venue.authenticated else None
        try:
            markets = await self._exchange.load_markets()
        except Exception as exc:
            if is_transport_error(exc):
                raise GatewayError(f"cannot reach venue {self._venue.target}: {exc}") from None
            first_line = (str(exc).strip().splitlines() or [""])[0][:200]
            raise GatewayError(
                f"venue {self._venue.target} did not list its markets: "
                f"{type(exc).__name__}: {first_line}"
            ) from None
        self._markets.update(market_infos(markets, self.settings.symbols))

    async def _replay_fills(self) -> None:
        for mode, portfolio in self._portfolios.items():
            for fill in await self._store.fills(mode):
                portfolio.apply(fill)
                if mode is Mode.PAPER:
                    base, quote = fill.symbol.split("/")
                    self._paper.apply_fill(fill, _bare_market(fill.symbol, base, quote))

    # ----------------------------------------------------------------- controls

    def toggle_pause(self) -> None:
        """ACTIVE ↔ PAUSED; has no effect while HALTED."""
        if self._state is TradingState.ACTIVE:
            self._set_state(TradingState.PAUSED)
        elif self._state is TradingState.PAUSED:
            self._set_state(TradingState.ACTIVE)

    def pause(self) -> None:
        """Stop adding exposure (reducing orders and cancels still pass)."""
        if self._state is TradingState.ACTIVE:
            self._set_state(TradingState.PAUSED)

    def resume(self) -> None:
        """PAUSED → ACTIVE."""
        if self._state is TradingState.PAUSED:
            self._set_state(TradingState.ACTIVE)

    def halt(self) -> None:
        """Block every new order at once (the first step of the kill switch)."""
        self._set_state(TradingState.HALTED)

    async def kill(self) -> None:
        """Kill switch: HALT immediately, then cancel every open order."""
        self.halt()
        await self._orders.cancel_all()
        self._holds_changed(Mode.LIVE)

    async def flatten(self, confirmed: bool = False) -> bool:
        """Kill switch in depth: HALT, cancel everything, then close every position at market
        and check against the venue, retrying a bounded number of times. True when flat."""
        if not confirmed:
            raise EngineError("flatten sells every position at market: confirm it first")
        await self.kill()
        attempts = self.settings.venue.flatten_attempts
        for attempt in range(1, attempts + 1):
            remaining = self._open_positions()
            if not remaining:
                log.warning("flatten: flat", extra={"event": "flatten", "flat": True})
                return True
            log.warning(
                "flatten attempt %d/%d: closing %s",
                attempt,
                attempts,
                ", ".join(f"{amount} {symbol}" for symbol, amount in remaining.items()),
                extra={"event": "flatten"},
            )
            for symbol, amount in remaining.items():
                await self.submit(
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
        remaining = self._open_positions()
        if remaining:
            log.error(
                "flatten gave up after %d attempts; still open: %s",
                attempts,
                remaining,
                extra={"event": "flatten", "flat": False},
            )
        return not remaining

    def _open_positions(self) -> dict[str, Decimal]:
        """Positions of the current ledger large enough to trade, by symbol."""
        return {
            symbol: position.amount
            for symbol, position in self._portfolios[self._mode].positions({}).items()
            if symbol in self._markets and position.amount >= self._markets[symbol].min_amount
        }

    async def _await_venue_fills(self) -> None:
        """In live mode, read the venue (REST) until the closing orders are done or time is up."""
        if self._mode is not Mode.LIVE:
            return
        for _ in range(int(FLATTEN_WAIT_S / 0.25)):
            await self._orders.sync_live()  # the venue's own trade history is the check
            if not self._orders.open_orders(Mode.LIVE):
                return
            await asyncio.sleep(0.25)

    async def cancel_order(self, client_id: str) -> bool:
        """Cancel one open order (paper or live); False when it is no longer open."""
        order_mode = next(
            (o.mode for o in self._orders.open_orders() if o.client_id == client_id), None
        )
        try:
            canceled = await self._orders.cancel(client_id)
        except Exception as exc:  # noqa: BLE001 - a venue refusal is the operator's to read
            raise EngineError(f"cancel of {client_id} failed: {exc}") from None
        if order_mode is not None:
            self._holds_changed(order_mode)
        if canceled:
            log.info("order %s canceled by the operator", client_id, extra={"event": "cancel"})
        return canceled

    async def cancel_all(self) -> CancelReport:
        """Cancel every open order the engine knows, paper and live, leaving the trading state as
        it is (``ctl cancel-all``).

        The engine knows its own orders and those it adopted from the venue at start-up. Live
        ones are canceled by id, so orders put on the same account since then by hand or by
        another bot stay; the kill switch (``kill``) is what clears the whole account at once
        (the venue's CancelAll). Strategies keep trading: orders they place after this starts
        are not covered (pause or halt for that).
        """
        report = await self._orders.cancel_each()
        for mode in Mode:
            self._holds_changed(mode)
        log.warning(
            "cancel-all: canceled %d open order(s), trading state %s%s",
            len(report.canceled),
            self._state.value,
            f"; {len(report.failed)} not canceled, first: {report.failed[0]}"
            if report.failed
            else "",
            extra={"event": "cancel_all", "canceled": len(report.canceled)},
        )
        return report

    async def release(self) -> None:
        """Release the kill switch into PAUSED, so nothing trades until the operator resumes."""
        if self._state is TradingState.HALTED:
            self._set_state(TradingState.PAUSED)

    async def set_mode(self, mode: Mode) -> None:
        """Switch between paper and live ledgers; live needs venue credentials."""
        if mode is self._mode:
            return
        if mode is Mode.LIVE and self._orders.exchange is None:
            raise EngineError(no_credentials_message(self.settings.venue))
        if mode is Mode.LIVE:
            # Authenticated, checked above (type narrowing for mypy).
            assert self._live_balances is not None  # nosec B101
            await self._live_balances.refresh()  # the risk guard needs venue balances at once
        self._mode = mode
        if self.settings.venue.dead_man_s > 0 and self._orders.exchange is not None:
            await self._arm_dead_man(self.settings.venue.dead_man_s if mode is Mode.LIVE else 0.0)
        log.warning("mode changed to %s", mode.value, extra={"event": "mode", "mode": mode.value})

    def live_target(self) -> str:
        """Which account and venue live orders would go to, for a confirmation prompt."""
        if self.settings.venue.exchange == "sim":
            return f"the simulator's own account on {self._target()}"
        return f"account '{self.settings.venue.account}' on {self._target()}"

    def _target(self) -> str:
        return self._venue.target if self._venue is not None else self.settings.venue.exchange

    def _set_state(self, state: TradingState) -> None:
        if state is self._state:
            return
        previous, self._state = self._state, state
        log.warning(
            "trading state %s -> %s",
            previous.value,
            state.value,
            extra={"event": "trading_state", "state": state.value},
        )
        if self._started:
            self._store.put_value("trading_state", state.value)
        if state is TradingState.HALTED:
            self._alert(
                "kill_switch", "engine", f"kill switch engaged: HALTED (was {previous.value})"
            )

    def _alert(self, kind: str, subject: str, message: str, **fields: Any) -> None:
        if self.on_alert is None:
            return
        engine = {"state": self._state.value, "mode": self._mode.value, "venue": self._target()}
        try:
            self.on_alert(kind, subject, message, engine=engine, **fields)
        except Exception:  # noqa: BLE001 - a broken alert hook must not stop the engine
            log.exception("alert hook failed on %s", kind)

    def _breaker_changed(self, category: str, state: BreakerState) -> None:
        if state is BreakerState.OPEN:
            breaker = self._breakers[category]
            self._alert(
                "breaker_open",
                category,
                f"circuit breaker {category} opened after repeated transport failures; "
                f"its venue calls are refused for {breaker.open_seconds:g}s, then retried",
            )

    def _reconciliation_difference(self, subject: str, message: str) -> None:
        self._alert("reconciliation", subject, message)

    def _limit_hit(self, gate: GateResult) -> None:
        limit = f" (limit {gate.limit:g}%)" if gate.limit is not None else ""
        self._alert(
            LIMIT_ALERTS[gate.code],
            self._mode.value,
            f"{gate.gate} limit hit on the {self._mode.value} ledger: {gate.detail}{limit}; "
            "new exposure is refused",
            value=gate.value,
            limit=gate.limit,
        )

    # ----------------------------------------------------------------- the order path

    async def submit(self, intent: OrderIntent) -> Decision:
        """The only way to an order: risk guard, audit, then the broker of the current mode."""
        context = self._risk_context(intent)
        evaluated_at = time.perf_counter()
        decision = self._guard.evaluate(intent, context)
        self.metrics.decided(decision, time.perf_counter() - evaluated_at)
        for result in decision.gates:
            self._gate_latest[result.gate] = result
        if decision.rejected_by is not None:
            self._last_rejections[decision.rejected_by.gate] = decision.rejected_by
            if decision.rejected_by.code in LIMIT_ALERTS:
                self._limit_hit(decision.rejected_by)
        client_id = None
        try:
            if decision.approved:
                book = self._market_data.books.get(intent.symbol) if self._market_data else None
                self._sent_at.append(self._clock())
                self.metrics.orders_submitted[self._mode.value] += 1
                order = await self._orders.place(
                    decision,
                    self._mode,
                    book,
                    lambda: self._state is not TradingState.HALTED or intent.flatten,
                )
                client_id = order.client_id
                self._holds_changed(order.mode)
                if self._strategy_host is not None:
                    self._strategy_host.record_order(order)
        finally:
            self._store.audit(self._clock(), self._mode, decision, client_id)
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

    def _risk_context(self, intent: OrderIntent) -> RiskContext:
        now = self._clock()
        while self._sent_at and now - self._sent_at[0] > 60.0:
            self._sent_at.popleft()
        market = self._markets.get(intent.symbol)
        quotes = self._market_data.quotes if self._market_data else {}
        balances = self._balances()
        portfolio = self._portfolios[self._mode]
        quote_ccy = market.quote if market else "USD"
        base_ccy = market.base if market else ""
        notionals = {s: p.notional for s, p in portfolio.positions(quotes).items()}
        cluster = self._correlation.clusters.get(intent.symbol, frozenset({intent.symbol}))
        return RiskContext(
            now=now,
            state=self._state,
            breaker_open=self._breakers["orders"].is_open,
            market=market,
            quote=quotes.get(intent.symbol),
            equity=equity(balances, quotes, quote_ccy),
            position_amount=portfolio.amount(intent.symbol),
            open_position_symbols=portfolio.open_symbols(
                {s: m.min_amount for s, m in self._markets.items()}
            ),
            free_quote=float(balances[quote_ccy].free) if quote_ccy in balances else 0.0,
            free_base=float(balances[base_ccy].free) if base_ccy in balances else 0.0,
            orders_last_minute=len(self._sent_at),
            day_start_equity=self._marks.day_start(self._mode, now),
            peak_equity=self._marks.peak(self._mode),
            exposure=sum(notionals.values()),
            cluster_exposure=sum(notionals.get(s, 0.0) for s in cluster),
            cooldown_until=self._protections.until(intent.symbol),
        )

    def _holds_changed(self, mode: Mode) -> None:
        if mode is Mode.LIVE and self._live_balances is not None:
            self._live_balances.mark_dirty()

    def _on_fill(self, fill: Fill) -> None:
        self._holds_changed(fill.mode)
        portfolio = self._portfolios[fill.mode]
        realized_before = portfolio.realized(fill.symbol)
        if portfolio.apply(fill):
            if self._strategy_host is not None:
                self._strategy_host.queue_fill(fill)  # its strategy hears of it on the next tick
            if fill.side is Side.SELL and portfolio.realized(fill.symbol) < realized_before:
                if self._protections.record_loss(fill.symbol, self._clock()) and self._started:
                    self._store.put_value("cooldowns", json.dumps(self._protections.cooldowns))
            log.info(
                "fill %s %s %s @ %s (%s)",
                fill.side.value,
                fill.amount,
                fill.symbol,
                fill.price,
                fill.mode.value,
                extra={"event": "fill", "mode": fill.mode.value},
            )

    # ----------------------------------------------------------------- loops

    async def _strategy_loop(self) -> None:
        self.metrics.strategy_ticked_at = self._clock()  # the first tick is an interval away
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._stop_requested.wait(), self.settings.strategy.interval_s
                )
            if self._stop_requested.is_set():
                return
            self.metrics.strategy_ticked_at = self._clock()
            if self._state is TradingState.HALTED:
                continue
            # Type narrowing for mypy; the value is set on this path.
            assert self._strategy_host is not None  # nosec B101
            books = dict(self._market_data.books) if self._market_data else {}
            actions = self._strategy_host.tick(self.snapshot(), books, self._signals, self._tape)
            for action in actions:
                try:
                    if isinstance(action, CancelOrder):
                        await self._strategy_cancel(action.client_id)
                    else:
                        # Only the kill switch may flatten through a HALT.
                        await self.submit(replace(action, flatten=False))
                except StoreError as exc:
                    self.metrics.store_failed()
                    log.error("order not placed: %s", exc)

    async def _start_strategies(self, specs: list[StrategySpec]) -> None:
        """Build the strategies and give them back their orders and fills from the store."""
        try:
            host = StrategyHost(specs, self._markets)
        except ConfigError as exc:
            raise EngineError(str(exc)) from None
        fills = [fill for mode in Mode for fill in await self._store.fills(mode)]
        host.restore(await self._store.orders(), fills)
        for order in self._orders.open_orders():
            host.record_order(order)  # the live objects, so strategies see their updates
        self._strategy_host = host
        log.info("strategies: %s", ", ".join(host.ids), extra={"event": "strategies"})

    async def _strategy_cancel(self, client_id: str) -> None:
        order_mode = next(
            (o.mode for o in self._orders.open_orders() if o.client_id == client_id), None
        )
        try:
            await self._orders.cancel(client_id)
        except Exception as exc:  # noqa: BLE001 - the strategy asks again if it still wants to
            log.warning("strategy cancel of %s failed: %s", client_id, exc)
        if order_mode is not None:
            self._holds_changed(order_mode)

    async def _on_public_trades(self, trades: list[PublicTrade]) -> None:
        quotes = self._market_data.quotes if self._market_data else {}
        self._tape.record(trades, quotes, self._clock())
        await self._orders.on_trades(trades)

    async def _signals_loop(self) -> None:
        """Recompute every symbol's market-intelligence signal once a second."""
        while True:
            await asyncio.sleep(SIGNAL_INTERVAL_S)
            if self._market_data is None:
                continue
            self._signals = compute_signals(
                self._market_data.quotes,
                self._market_data.books,
                self._tape,
                self._signal_state,
                frozenset(self.new_listings),
            )

    def strategy_refusals(self) -> dict[str, int]:
        """Strategy actions refused before the risk guard (budget, holdings ...), by code."""
        return dict(self._strategy_host.refusals) if self._strategy_host is not None else {}

    async def _dead_man_loop(self) -> None:
        """Keep the venue's CancelAllOrdersAfter timer armed while live, disarmed otherwise."""
        timeout_s = self.settings.venue.dead_man_s
        while True:
            live = self._mode is Mode.LIVE
            if live or self._dead_man_armed:
                await self._arm_dead_man(timeout_s if live else 0.0)
            await asyncio.sleep(max(1.0, timeout_s / 3))

    async def _arm_dead_man(self, timeout_s: float) -> None:
        try:
            await self._exchange.cancel_all_orders_after(int(timeout_s * 1000))
        except Exception as exc:  # noqa: BLE001 - retried on the next beat
            log.warning("dead-man's switch not %s: %s", "armed" if timeout_s else "disarmed", exc)
            return
        if self._dead_man_armed != (timeout_s > 0):
            log.info(
                "dead-man's switch %s",
                f"armed ({timeout_s:.0f}s)" if timeout_s else "disarmed",
                extra={"event": "dead_man", "armed": timeout_s > 0},
            )
        self._dead_man_armed = timeout_s > 0

    async def _correlation_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.risk.correlation_sample_s)
            quotes = self._market_data.quotes if self._market_data else {}
            self._correlation.sample({s: q.mid for s, q in quotes.items()})

    async def _live_sync_loop(self) -> None:
        last_sync = 0.0
        while True:
            await asyncio.sleep(LIVE_SYNC_INTERVAL_S)
            if self._orders.exchange is None:
                continue
            if not (self._mode is Mode.LIVE or self._orders.open_orders(Mode.LIVE)):
                continue
            # The executions stream carries fills; REST is the fallback, often while it is down.
            interval = REST_FALLBACK_S if self._streams_healthy else LIVE_SYNC_INTERVAL_S
            if self._clock() - last_sync >= interval:
                last_sync = self._clock()
                await self._orders.sync_live()
            # Type narrowing for mypy; the value is set on this path.
            assert self._live_balances is not None  # nosec B101
            await self._live_balances.poll_if_due()

    def _stream_health(self, healthy: bool) -> None:
        self._streams_healthy = healthy
        if self.listings is not None:
            self.listings.stream_health(healthy)  # back after an outage: reload the markets

    async def _start_listings_and_copying(self) -> None:
        """Start the listing monitor and one copy trader per configured leader."""
        if self.settings.listing.enabled:
            self.listings = ListingMonitor(
                self._exchange,
                self.settings.venue.exchange,
                self._store,
                self._markets,
                self.settings.symbols,
                self.settings.listing,
                self._clock,
                submit=self.submit,
                positions=self._open_positions,
                alert=self._alert,
                new_listings=self.new_listings,
            )
            await self.listings.load()
            self.listings.start()
        for rule in self.settings.copy_trading.leaders:
            # Type narrowing for mypy; the value is set on this path.
            assert self._venue is not None  # nosec B101
            try:
                client = await open_leader_client(self.settings.venue, self._venue, rule.account)
            except GatewayError as exc:
                raise EngineError(str(exc)) from None
            trader = CopyTrader(
                rule,
                client,
                self._store,
                self._clock,
                markets=self._markets,
                quotes=lambda: self._market_data.quotes if self._market_data else {},
                position=lambda symbol: self._portfolios[self._mode].amount(symbol),
                submit=self.submit,
            )
            self.copy_traders.append(trader)  # stop() closes its client even if load() fails
            await trader.load()
            trader.start()

    async def _stop_listings_and_copying(self) -> None:
        """Let an exit or a copy being submitted finish, then stop them."""
        if self.listings is not None:
            await self.listings.stop()
        for trader in self.copy_traders:
            await trader.stop()
        self.copy_traders = []

    # ----------------------------------------------------------------- snapshot

    def _balances(self) -> dict[str, Balance]:
        if self._mode is Mode.PAPER:
            return self._paper.balances()
        return dict(self._live_balances.balances) if self._live_balances is not None else {}

    def snapshot(self) -> EngineSnapshot:
        """A frozen view of the whole engine (cheap enough for 10 Hz)."""
        now = self._clock()
        quotes = dict(self._market_data.quotes) if self._market_data else {}
        balances = self._balances()
        portfolio = self._portfolios[self._mode]
        quote_ccy = next(iter(self._markets.values())).quote if self._markets else "USD"
        total_equity = equity(balances, quotes, quote_ccy)
        priced = len(quotes) == len(self.settings.symbols)
        open_orders = tuple(
            sorted(self._orders.open_orders(self._mode), key=lambda o: o.created_at)
        )
        gates = tuple(
            self._gate_latest.get(name, GateResult(name, True, NOT_EVALUATED))
            for name in GATE_NAMES
        )
        return EngineSnapshot(
            taken_at=now,
            state=self._state,
            mode=self._mode,
            venue=self._target(),
            connected=self._connected,
            symbols=tuple(self.settings.symbols),
            quotes=quotes,
            balances=balances,
            positions=portfolio.positions(quotes),
            open_orders=open_orders,
            recent_orders=tuple(self._orders.recent_orders()),
            gates=gates,
            last_rejections=dict(self._last_rejections),
            breakers=tuple(b.snapshot() for b in self._breakers.values()),
            equity=total_equity,
            day_pnl=self._marks.observe(self._mode, total_equity, priced, now),
            peak_equity=self._marks.peak(self._mode),
            quote_currency=quote_ccy,
            fills_count=portfolio.fills_count,
            trends=self._market_data.trends.all_points() if self._market_data else {},
            signals=self._signals,
            listing_events=tuple(self.listings.events) if self.listings is not None else (),
            copy_drift={k: v for t in self.copy_traders for k, v in t.drift().items()},
        )


def _bare_market(symbol: str, base: str, quote: str) -> MarketInfo:
    one = Decimal(1)
    return MarketInfo(symbol, base, quote, one, one, Decimal(0), Decimal(0))
