"""Provides the built-in grid strategy: resting buys below a centre, each sold one step higher."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from pydantic import Field

from tradetui.core.model import Fill, Order, OrderType, Side
from tradetui.core.strategies.base import (
    Action,
    CancelOrder,
    Strategy,
    StrategyContext,
    StrategyParams,
    StrategyView,
)

ZERO = Decimal(0)


class GridParams(StrategyParams):
    """Parameters of the grid strategy."""

    levels: int = Field(default=3, ge=1, le=50)
    """Buy levels below the centre."""
    spacing_bps: float = Field(default=20.0, gt=0, lt=1_000, allow_inf_nan=False)
    """Distance between levels, in basis points of the centre."""
    order_notional: float = Field(default=100.0, gt=0, allow_inf_nan=False)
    """Quote value of each level's buy."""
    stop_loss_pct: float = Field(default=3.0, ge=0, lt=100, allow_inf_nan=False)
    """Sell everything and stop when the mid falls this far below the lowest level (0: never)."""
    take_profit_pct: float = Field(default=3.0, ge=0, allow_inf_nan=False)
    """Sell everything and stop when the mid rises this far above the centre (0: never)."""
    confidence: float = Field(default=0.8, ge=0, le=1)
    """Confidence attached to the grid's orders."""


@dataclass(slots=True)
class _Grid:
    """One symbol's grid: level k (1-based) buys at ``buys[k-1]`` and sells at ``sells[k-1]``."""

    center: float
    buys: list[Decimal]
    sells: list[Decimal]
    holding: list[Decimal]
    """Amount bought at each level and not yet sold."""
    stopped: str = ""
    """Why the grid stopped (``stop``, ``take-profit``), or '' while it runs."""
    placed: set[tuple[Side, Decimal]] = field(default_factory=set)
    """Orders sent from on_fill this tick, not yet visible among the open orders."""


class GridStrategy(Strategy[GridParams]):
    """Rests ``levels`` limit buys below the mid it starts at, spaced ``spacing_bps`` apart.

    When a level's buy fills, a limit sell goes up one spacing higher; when that sells, the buy
    is placed again. Falling through the stop or rising through the take-profit sells everything
    at market, cancels the grid's orders and stops the grid in that symbol.
    """

    name = "grid"
    Params = GridParams

    def __init__(self, params: GridParams, context: StrategyContext) -> None:
        super().__init__(params, context)
        self._grids: dict[str, _Grid] = {}

    def on_fill(self, fill: Fill, order: Order) -> Sequence[Action]:
        """Move the filled amount to the other side of its level."""
        grid = self._grids.get(fill.symbol)
        if grid is None or grid.stopped or order.price is None:
            return []
        if fill.side is Side.BUY and order.price in grid.buys:
            level = grid.buys.index(order.price)
            grid.holding[level] += fill.amount
            grid.placed.add((Side.SELL, grid.sells[level]))
            price = grid.sells[level]
            return [self.sell(fill.symbol, fill.amount, price, self.params.confidence)]
        if fill.side is Side.SELL and order.price in grid.sells:
            level = grid.sells.index(order.price)
            grid.holding[level] = max(ZERO, grid.holding[level] - fill.amount)
            if grid.holding[level] == 0:
                return self._refill(fill.symbol, grid, level)
        return []

    def on_snapshot(self, view: StrategyView) -> Sequence[Action]:
        """Start, stop or top up each symbol's grid."""
        actions: list[Action] = []
        for symbol in view.symbols:
            mid = view.mid(symbol)
            if mid is None or symbol not in self.context.markets:
                continue
            grid = self._grids.get(symbol)
            own = [o for o in view.open_orders if o.symbol == symbol]
            if grid is None:
                grid = self._start(symbol, mid)
                if grid is None:
                    continue
                # Orders left by an earlier session sit on another grid: take them down.
                actions += [CancelOrder(o.client_id) for o in own]
                own = []
                grid.holding[0] = view.held(symbol)
            if grid.stopped:
                continue
            reason = self._exit(grid, mid)
            if reason:
                grid.stopped = reason
                actions += [CancelOrder(o.client_id) for o in own]
                held = view.held(symbol)
                if held > 0:
                    actions.append(self.sell(symbol, held, confidence=1.0))
                continue
            actions += self._top_up(symbol, grid, own)
        return actions

    def _start(self, symbol: str, mid: float) -> _Grid | None:
        step = self.params.spacing_bps / 10_000
        buys, sells = [], []
        for k in range(1, self.params.levels + 1):
            buy = self.price_at(symbol, mid * (1 - k * step))
            sell = self.price_at(symbol, mid * (1 - (k - 1) * step))
            if buy is None or sell is None or sell <= buy or buy in buys:
                return None  # the price grid is too coarse for this spacing
            buys.append(buy)
            sells.append(sell)
        grid = _Grid(mid, buys, sells, [ZERO] * len(buys))
        self._grids[symbol] = grid
        return grid

    def _exit(self, grid: _Grid, mid: float) -> str:
        p = self.params
        if p.stop_loss_pct > 0 and mid <= float(grid.buys[-1]) * (1 - p.stop_loss_pct / 100):
            return "stop"
        if p.take_profit_pct > 0 and mid >= grid.center * (1 + p.take_profit_pct / 100):
            return "take-profit"
        return ""

    def _top_up(self, symbol: str, grid: _Grid, own: list[Order]) -> list[Action]:
        """Place whatever the grid should have resting and has not (refused orders come back)."""
        market = self.context.markets[symbol]
        resting: dict[tuple[Side, Decimal], Decimal] = {}
        for order in own:
            if order.order_type is OrderType.LIMIT and order.price is not None:
                key = (order.side, order.price)
                resting[key] = resting.get(key, ZERO) + order.remaining
        actions: list[Action] = []
        for level, (buy, sell) in enumerate(zip(grid.buys, grid.sells, strict=True)):
            if (Side.SELL, sell) in grid.placed or (Side.BUY, buy) in grid.placed:
                continue
            unsold = grid.holding[level] - resting.get((Side.SELL, sell), ZERO)
            if unsold >= market.min_amount and unsold > 0:
                actions.append(self.sell(symbol, unsold, sell, self.params.confidence))
            elif grid.holding[level] == 0 and (Side.BUY, buy) not in resting:
                actions += self._refill(symbol, grid, level)
        grid.placed.clear()
        return actions

    def _refill(self, symbol: str, grid: _Grid, level: int) -> list[Action]:
        price = grid.buys[level]
        amount = self.amount_for(symbol, self.params.order_notional, float(price))
        if amount <= 0:
            return []
        grid.placed.add((Side.BUY, price))
        return [self.buy(symbol, amount, price, self.params.confidence)]
