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
from typing import Any

from tradetui.config import Settings
from tradetui.core.balances import LiveBalances
from tradetui.core.breaker import CircuitBreaker
from tradetui.core.correlation import CorrelationTracker
from tradetui.core.equity_marks import EquityMarks
from tradetui.core.gateway import GatewayError, is_transport_error, market_infos
from tradetui.core.market_data import MarketData
from tradetui.core.model import (
    NOT_EVALUATED,
    Balance,
    Decision,
    EngineSnapshot,
    Fill,
    GateResult,
    MarketInfo,
    Mode,
    Order,
    OrderIntent,
    Side,
    TradingState,
)
from tradetui.core.orders import OrderManager
from tradetui.core.paper import PaperBroker
from tradetui.core.portfolio import Portfolio, equity
from tradetui.core.protections import Protections
from tradetui.core.risk import GATE_NAMES, RiskContext, RiskGuard
from tradetui.core.store import Store, StoreError
from tradetui.core.strategies import Strategy
from tradetui.core.strategies.pulse import PulseStrategy
from tradetui.core.streams import supervise
from tradetui.core.venue import Venue, no_credentials_message, open_venue
from tradetui.paths import DataPaths

log = logging.getLogger("tradetui.engine")

BREAKER_CATEGORIES = ("market_data", "account", "orders")
LIVE_SYNC_INTERVAL_S = 1.0
REST_FALLBACK_S = 5.0
"""REST order sync interval while the executions stream is healthy."""
CONNECT_TIMEOUT_S = 30.0
STRATEGY_STOP_TIMEOUT_S = 10.0
FLATTEN_WAIT_S = 5.0
"""How long one FLATTEN attempt waits for the venue to report its closing orders done."""


class EngineError(Exception):
    """Something the operator must fix or know, in one line (bad config, no credentials, no venue)."""


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
        self._guard = RiskGuard(settings.risk)
        venue = settings.venue
        self._breakers = {
            c: CircuitBreaker(c, clock, venue.breaker_threshold, venue.breaker_open_s)
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
        self._strategies: list[Strategy] = []
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

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Open the store, connect to the venue, reconcile, then start streams and strategies."""
        self.paths.ensure()
        try:
            await self._store.open()
        except StoreError as exc:
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
        self._market_data = MarketData(
            self._exchange,
            self.settings.symbols,
            self._clock,
            self._breakers["market_data"],
            self._orders.on_trades,
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
                        supervise(label, receive, on_health), name=f"{label} stream"
                    )
                )
        if self.settings.strategy.enabled:
            self._strategies = [PulseStrategy(self.settings.strategy, self._markets)]
            self._strategy_task = asyncio.create_task(self._strategy_loop(), name="strategies")
            self._tasks.append(self._strategy_task)
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
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
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
        self._connected = False
        log.info("engine stopped", extra={"event": "engine_stopped"})

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
            assert self._live_balances is not None  # authenticated, checked above
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

    # ----------------------------------------------------------------- the order path

    async def submit(self, intent: OrderIntent) -> Decision:
        """The only way to an order: risk guard, audit, then the broker of the current mode."""
        decision = self._guard.evaluate(intent, self._risk_context(intent))
        for result in decision.gates:
            self._gate_latest[result.gate] = result
        if decision.rejected_by is not None:
            self._last_rejections[decision.rejected_by.gate] = decision.rejected_by
        client_id = None
        try:
            if decision.approved:
                book = self._market_data.books.get(intent.symbol) if self._market_data else None
                self._sent_at.append(self._clock())
                order = await self._orders.place(
                    decision,
                    self._mode,
                    book,
                    lambda: self._state is not TradingState.HALTED or intent.flatten,
                )
                client_id = order.client_id
                self._holds_changed(order.mode)
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
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._stop_requested.wait(), self.settings.strategy.interval_s
                )
            if self._stop_requested.is_set():
                return
            if self._state is TradingState.HALTED:
                continue
            snapshot = self.snapshot()
            for strategy in self._strategies:
                try:
                    intents = strategy.on_snapshot(snapshot)
                except Exception:
                    log.exception("strategy %s failed", strategy.name)
                    continue
                for intent in intents:
                    try:
                        # Only the kill switch may flatten through a HALT.
                        await self.submit(replace(intent, flatten=False))
                    except StoreError as exc:
                        log.error("order not placed: %s", exc)

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
            assert self._live_balances is not None
            await self._live_balances.poll_if_due()

    def _stream_health(self, healthy: bool) -> None:
        self._streams_healthy = healthy

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
        )


def _bare_market(symbol: str, base: str, quote: str) -> MarketInfo:
    one = Decimal(1)
    return MarketInfo(symbol, base, quote, one, one, Decimal(0), Decimal(0))
