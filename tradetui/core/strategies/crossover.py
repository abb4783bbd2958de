"""Provides the built-in crossover strategy: fast and slow moving averages of the mid."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Literal

from pydantic import Field, model_validator

from tradetui.core.model import Side
from tradetui.core.strategies.base import (
    Action,
    Strategy,
    StrategyContext,
    StrategyParams,
    StrategyView,
)
from tradetui.core.strategies.exits import exit_reason


class CrossoverParams(StrategyParams):
    """Parameters of the crossover strategy."""

    fast: int = Field(default=5, ge=1)
    """Samples (ticks) in the fast average."""
    slow: int = Field(default=20, ge=2)
    """Samples (ticks) in the slow average; must exceed ``fast``."""
    average: Literal["sma", "ema"] = "ema"
    """Simple or exponential moving averages."""
    order_notional: float = Field(default=200.0, gt=0, allow_inf_nan=False)
    """Quote value of one entry."""
    stop_loss_pct: float = Field(default=2.0, ge=0, lt=100, allow_inf_nan=False)
    """Sell everything when the mid falls this far below the entry (0: no stop)."""
    take_profit_pct: float = Field(default=3.0, ge=0, allow_inf_nan=False)
    """Sell everything when the mid rises this far above the entry (0: none)."""
    confidence: float = Field(default=0.8, ge=0, le=1)
    """Confidence attached to crossover entries and exits."""

    @model_validator(mode="after")
    def _fast_below_slow(self) -> CrossoverParams:
        if self.fast >= self.slow:
            raise ValueError(f"fast ({self.fast}) must be below slow ({self.slow})")
        return self


class MovingAverage:
    """A simple or exponential moving average over the last ``length`` samples."""

    def __init__(self, length: int, kind: Literal["sma", "ema"]) -> None:
        self.length = length
        self._kind = kind
        self._window: deque[float] = deque(maxlen=length)
        self._sum = 0.0
        self._ema: float | None = None
        self._alpha = 2 / (length + 1)
        self.count = 0

    def add(self, value: float) -> None:
        """Add one sample."""
        self.count += 1
        if self._kind == "ema":
            self._ema = (
                value if self._ema is None else self._ema + self._alpha * (value - self._ema)
            )
            return
        if len(self._window) == self.length:
            self._sum -= self._window[0]
        self._window.append(value)
        self._sum += value

    @property
    def value(self) -> float | None:
        """The average, or None until ``length`` samples have been seen."""
        if self.count < self.length:
            return None
        return self._ema if self._kind == "ema" else self._sum / self.length


class CrossoverStrategy(Strategy[CrossoverParams]):
    """Buys when the fast average crosses above the slow one, sells on the cross below.

    One mid sample per tick; stop-loss and take-profit exits are plain sell intents.
    """

    name = "crossover"
    Params = CrossoverParams

    def __init__(self, params: CrossoverParams, context: StrategyContext) -> None:
        super().__init__(params, context)
        self._fast = {s: MovingAverage(params.fast, params.average) for s in context.symbols}
        self._slow = {s: MovingAverage(params.slow, params.average) for s in context.symbols}
        self._last_gap: dict[str, float] = {}

    def on_snapshot(self, view: StrategyView) -> Sequence[Action]:
        """Sample every symbol; act on crosses and exits."""
        actions: list[Action] = []
        p = self.params
        for symbol in view.symbols:
            mid, market = view.mid(symbol), self.context.markets.get(symbol)
            if mid is None or market is None or symbol not in self._fast:
                continue
            fast, slow = self._fast[symbol], self._slow[symbol]
            fast.add(mid)
            slow.add(mid)
            held = view.held(symbol)
            holding = held > 0 and held >= market.min_amount
            if holding:
                exit_kind = exit_reason(
                    view.positions.get(symbol), mid, p.stop_loss_pct, p.take_profit_pct
                )
                if exit_kind:
                    actions.append(self.sell(symbol, held, confidence=1.0))
                    continue
            if fast.value is None or slow.value is None:
                continue
            gap = fast.value - slow.value
            previous = self._last_gap.get(symbol)
            self._last_gap[symbol] = gap
            if previous is None:
                continue
            buying = any(o.symbol == symbol and o.side is Side.BUY for o in view.open_orders)
            if previous <= 0 < gap and not holding and not buying:
                quote = view.quotes[symbol]
                amount = self.amount_for(symbol, p.order_notional, quote.ask)
                if amount > 0:
                    actions.append(self.buy(symbol, amount, confidence=p.confidence))
            elif previous >= 0 > gap and holding:
                actions.append(self.sell(symbol, held, confidence=p.confidence))
        return actions
