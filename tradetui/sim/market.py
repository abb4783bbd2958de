"""Runs the seeded synthetic market: a regime-switching mid with jumps and a laddered book."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from decimal import Decimal

from tradetui.sim.instruments import Instruments, PairSpec
from tradetui.sim.scenario import FlashCrash, Regimes
from tradetui.sim.tape import Tape
from tradetui.sim.venue.book import Level as Level
from tradetui.sim.venue.book import PairBook

LEVEL_STEP_BPS = 1.0
"""Distance between adjacent book levels, in basis points of the starting price."""
MEAN_REVERSION = 2e-4
"""Fraction of the log distance to the starting price recovered per tick."""
PERTURBED_LEVELS = 3
"""Levels per side whose quantity is redrawn on each tick."""
FIRST_TRADE_ID = 1_000_000


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


class PairMarket(PairBook):
    """The moving synthetic market of one pair: its mid, its book's window, its statistics."""

    def __init__(
        self,
        spec: PairSpec,
        seed: int,
        levels: int,
        spread_bps: float,
        crash: FlashCrash | None = None,
    ) -> None:
        super().__init__(spec, levels)
        self.drift_bps = 0.0
        """Added to the mid's log move on every tick; a scenario hook for tests and demos."""
        # Simulated market or benchmark data, not security.
        self._rng = random.Random(f"{seed}:{spec.pair_id}")  # nosec B311
        # Simulated market or benchmark data, not security.
        self.regimes = Regimes(random.Random(f"{seed}:{spec.pair_id}:regimes"))  # nosec B311
        self.crash = crash
        self.ticks = 0
        self.step_ticks = max(1, round(spec.base_price * LEVEL_STEP_BPS / 1e4 * self._price_scale))
        self._half_spread = spread_bps / 2 / 1e4
        self._touch_lots = spec.touch_qty * self._lot_scale
        self._depth_scale = 1.0
        self._decay = 0.05 ** (1 / levels)
        self._log_base = math.log(spec.base_price)
        self._log_mid = self._log_base
        self.tape = Tape(FIRST_TRADE_ID)
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
        offset = self.crash.log_offset(self.ticks) if self.crash is not None else 0.0
        return math.exp(self._log_mid + offset)

    def step(self, now: float = 0.0) -> None:
        """Advance one tick: move the mid, reshape the book, print background trades."""
        self.ticks += 1
        vol = self.regimes.step()
        sigma = self.spec.sigma_bps / 1e4 * vol
        pull = MEAN_REVERSION * (self._log_mid - self._log_base)
        move = sigma * self._rng.gauss(0, 1) + self.regimes.jump(self.spec.sigma_bps / 1e4)
        self._log_mid += move + self.drift_bps / 1e4 - pull
        spread_scale, self._depth_scale = vol, 1.0
        if self.crash is not None and self.crash.active(self.ticks):
            spread_scale, self._depth_scale = self.crash.spread_scale, self.crash.depth_scale
        self._refresh_book(perturb=True, spread_scale=max(1.0, spread_scale))
        self._background_flow(buy_bias=0.6 if move > 0 else 0.4, now=now)

    def _background_flow(self, buy_bias: float, now: float) -> None:
        """Other traders' market orders: a few small takers per tick that eat the touch."""
        draw = self._rng.random()
        count = 0 if draw < 0.3 else 1 if draw < 0.9 else self._rng.randint(2, 4)
        for _ in range(count):
            taker_buys = self._rng.random() < buy_bias
            size = max(1, round(self._touch_lots * self._rng.uniform(0.001, 0.05)))
            synthetic = self.synthetic_top(not taker_buys, 1)
            own = self._own_better_than(not taker_buys, synthetic[0][0] if synthetic else None)
            if own is not None and self.on_own_hit is not None:
                # Price priority: an account order that improves the touch trades first.
                self.on_own_hit(taker_buys, own[0], min(own[1], size))
                continue
            if not synthetic:
                return
            price, lots = synthetic[0][0], min(synthetic[0][1], size)
            self.consume(taker_buys, [(price, lots)])
            self.record_trade(price, lots, "buy" if taker_buys else "sell", "market", now)

    def _refresh_book(self, perturb: bool, spread_scale: float = 1.0) -> None:
        step_price = self.step_ticks / self._price_scale
        mid, half = self.mid, self._half_spread * spread_scale
        bid_top = math.floor(mid * (1 - half) / step_price)
        ask_top = max(math.ceil(mid * (1 + half) / step_price), bid_top + 1)
        bid_top, ask_top = bid_top * self.step_ticks, ask_top * self.step_ticks
        self._fill_side(
            self.bids, self.bid_top, bid_top, -self.step_ticks, self._bid_holes, perturb
        )
        self._fill_side(self.asks, self.ask_top, ask_top, self.step_ticks, self._ask_holes, perturb)
        self.bid_top, self.ask_top = bid_top, ask_top
        self._bid_holes.clear()
        self._ask_holes.clear()
        self._levels_cache.clear()

    def _fill_side(
        self,
        side: dict[int, int],
        old_top: int,
        top: int,
        step: int,
        holes: list[int],
        perturb: bool,
    ) -> None:
        """Slide one side's window from `old_top` to `top`, touching only the levels that moved.

        Levels leaving the window are dropped, levels entering it are drawn, and holes a
        taker left are refilled; a full rebuild happens only when the window jumped away.
        """
        levels = self.levels
        shift = (top - old_top) // step  # in levels, positive = away from the spread
        if not side or abs(shift) >= levels:
            side.clear()
            for distance in range(levels):
                side[top + step * distance] = self._draw_qty(distance)
        else:
            old_end = old_top + step * levels
            if shift > 0:  # the touch moved away from the mid: the best levels go
                for price in range(old_top, top, step):
                    side.pop(price, None)
                for price in range(old_end, top + step * levels, step):
                    side[price] = self._draw_qty((price - top) // step)
            elif shift < 0:  # the touch moved towards the mid: new best levels appear
                for price in range(top + step * levels, old_end, step):
                    side.pop(price, None)
                for price in range(top, old_top, step):
                    side[price] = self._draw_qty((price - top) // step)
            end = top + step * levels
            for price in holes:
                # Only holes still inside the (moved) window come back.
                if price not in side and (top <= price < end if step > 0 else end < price <= top):
                    side[price] = self._draw_qty((price - top) // step)
        if perturb:
            for _ in range(PERTURBED_LEVELS):
                distance = self._rng.randrange(levels)
                side[top + step * distance] = self._draw_qty(distance)

    def _draw_qty(self, distance: int) -> int:
        scale: float = self._touch_lots * self._depth_scale * self._decay**distance
        return max(1, round(scale * self._rng.uniform(0.4, 1.6)))

    def record_trade(
        self,
        price_ticks: int,
        lots: int,
        side: str = "buy",
        ord_type: str = "market",
        now: float = 0.0,
    ) -> None:
        """Print a trade on the tape and fold it into the ticker statistics."""
        qty = lots / self._lot_scale
        self.last_ticks, self.last_lots = price_ticks, lots
        self.volume += qty
        self.quote_volume += qty * price_ticks / self._price_scale
        self.trades += 1
        self.high_ticks = max(self.high_ticks, price_ticks)
        self.low_ticks = min(self.low_ticks, price_ticks)
        self.tape.record(price_ticks, lots, side, ord_type, now)

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
        self,
        instruments: Instruments,
        seed: int,
        levels: int = 100,
        spread_bps: float = 2.0,
        crash: FlashCrash | None = None,
    ) -> None:
        self._seed, self._levels, self._spread_bps = seed, levels, spread_bps
        self.crash = crash
        """The scripted flash crash every pair goes through; None (the default) for none."""
        self.pairs: dict[str, PairMarket] = {}
        for spec in instruments.pairs.values():
            self.add(spec)

    def add(self, spec: PairSpec) -> PairMarket:
        """Start a market for a (newly listed) pair; its path depends only on seed and pair id."""
        pm = PairMarket(spec, self._seed, self._levels, self._spread_bps, self.crash)
        self.pairs[spec.pair_id] = pm
        return pm

    def step(self, now: float = 0.0) -> None:
        for pair_market in self.pairs.values():
            pair_market.step(now)
