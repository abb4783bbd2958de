"""Provides the built-in pulse strategy: a simple, steady round-trip trader for the simulator."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from pydantic import Field

from tradetui.core.model import OrderType
from tradetui.core.strategies.base import (
    Action,
    Strategy,
    StrategyContext,
    StrategyParams,
    StrategyView,
)


class PulseParams(StrategyParams):
    """Parameters of the pulse strategy (the ``[strategy]`` section supplies them by default)."""

    order_notional: float = Field(default=200.0, gt=0, allow_inf_nan=False)
    """Quote value of one order."""
    rest_offset_bps: float = Field(default=15.0, ge=0, lt=10_000, allow_inf_nan=False)
    """How far below the bid the resting buy limit sits."""


class PulseStrategy(Strategy[PulseParams]):
    """Visits one symbol per tick: buys when flat, sells when holding, and keeps one resting bid.

    It is a demonstration of the order path, not a way to make money.
    """

    name = "pulse"
    Params = PulseParams

    def __init__(self, params: PulseParams, context: StrategyContext) -> None:
        super().__init__(params, context)
        self._turn = 0

    def on_snapshot(self, view: StrategyView) -> Sequence[Action]:
        """Return the intents for the symbol whose turn it is."""
        if not view.symbols:
            return []
        symbol = view.symbols[self._turn % len(view.symbols)]
        self._turn += 1
        quote, market = view.quotes.get(symbol), self.context.markets.get(symbol)
        if quote is None or market is None:
            return []
        notional = self.params.order_notional
        intents: list[Action] = []
        held = view.held(symbol)
        if held >= market.min_amount and held > 0:
            intents.append(self.sell(symbol, held, confidence=0.9))
        else:
            amount = self.amount_for(symbol, notional, quote.ask)
            if amount > 0:
                intents.append(self.buy(symbol, amount, confidence=0.9))
        resting = any(
            o.symbol == symbol and o.order_type is OrderType.LIMIT for o in view.open_orders
        )
        price = self.price_at(symbol, quote.bid * (1 - self.params.rest_offset_bps / 10_000))
        if not resting and price is not None:
            amount = self.amount_for(symbol, notional, float(price))
            if amount > Decimal(0):
                intents.append(self.buy(symbol, amount, price, confidence=0.9))
        return intents
