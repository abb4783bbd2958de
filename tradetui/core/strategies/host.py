"""Provides the strategy host: runs strategies, routes their fills, enforces budgets and ownership."""

from __future__ import annotations

import logging
import math
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from tradetui.config import ConfigError
from tradetui.core.model import (
    EngineSnapshot,
    Fill,
    MarketInfo,
    Order,
    OrderBook,
    OrderIntent,
    OrderType,
    Quote,
    Side,
    Signal,
)
from tradetui.core.services.signals import TradeTape
from tradetui.core.strategies.base import (
    Action,
    CancelOrder,
    Strategy,
    StrategyContext,
    StrategyPosition,
    StrategyView,
    to_step,
)
from tradetui.core.strategies.ledger import StrategyLedger

log = logging.getLogger("tradetui.strategies")

ZERO = Decimal(0)
MAX_ACTIONS_PER_TICK = 50
"""More actions than this from one strategy in one tick are refused (a runaway guard)."""
OWNER_MEMORY = 10_000
"""Client ids remembered for routing fills; a fill can arrive after its order is done."""


@dataclass(frozen=True, slots=True)
class StrategySpec:
    """A validated strategy configuration: which class, with which params, symbols and budget."""

    id: str
    cls: type[Strategy[Any]]
    params: Any
    """An instance of ``cls.Params``."""
    symbols: tuple[str, ...]
    budget: float | None
    demo: bool = False
    """The default pulse strategy that runs when no ``[[strategies]]`` are configured: a demo
    for the simulator, which never trades live."""


@dataclass(slots=True)
class _Running:
    strategy: Strategy[Any]
    context: StrategyContext
    ledger: StrategyLedger


class StrategyHost:
    """Runs strategies for the engine's strategy loop; holds no broker, only returns actions."""

    def __init__(self, specs: Iterable[StrategySpec], markets: Mapping[str, MarketInfo]) -> None:
        self._markets = markets
        self._running: dict[str, _Running] = {}
        # Read-only views of the engine's own objects: a strategy must not change what the
        # risk guard or another strategy reads.
        readonly_markets = MappingProxyType(markets)
        for spec in specs:
            context = StrategyContext(spec.id, spec.symbols, readonly_markets, spec.budget)
            try:
                strategy = spec.cls(spec.params, context)
            except Exception as exc:  # noqa: BLE001 - a user's class; one line for the operator
                raise ConfigError(
                    f"strategy {spec.id} failed to start: {type(exc).__name__}: {exc}"
                ) from None
            self._running[spec.id] = _Running(strategy, context, StrategyLedger())
        self._owner: OrderedDict[str, Order] = OrderedDict()
        """Orders of running strategies by client id (the live objects, copied when shown)."""
        self._fills: list[Fill] = []
        self.refusals: Counter[str] = Counter()
        """Actions refused before the risk guard, by reason code (BUDGET, NO_HOLDINGS ...)."""

    @property
    def ids(self) -> tuple[str, ...]:
        """Ids of the running strategies."""
        return tuple(self._running)

    def __len__(self) -> int:
        return len(self._running)

    def restore(self, orders: Iterable[Order], fills: Iterable[Fill]) -> None:
        """Rebuild ownership and each strategy's ledger from the store (before the first tick)."""
        owners = {o.client_id: o for o in orders if o.strategy in self._running}
        for fill in fills:
            owner = owners.get(fill.client_id)
            if owner is not None:
                self._running[owner.strategy].ledger.apply(fill)
        for order in list(owners.values())[-OWNER_MEMORY:]:
            self.record_order(order)

    def record_order(self, order: Order) -> None:
        """Remember an order placed for a strategy, so its fills find their way back."""
        if order.strategy not in self._running:
            return
        self._owner[order.client_id] = order
        self._owner.move_to_end(order.client_id)
        while len(self._owner) > OWNER_MEMORY:
            self._owner.popitem(last=False)

    def queue_fill(self, fill: Fill) -> None:
        """Keep a fill for the next tick (fills arrive in broker callbacks, not in the loop)."""
        self._fills.append(fill)

    def tick(
        self,
        snapshot: EngineSnapshot,
        books: Mapping[str, OrderBook],
        signals: Mapping[str, Signal],
        tape: TradeTape | None = None,
    ) -> list[Action]:
        """Route queued fills, ask every strategy for its actions, and screen them."""
        fills_by_strategy: dict[str, list[tuple[Fill, Order]]] = {}
        fills, self._fills = self._fills, []
        for fill in fills:
            order = self._owner.get(fill.client_id)
            if order is None:
                continue  # not a strategy's order: manual, adopted or the kill switch
            running = self._running[order.strategy]
            if running.ledger.apply(fill):
                fills_by_strategy.setdefault(order.strategy, []).append((fill, replace(order)))
        held = {symbol: p.amount for symbol, p in snapshot.positions.items()}
        shared = (
            MappingProxyType(snapshot.quotes),
            MappingProxyType(dict(books)),
            MappingProxyType(signals),
        )
        actions: list[Action] = []
        for strategy_id, running in self._running.items():
            view = self._view(running, snapshot, shared, tape, held)
            proposed: list[Action] = []
            strategy = running.strategy
            for fill, order in fills_by_strategy.get(strategy_id, []):
                proposed += _call(strategy_id, strategy.on_fill, fill, order)
            proposed += _call(strategy_id, strategy.on_snapshot, view)
            actions += self._screen(running, proposed, view, snapshot)
        return actions

    def _view(
        self,
        running: _Running,
        snapshot: EngineSnapshot,
        shared: tuple[Mapping[str, Quote], Mapping[str, OrderBook], Mapping[str, Signal]],
        tape: TradeTape | None,
        held: dict[str, Decimal],
    ) -> StrategyView:
        context = running.context
        own_orders = tuple(replace(o) for o in snapshot.open_orders if o.strategy == context.id)
        positions = running.ledger.positions(snapshot.mode, held)
        budget_left = None
        if context.budget is not None:
            budget_left = context.budget - _committed(positions, own_orders, snapshot)
        quotes, books, signals = shared
        return StrategyView(
            now=snapshot.taken_at,
            state=snapshot.state,
            mode=snapshot.mode,
            symbols=context.symbols,
            quotes=quotes,
            books=books,
            signals=signals,
            positions=positions,
            open_orders=own_orders,
            budget_left=budget_left,
            equity=snapshot.equity,
            tape=tape,
        )

    def _screen(
        self,
        running: _Running,
        proposed: Sequence[Action],
        view: StrategyView,
        snapshot: EngineSnapshot,
    ) -> list[Action]:
        """Keep what the strategy may do: its own symbols and orders, within budget and holdings."""
        context = running.context
        own_open = {o.client_id for o in view.open_orders}
        budget_left = view.budget_left
        sell_room = {symbol: view.held(symbol) for symbol in context.symbols}
        for order in view.open_orders:
            if order.side is Side.SELL and order.symbol in sell_room:
                sell_room[order.symbol] -= order.remaining
        accepted: list[Action] = []
        for index, action in enumerate(proposed):
            if index >= MAX_ACTIONS_PER_TICK:
                self._refuse(context.id, "TOO_MANY", f"{len(proposed)} actions in one tick")
                break
            if isinstance(action, CancelOrder):
                if action.client_id in own_open:
                    accepted.append(action)
                else:
                    self._refuse(context.id, "NOT_OWNED", f"cancel of {action.client_id}")
                continue
            if not isinstance(action, OrderIntent):
                self._refuse(context.id, "INVALID", f"returned {type(action).__name__}")
                continue
            problem = _invalid(action, context.symbols)
            if problem:
                self._refuse(context.id, "INVALID", problem)
                continue
            intent = replace(
                action,
                strategy=context.id,
                flatten=False,
                # A buy flagged reduce-only would skip the exposure gates: only sells reduce on spot.
                reduce_only=action.reduce_only and action.side is Side.SELL,
            )
            market = self._markets.get(intent.symbol)
            if market is None:
                self._refuse(context.id, "NO_MARKET", intent.symbol)
                continue
            if intent.side is Side.SELL:
                room = sell_room.get(intent.symbol, ZERO)
                amount = to_step(min(intent.amount, room), market.amount_step)
                if amount <= 0 or amount < market.min_amount:
                    self._refuse(context.id, "NO_HOLDINGS", f"sell {intent.amount} {intent.symbol}")
                    continue
                sell_room[intent.symbol] = room - amount
            else:
                amount = intent.amount
                if budget_left is not None:
                    price = _buy_price(intent, snapshot)
                    if price is None:
                        self._refuse(context.id, "NO_PRICE", intent.symbol)
                        continue
                    affordable = Decimal(repr(max(0.0, budget_left) / price))
                    amount = to_step(min(amount, affordable), market.amount_step)
                    if amount <= 0 or amount < market.min_amount:
                        self._refuse(
                            context.id, "BUDGET", f"buy {intent.amount} {intent.symbol}", quiet=True
                        )
                        continue
                    budget_left -= float(amount) * price
            accepted.append(intent if amount == intent.amount else replace(intent, amount=amount))
        return accepted

    def _refuse(self, strategy_id: str, code: str, detail: str, quiet: bool = False) -> None:
        self.refusals[code] += 1
        (log.debug if quiet or code == "NO_HOLDINGS" else log.warning)(
            "strategy %s: %s refused (%s)",
            strategy_id,
            detail,
            code,
            extra={"event": "strategy_refusal", "code": code},
        )


def _call(strategy_id: str, callback: Callable[..., Sequence[Action]], *args: Any) -> list[Action]:
    """Run one strategy callback; a failure is logged and costs only that callback's actions."""
    try:
        return list(callback(*args) or [])
    except Exception:
        log.exception("strategy %s failed in %s", strategy_id, callback.__name__)
        return []


def _invalid(intent: OrderIntent, symbols: tuple[str, ...]) -> str:
    """Why ``intent`` cannot go to the risk guard at all, or '' when it can."""
    if intent.symbol not in symbols:
        return f"{intent.symbol} is not one of its symbols"
    if not isinstance(intent.amount, Decimal) or not intent.amount.is_finite():
        return f"amount {intent.amount!r} is not a finite Decimal"
    if intent.amount <= 0:
        return f"amount {intent.amount} is not positive"
    if intent.order_type is OrderType.LIMIT:
        price = intent.price
        if not isinstance(price, Decimal) or not price.is_finite() or price <= 0:
            return f"limit price {price!r} is not a positive finite Decimal"
    if not (isinstance(intent.confidence, float | int) and 0 <= intent.confidence <= 1):
        return f"confidence {intent.confidence!r} is not in [0, 1]"
    return ""


def _buy_price(intent: OrderIntent, snapshot: EngineSnapshot) -> float | None:
    if intent.order_type is OrderType.LIMIT and intent.price is not None:
        return float(intent.price)
    quote = snapshot.quotes.get(intent.symbol)
    if quote is None or not (math.isfinite(quote.ask) and quote.ask > 0):
        return None
    return quote.ask


def _committed(
    positions: Mapping[str, StrategyPosition],
    open_orders: tuple[Order, ...],
    snapshot: EngineSnapshot,
) -> float:
    """Quote currency at work: what the positions cost plus the open buys at their prices."""
    total = sum(float(p.amount * p.average_entry) for p in positions.values())
    for order in open_orders:
        if order.side is not Side.BUY:
            continue
        if order.price is not None:
            price = float(order.price)
        else:
            quote = snapshot.quotes.get(order.symbol)
            price = quote.ask if quote is not None else 0.0
        total += float(order.remaining) * price
    return total
