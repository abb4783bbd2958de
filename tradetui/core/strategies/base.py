"""Provides the strategy API: the Strategy base class, what it is given and what it may return."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from tradetui.core.model import (
    Fill,
    MarketInfo,
    Mode,
    Order,
    OrderBook,
    OrderIntent,
    OrderType,
    Quote,
    Side,
    Signal,
    TradingState,
)
from tradetui.core.services.signals import TapeTrade, TradeTape

ZERO = Decimal(0)


class StrategyParams(BaseModel):
    """Base of a strategy's parameters: unknown keys in the config are an error, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(StrategyParams):
    """Parameters of a strategy that takes none."""


@dataclass(frozen=True, slots=True)
class CancelOrder:
    """Asks the engine to cancel one of the strategy's own open orders (others' are refused)."""

    client_id: str


Action = OrderIntent | CancelOrder
"""What a strategy callback may return."""


@dataclass(frozen=True, slots=True)
class StrategyContext:
    """Fixed facts a strategy is built with."""

    id: str
    """The strategy's label on its orders and audit rows (its name unless the config sets an id)."""
    symbols: tuple[str, ...]
    """The symbols it trades; intents for any other symbol are refused."""
    markets: Mapping[str, MarketInfo]
    """Trading rules (steps, minimums) by symbol; filled once the venue has listed its markets."""
    budget: float | None
    """Quote-currency cap on what it may have at work (position cost + open buys); None: no cap."""


@dataclass(frozen=True, slots=True)
class StrategyPosition:
    """A strategy's own position in one symbol, from its own fills (average cost, fees realized)."""

    symbol: str
    amount: Decimal
    average_entry: Decimal
    realized_pnl: Decimal


@dataclass(frozen=True, slots=True)
class StrategyView:
    """What a strategy sees on one tick; copies, so nothing it does here changes the engine."""

    now: float
    state: TradingState
    mode: Mode
    symbols: tuple[str, ...]
    """This strategy's symbols."""
    quotes: Mapping[str, Quote]
    books: Mapping[str, OrderBook]
    signals: Mapping[str, Signal]
    """The latest market-intelligence call per symbol (see tradetui.core.services.signals)."""
    positions: Mapping[str, StrategyPosition]
    """This strategy's own positions, capped at what the account actually holds."""
    open_orders: tuple[Order, ...]
    """This strategy's own open orders (copies)."""
    budget_left: float | None
    """Quote currency it may still commit (None: no cap)."""
    equity: float | None
    """Account equity in the quote currency; None while it is unknown (balances not read yet, or
    an asset held has no price)."""
    tape: TradeTape | None = None

    def trades(self, symbol: str) -> tuple[TapeTrade, ...]:
        """Recent public trades in ``symbol``, oldest first."""
        return () if self.tape is None else self.tape.recent(symbol)

    def held(self, symbol: str) -> Decimal:
        """This strategy's position in ``symbol`` (base units)."""
        position = self.positions.get(symbol)
        return position.amount if position is not None else ZERO

    def mid(self, symbol: str) -> float | None:
        """The quote's mid when it is a positive finite number, else None."""
        quote = self.quotes.get(symbol)
        if quote is None:
            return None
        mid = quote.mid
        return mid if math.isfinite(mid) and mid > 0 else None


P = TypeVar("P", bound=BaseModel)


class Strategy(Generic[P]):
    """Base of every strategy: override ``on_snapshot`` and, if it cares, ``on_fill``.

    A strategy holds no reference to the engine or a broker: it returns intents, and every
    intent goes through the engine's risk guard. Subclasses set ``name`` and ``Params``.
    """

    name: ClassVar[str] = ""
    """Registry and config name."""
    Params: ClassVar[type[BaseModel]] = NoParams
    """The pydantic model ``params`` from the config are validated against."""

    def __init__(self, params: P, context: StrategyContext) -> None:
        self.params = params
        self.context = context

    @property
    def id(self) -> str:
        """The label on this strategy's orders."""
        return self.context.id

    def on_snapshot(self, view: StrategyView) -> Sequence[Action]:
        """Return what to do this tick (possibly nothing)."""
        return []

    def on_fill(self, fill: Fill, order: Order) -> Sequence[Action]:
        """React to a fill of one of this strategy's orders (``order`` is a copy of it)."""
        return []

    # ---------------------------------------------------------------- helpers for subclasses

    def buy(
        self,
        symbol: str,
        amount: Decimal,
        price: Decimal | None = None,
        confidence: float = 1.0,
    ) -> OrderIntent:
        """A buy intent: a limit order when ``price`` is given, else a market order."""
        return self._intent(symbol, Side.BUY, amount, price, confidence, reduce_only=False)

    def sell(
        self,
        symbol: str,
        amount: Decimal,
        price: Decimal | None = None,
        confidence: float = 1.0,
        reduce_only: bool = True,
    ) -> OrderIntent:
        """A sell intent (reduce-only by default: spot strategies sell what they hold)."""
        return self._intent(symbol, Side.SELL, amount, price, confidence, reduce_only)

    def _intent(
        self,
        symbol: str,
        side: Side,
        amount: Decimal,
        price: Decimal | None,
        confidence: float,
        reduce_only: bool,
    ) -> OrderIntent:
        order_type = OrderType.MARKET if price is None else OrderType.LIMIT
        return OrderIntent(
            symbol,
            side,
            amount,
            order_type,
            price,
            strategy=self.id,
            confidence=confidence,
            reduce_only=reduce_only,
        )

    def amount_for(self, symbol: str, notional: float, price: float) -> Decimal:
        """Base amount worth ``notional`` at ``price``, rounded down to the venue's step.

        Zero when the inputs are not positive finite numbers or the market is unknown.
        """
        market = self.context.markets.get(symbol)
        if market is None or not (_positive(notional) and _positive(price)):
            return ZERO
        amount = notional / price
        if not _positive(amount):  # a denormal price overflows the division
            return ZERO
        return to_step(Decimal(repr(amount)), market.amount_step)

    def price_at(self, symbol: str, price: float) -> Decimal | None:
        """``price`` on the venue's price grid (rounded down); None when it is not usable."""
        market = self.context.markets.get(symbol)
        if market is None or not _positive(price):
            return None
        stepped = to_step(Decimal(repr(price)), market.price_step)
        return stepped if stepped > 0 else None


def to_step(value: Decimal, step: Decimal) -> Decimal:
    """``value`` rounded down to a multiple of ``step``."""
    if step <= 0:
        return value
    return (value / step).to_integral_value(rounding=ROUND_DOWN) * step


def _positive(value: float) -> bool:
    return math.isfinite(value) and value > 0
