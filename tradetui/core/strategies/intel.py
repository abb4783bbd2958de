"""Provides the built-in intel strategy: trades the combined market-intelligence signal."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from tradetui.core.model import Side, SignalKind
from tradetui.core.strategies.base import (
    Action,
    Strategy,
    StrategyContext,
    StrategyParams,
    StrategyView,
)
from tradetui.core.strategies.exits import exit_reason


class IntelParams(StrategyParams):
    """Parameters of the intel strategy."""

    order_notional: float = Field(default=200.0, gt=0, allow_inf_nan=False)
    """Quote value of an entry on a strong buy (half of it on a plain buy)."""
    min_confidence: float = Field(default=0.75, ge=0, le=1)
    """Signals less sure than this are ignored (the risk guard has its own floor too)."""
    stop_loss_pct: float = Field(default=1.5, ge=0, lt=100, allow_inf_nan=False)
    """Sell everything when the mid falls this far below the entry (0: no stop)."""
    take_profit_pct: float = Field(default=1.5, ge=0, allow_inf_nan=False)
    """Sell everything when the mid rises this far above the entry (0: none)."""
    hold_ticks: int = Field(default=3, ge=0)
    """Ticks to hold after an entry before a sell signal may close it (stops always may)."""


class IntelStrategy(Strategy[IntelParams]):
    """Buys on buy signals when flat and sells on sell signals when holding.

    The intent carries the signal's confidence, so the risk guard's confidence gate applies to
    the signal itself.
    """

    name = "intel"
    Params = IntelParams

    def __init__(self, params: IntelParams, context: StrategyContext) -> None:
        super().__init__(params, context)
        self._held_ticks: dict[str, int] = {}

    def on_snapshot(self, view: StrategyView) -> Sequence[Action]:
        """Act on each symbol's signal."""
        p = self.params
        actions: list[Action] = []
        for symbol in view.symbols:
            signal, mid = view.signals.get(symbol), view.mid(symbol)
            market = self.context.markets.get(symbol)
            if signal is None or mid is None or market is None:
                continue
            held = view.held(symbol)
            if held > 0 and held >= market.min_amount:
                ticks = self._held_ticks.get(symbol, 0) + 1
                self._held_ticks[symbol] = ticks
                if exit_reason(view.positions.get(symbol), mid, p.stop_loss_pct, p.take_profit_pct):
                    actions.append(self.sell(symbol, held, confidence=1.0))
                elif (
                    signal.kind.is_sell
                    and signal.confidence >= p.min_confidence
                    and ticks > p.hold_ticks
                ):
                    actions.append(self.sell(symbol, held, confidence=signal.confidence))
                continue
            self._held_ticks.pop(symbol, None)
            if not signal.kind.is_buy or signal.confidence < p.min_confidence:
                continue
            if any(o.symbol == symbol and o.side is Side.BUY for o in view.open_orders):
                continue
            share = 1.0 if signal.kind is SignalKind.STRONG_BUY else 0.5
            amount = self.amount_for(symbol, p.order_notional * share, view.quotes[symbol].ask)
            if amount > 0:
                actions.append(self.buy(symbol, amount, confidence=signal.confidence))
        return actions
