"""Provides RiskState: the one owner of what the risk guard judges against besides the market (the
trading state, the order-rate window, cooldowns, equity marks, correlation clusters and the
latest verdicts), its persistence, and the RiskContext built from it."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections import deque
from collections.abc import Callable, Iterable, Mapping

from tradetui.config import RiskSettings
from tradetui.core.ledgers import Ledgers
from tradetui.core.model import (
    NOT_EVALUATED,
    Balance,
    Decision,
    GateResult,
    MarketInfo,
    Mode,
    OrderIntent,
    Quote,
    TradingState,
)
from tradetui.core.risk.context import RiskContext
from tradetui.core.risk.correlation import CorrelationTracker
from tradetui.core.risk.equity_marks import EquityMarks
from tradetui.core.risk.guard import GATE_NAMES
from tradetui.core.risk.protections import Protections
from tradetui.core.risk.trading_state import RESTRICTION, TradingStateMachine
from tradetui.core.schema import Key
from tradetui.core.store import Store

log = logging.getLogger("tradetui.engine")

RATE_WINDOW_S = 60.0
TICK_S = 1.0
"""How often the engine's risk tick marks equity (and checks whether to sample correlations)."""


class RiskState:
    """The risk guard's memory. Readers (snapshots, metrics) never change it: the engine's own
    tick and its order path do."""

    def __init__(
        self,
        settings: RiskSettings,
        symbols: Iterable[str],
        store: Store,
        clock: Callable[[], float],
    ) -> None:
        self._settings = settings
        self._store = store
        self._clock = clock
        self.trading = TradingStateMachine(on_change=self._state_changed)
        """The trading state and its operator rules."""
        self.on_state_change: Callable[[TradingState, TradingState], None] | None = None
        """Told of every trading-state change after it is logged and persisted (alerts)."""
        self._persisting = False
        self._live_before = False
        self._sent_at: deque[float] = deque()
        self._protections = Protections(settings)
        self._marks = EquityMarks(store)
        self._correlation = CorrelationTracker(
            symbols, settings.correlation_window, settings.cluster_correlation
        )
        self._gate_latest: dict[str, GateResult] = {}
        self._last_rejections: dict[str, GateResult] = {}

    @property
    def state(self) -> TradingState:
        """The trading state."""
        return self.trading.state

    # ----------------------------------------------------------------- persistence

    async def load(self) -> None:
        """Restore the trading state, cooldowns and equity marks a previous session left; from
        now on every change is written to the store."""
        saved = await self._store.get_value(Key.TRADING_STATE)
        if saved is not None and saved in TradingState.__members__:
            # Restoring never loosens what an operator asked for before the engine started.
            if RESTRICTION[TradingState(saved)] > RESTRICTION[self.state]:
                self.trading.state = TradingState(saved)
        if self.state.value != saved:
            await self._store.put_value(Key.TRADING_STATE, self.state.value)
        cooldowns = await self._store.get_value(Key.COOLDOWNS)
        if cooldowns is not None:
            self._protections.cooldowns = {k: float(v) for k, v in json.loads(cooldowns).items()}
        await self._marks.load()
        self._live_before = await self._store.get_value(Key.LIVE_SEEN) is not None
        self._persisting = True

    async def save(self) -> None:
        """Write what is not written yet (a clean stop): the trading state and the peaks."""
        await self._store.put_value(Key.TRADING_STATE, self.state.value)
        await self._marks.flush()
        self._persisting = False

    def _state_changed(self, previous: TradingState, state: TradingState) -> None:
        log.warning(
            "trading state %s -> %s",
            previous.value,
            state.value,
            extra={"event": "trading_state", "state": state.value},
        )
        if self._persisting:
            self._store.put_value(Key.TRADING_STATE, state.value)
        if self.on_state_change is not None:
            self.on_state_change(previous, state)

    # ----------------------------------------------------------------- events

    def after_unclean_stop(self, live: bool, adopted: int) -> None:
        """The last session crashed: a live engine starts PAUSED (the operator resumes once
        satisfied with what reconciliation found)."""
        if live and self.state is TradingState.ACTIVE:
            self.trading.set(TradingState.PAUSED)
            log.warning(
                "the last session ended without a clean stop: starting PAUSED. Reconciliation "
                "adopted %d venue order(s). Resume when satisfied.",
                adopted,
                extra={"event": "unclean_start"},
            )

    def going_live(self) -> None:
        """The ledger is about to trade live: the first time on this data dir it comes up
        PAUSED, so nothing trades live until the operator resumes."""
        if self._live_before:
            return
        self._live_before = True
        if self._persisting:
            self._store.put_value(Key.LIVE_SEEN, "yes")
        if self.state is TradingState.ACTIVE:
            self.trading.set(TradingState.PAUSED)
            log.warning(
                "first live trading on this data dir: PAUSED until you resume "
                "(p in the console, or `tradetui ctl resume`)",
                extra={"event": "first_live"},
            )

    def order_sent(self) -> None:
        """Count one order towards the order-rate window."""
        self._sent_at.append(self._clock())

    def losing_trade(self, symbol: str) -> None:
        """Count a losing round trip; a run of them starts a cooldown (persisted)."""
        if self._protections.record_loss(symbol, self._clock()) and self._persisting:
            self._store.put_value(Key.COOLDOWNS, json.dumps(self._protections.cooldowns))

    def record(self, decision: Decision) -> None:
        """Keep the verdicts of one evaluation for the Risk pane and the alerts."""
        for result in decision.gates:
            self._gate_latest[result.gate] = result
        if decision.rejected_by is not None:
            self._last_rejections[decision.rejected_by.gate] = decision.rejected_by

    async def run(
        self, mark: Callable[[], tuple[Mode, float | None]], mids: Callable[[], dict[str, float]]
    ) -> None:
        """The engine's risk tick: mark equity every second (``mark()`` gives the ledger and its
        equity, None when not priced) and sample correlations at their cadence."""
        every = max(1, round(self._settings.correlation_sample_s / TICK_S))
        for tick in itertools.count(1):
            await asyncio.sleep(TICK_S)
            self._marks.observe(*mark(), self._clock())
            if tick % every == 0:
                self._correlation.sample(mids())

    def mark_equity(self, mode: Mode, total_equity: float | None) -> None:
        """Take one equity reading now (the tick does this every second, the order path before
        each evaluation); None (not priced) records nothing."""
        self._marks.observe(mode, total_equity, self._clock())

    # ----------------------------------------------------------------- reading

    def day_pnl(self, mode: Mode, total_equity: float | None) -> float | None:
        """Today's PnL of ``mode`` at ``total_equity`` (None while either is unknown)."""
        return self._marks.day_pnl(mode, total_equity, self._clock())

    def day_start_equity(self, mode: Mode) -> float | None:
        """Today's starting equity of ``mode`` (None until a priced reading today)."""
        return self._marks.day_start(mode, self._clock())

    def peak_equity(self, mode: Mode) -> float | None:
        """The highest priced equity of ``mode`` (None before the first priced reading)."""
        return self._marks.peak(mode)

    def correlation_known(self, symbol: str, held: Iterable[str]) -> bool:
        """Whether it is known how ``symbol`` moves with each symbol in ``held`` (enough samples
        of each pair): until then the correlation gate blocks buys of ``symbol`` beside them."""
        return self._correlation.known(symbol, held)

    def gates(self) -> tuple[GateResult, ...]:
        """Every gate's latest verdict, in evaluation order."""
        return tuple(
            self._gate_latest.get(name, GateResult(name, True, NOT_EVALUATED))
            for name in GATE_NAMES
        )

    def last_rejections(self) -> dict[str, GateResult]:
        """The last rejection of each gate, by gate name."""
        return dict(self._last_rejections)

    def context(
        self,
        intent: OrderIntent,
        *,
        ledgers: Ledgers,
        breaker_open: bool,
        markets: Mapping[str, MarketInfo],
        quotes: dict[str, Quote],
        market_data_down: bool,
    ) -> RiskContext:
        """Everything the guard judges ``intent`` against, as of now, in the current ledger."""
        now = self._clock()
        while self._sent_at and now - self._sent_at[0] > RATE_WINDOW_S:
            self._sent_at.popleft()
        mode = ledgers.mode
        market = markets.get(intent.symbol)
        quote_ccy = market.quote if market else "USD"
        base_ccy = market.base if market else ""
        balances = ledgers.balances()
        portfolio = ledgers.portfolio
        held = {s: p.notional for s, p in portfolio.positions(quotes).items() if p.amount > 0}
        cluster = self._correlation.clusters.get(intent.symbol, frozenset({intent.symbol}))
        return RiskContext(
            now=now,
            state=self.state,
            breaker_open=breaker_open,
            market=market,
            quote=quotes.get(intent.symbol),
            market_data_down=market_data_down,
            equity=ledgers.equity(quotes, quote_ccy, markets),
            balances_known=ledgers.balances_known,
            position_amount=portfolio.amount(intent.symbol),
            open_position_symbols=portfolio.open_symbols(
                {s: m.min_amount for s, m in markets.items()}
            ),
            free_quote=_free(balances, quote_ccy),
            free_base=_free(balances, base_ccy),
            orders_last_minute=len(self._sent_at),
            day_start_equity=self._marks.day_start(mode, now),
            peak_equity=self._marks.peak(mode),
            correlation_known=self.correlation_known(intent.symbol, held),
            exposure=sum(held.values()),
            cluster_exposure=sum(held.get(s, 0.0) for s in cluster),
            cooldown_until=self._protections.until(intent.symbol),
        )


def _free(balances: Mapping[str, Balance], currency: str) -> float:
    balance = balances.get(currency)
    return float(balance.free) if balance is not None else 0.0
