"""Runs the seeded synthetic market: a mean-reverting random-walk mid and a laddered book."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from decimal import Decimal

from tradetui.sim.fmt import scaled
from tradetui.sim.instruments import Instruments, PairSpec

LEVEL_STEP_BPS = 1.0
"""Distance between adjacent book levels, in basis points of the starting price."""
MEAN_REVERSION = 2e-4
"""Fraction of the log distance to the starting price recovered per tick."""
PERTURBED_LEVELS = 3
"""Levels per side whose quantity is redrawn on each tick."""

Level = tuple[int, int]
"""A book level as (price in ticks of 10^-pair_decimals, quantity in lots of 10^-lot_decimals)."""


@dataclass(frozen=True, slots=True)
class TickerView:
    """The 24 h statistics of one pair, as both REST and WS v2 tickers need them."""

    bid: Decimal
    bid_qty: Decimal
    ask: Decimal
    ask_qty: Decimal
    last: Decimal
    last_qty: Decimal
    volume: float
    vwap: float
    low: Decimal
    high: Decimal
    open: Decimal
    trades: int


class PairMarket:
    """The synthetic book and statistics of one pair; prices are integer ticks, sizes lots."""

    def __init__(self, spec: PairSpec, seed: int, levels: int, spread_bps: float) -> None:
        self.spec = spec
        self.levels = levels
        self.drift_bps = 0.0
        """Added to the mid's log move on every tick; a scenario hook for tests and demos."""
        self._rng = random.Random(f"{seed}:{spec.pair_id}")
        self._price_scale = 10**spec.pair_decimals
        self._lot_scale = 10**spec.lot_decimals
        self.step_ticks = max(1, round(spec.base_price * LEVEL_STEP_BPS / 1e4 * self._price_scale))
        self._half_spread = spread_bps / 2 / 1e4
        self._touch_lots = spec.touch_qty * self._lot_scale
        self._decay = 0.05 ** (1 / levels)
        self._log_base = math.log(spec.base_price)
        self._log_mid = self._log_base
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.bid_top = 0
        self.ask_top = 0
        self._levels_cache: dict[bool, list[Level]] = {}
        self._holes = False
        self._init_stats()
        self._refresh_book(perturb=False)

    def _init_stats(self) -> None:
        spec, rng = self.spec, self._rng
        base_ticks = round(spec.base_price * self._price_scale)
        self.open_ticks = round(base_ticks * (1 + rng.gauss(0, 0.01)))
        self.high_ticks = round(max(base_ticks, self.open_ticks) * (1 + rng.uniform(0.005, 0.02)))
        self.low_ticks = round(min(base_ticks, self.open_ticks) * (1 - rng.uniform(0.005, 0.02)))
        self.volume = spec.daily_volume * rng.uniform(0.8, 1.2)
        self.quote_volume = self.volume * spec.base_price
        self.trades = int(self.volume / spec.touch_qty * 40)
        self.last_ticks = base_ticks
        self.last_lots = max(1, round(self._touch_lots * 0.01))

    @property
    def mid(self) -> float:
        return math.exp(self._log_mid)

    def step(self) -> None:
        """Advance one tick: move the mid, reshape the book, print a synthetic trade."""
        sigma = self.spec.sigma_bps / 1e4
        pull = MEAN_REVERSION * (self._log_mid - self._log_base)
        self._log_mid += sigma * self._rng.gauss(0, 1) + self.drift_bps / 1e4 - pull
        self._refresh_book(perturb=True)
        if self._rng.random() < 0.7:
            side_is_buy = self._rng.random() < 0.5
            best = self.best_ask() if side_is_buy else self.best_bid()
            if best is not None:
                lots = max(1, round(self._touch_lots * self._rng.uniform(0.001, 0.05)))
                self.record_trade(best[0], lots)

    def _refresh_book(self, perturb: bool) -> None:
        step_price = self.step_ticks / self._price_scale
        mid = self.mid
        bid_top = math.floor(mid * (1 - self._half_spread) / step_price)
        ask_top = max(math.ceil(mid * (1 + self._half_spread) / step_price), bid_top + 1)
        bid_top, ask_top = bid_top * self.step_ticks, ask_top * self.step_ticks
        # The window only needs rebuilding when it moved or a taker left holes in it.
        rebuild_bids = self._holes or bid_top != self.bid_top or not self.bids
        rebuild_asks = self._holes or ask_top != self.ask_top or not self.asks
        self.bid_top, self.ask_top, self._holes = bid_top, ask_top, False
        self._fill_side(self.bids, bid_top, -self.step_ticks, rebuild_bids, perturb)
        self._fill_side(self.asks, ask_top, self.step_ticks, rebuild_asks, perturb)
        self._levels_cache.clear()

    def _fill_side(
        self, side: dict[int, int], top: int, step: int, rebuild: bool, perturb: bool
    ) -> None:
        if rebuild:
            end = top + step * self.levels
            low, high = (top, end - step) if step > 0 else (end - step, top)
            for price in [p for p in side if p < low or p > high]:
                del side[price]
            for distance in range(self.levels):
                price = top + step * distance
                if price not in side:
                    side[price] = self._draw_qty(distance)
        if perturb:
            for _ in range(PERTURBED_LEVELS):
                distance = self._rng.randrange(self.levels)
                side[top + step * distance] = self._draw_qty(distance)

    def _draw_qty(self, distance: int) -> int:
        scale: float = self._touch_lots * self._decay**distance * self._rng.uniform(0.4, 1.6)
        return max(1, round(scale))

    def levels_of(self, is_bid: bool) -> list[Level]:
        """Every level of one side, best first; computed once per book change."""
        cached = self._levels_cache.get(is_bid)
        if cached is None:
            side, top = (self.bids, self.bid_top) if is_bid else (self.asks, self.ask_top)
            step = -self.step_ticks if is_bid else self.step_ticks
            get = side.get
            cached = [
                (price, lots)
                for price in range(top, top + step * self.levels, step)
                if (lots := get(price))
            ]
            self._levels_cache[is_bid] = cached
        return cached

    def top(self, is_bid: bool, depth: int) -> list[Level]:
        """Best `depth` levels of one side, best first."""
        return self.levels_of(is_bid)[:depth]

    def best_bid(self) -> Level | None:
        levels = self.top(True, 1)
        return levels[0] if levels else None

    def best_ask(self) -> Level | None:
        levels = self.top(False, 1)
        return levels[0] if levels else None

    def plan_take(
        self,
        taker_buys: bool,
        max_lots: int | None,
        limit_ticks: int | None = None,
        quote_budget: Decimal | None = None,
    ) -> list[Level]:
        """Levels a taker would hit, without changing the book.

        Walks asks for a buyer, bids for a seller, stopping at `max_lots`, at the
        limit price, or when `quote_budget` (volume in quote currency) is spent.
        """
        plan: list[Level] = []
        remaining = max_lots
        budget = quote_budget
        for price, lots in self.levels_of(not taker_buys):
            if limit_ticks is not None and (
                price > limit_ticks if taker_buys else price < limit_ticks
            ):
                break
            take = lots if remaining is None else min(lots, remaining)
            if budget is not None:
                affordable = int(budget / self.price(price) * self._lot_scale)
                take = min(take, affordable)
            if take <= 0:
                break
            plan.append((price, take))
            if remaining is not None:
                remaining -= take
                if remaining == 0:
                    break
            if budget is not None:
                budget -= self.price(price) * self.qty(take)
        return plan

    def consume(self, taker_buys: bool, plan: list[Level]) -> None:
        """Remove liquidity a taker took; emptied levels come back on a later tick."""
        side = self.asks if taker_buys else self.bids
        self._levels_cache.clear()
        self._holes = True
        for price, lots in plan:
            left = side.get(price, 0) - lots
            if left > 0:
                side[price] = left
            else:
                side.pop(price, None)

    def record_trade(self, price_ticks: int, lots: int) -> None:
        """Fold a trade into the ticker statistics."""
        qty = lots / self._lot_scale
        self.last_ticks, self.last_lots = price_ticks, lots
        self.volume += qty
        self.quote_volume += qty * price_ticks / self._price_scale
        self.trades += 1
        self.high_ticks = max(self.high_ticks, price_ticks)
        self.low_ticks = min(self.low_ticks, price_ticks)

    def price(self, ticks: int) -> Decimal:
        return scaled(ticks, self.spec.pair_decimals)

    def qty(self, lots: int) -> Decimal:
        return scaled(lots, self.spec.lot_decimals)

    def ticker(self) -> TickerView:
        bid = self.best_bid() or (self.bid_top, 0)
        ask = self.best_ask() or (self.ask_top, 0)
        return TickerView(
            bid=self.price(bid[0]),
            bid_qty=self.qty(bid[1]),
            ask=self.price(ask[0]),
            ask_qty=self.qty(ask[1]),
            last=self.price(self.last_ticks),
            last_qty=self.qty(self.last_lots),
            volume=self.volume,
            vwap=self.quote_volume / self.volume if self.volume else 0.0,
            low=self.price(self.low_ticks),
            high=self.price(self.high_ticks),
            open=self.price(self.open_ticks),
            trades=self.trades,
        )


class MarketSim:
    """All synthetic pair markets, stepped together."""

    def __init__(
        self, instruments: Instruments, seed: int, levels: int = 100, spread_bps: float = 2.0
    ) -> None:
        self.pairs: dict[str, PairMarket] = {
            pair_id: PairMarket(spec, seed, levels, spread_bps)
            for pair_id, spec in instruments.pairs.items()
        }

    def step(self) -> None:
        for pair_market in self.pairs.values():
            pair_market.step()
