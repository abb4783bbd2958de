"""An example user strategy: buys short-term momentum, sells on a reversal or a stop.

Run it with a config file such as::

    [[strategies]]
    path = "examples/strategies/momentum.py"
    symbols = ["BTC/USD", "ETH/USD"]
    budget = 600
    params = { lookback = 5, threshold_bps = 3, order_notional = 150 }
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from pydantic import Field

from tradetui.core.model import Fill, Order, Side
from tradetui.core.strategies import (
    Action,
    Strategy,
    StrategyContext,
    StrategyParams,
    StrategyView,
)


class MomentumParams(StrategyParams):
    """Validated from the ``params`` table of the strategy's config entry."""

    lookback: int = Field(default=5, ge=2)
    """Ticks the move is measured over."""
    threshold_bps: float = Field(default=3.0, ge=0)
    """A rise at least this large (basis points) buys; a fall larger than it sells."""
    order_notional: float = Field(default=150.0, gt=0)
    """Quote value of one entry."""
    stop_loss_pct: float = Field(default=1.0, gt=0, lt=100)
    """Sell when the mid falls this far below the entry."""


class Momentum(Strategy[MomentumParams]):
    """Buys a symbol whose mid rose over the lookback; sells when it falls back or stops out."""

    name = "momentum"
    Params = MomentumParams

    def __init__(self, params: MomentumParams, context: StrategyContext) -> None:
        super().__init__(params, context)
        self._mids = {symbol: deque[float](maxlen=params.lookback) for symbol in context.symbols}
        self.fills_seen = 0

    def on_snapshot(self, view: StrategyView) -> Sequence[Action]:
        actions: list[Action] = []
        for symbol in view.symbols:
            mid = view.mid(symbol)  # None unless a positive, finite mid exists
            if mid is None:
                continue
            mids = self._mids[symbol]
            mids.append(mid)
            if len(mids) < self.params.lookback:
                continue
            move_bps = (mids[-1] / mids[0] - 1) * 10_000
            held = view.held(symbol)  # this strategy's own position, not the account's
            position = view.positions.get(symbol)
            if held > 0:
                entry = float(position.average_entry) if position else 0.0
                stopped = entry > 0 and mid <= entry * (1 - self.params.stop_loss_pct / 100)
                if stopped or move_bps < -self.params.threshold_bps:
                    actions.append(self.sell(symbol, held, confidence=0.9))
                continue
            buying = any(o.symbol == symbol and o.side is Side.BUY for o in view.open_orders)
            if move_bps >= self.params.threshold_bps and not buying:
                amount = self.amount_for(
                    symbol, self.params.order_notional, view.quotes[symbol].ask
                )
                if amount > 0:  # zero when the market is unknown or the price unusable
                    actions.append(self.buy(symbol, amount, confidence=0.8))
        return actions

    def on_fill(self, fill: Fill, order: Order) -> Sequence[Action]:
        # Called on the first tick after the fill, just before on_snapshot, whose view already
        # counts it. Nothing to do here but count; a strategy could return a take-profit sell.
        self.fills_seen += 1
        return []
