"""Holds one pair's book: the synthetic levels plus resting account orders, and how takers walk it."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from tradetui.sim.fmt import scaled
from tradetui.sim.instruments import PairSpec

Level = tuple[int, int]
"""A book level as (price in ticks of 10^-pair_decimals, quantity in lots of 10^-lot_decimals)."""


class PairBook:
    """The book's state and views; PairMarket moves it. Prices are integer ticks, sizes lots."""

    def __init__(self, spec: PairSpec, levels: int) -> None:
        self.spec = spec
        self.levels = levels
        self._price_scale = 10**spec.pair_decimals
        self._lot_scale = 10**spec.lot_decimals
        self.step_ticks = 1
        """Distance between the synthetic levels, in ticks (set by the market)."""
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.bid_top = 0
        self.ask_top = 0
        self._levels_cache: dict[bool, list[Level]] = {}
        self._bid_holes: list[int] = []
        self._ask_holes: list[int] = []
        """Prices a taker emptied since the last refresh; they refill on the next tick."""
        self.own: dict[bool, dict[int, int]] = {True: {}, False: {}}
        """Lots of resting account orders by price, bids (True) and asks (False)."""
        self.on_own_hit: Callable[[bool, int, int], None] | None = None
        """Called as (taker_buys, price, lots) when background flow hits account orders."""

    def synthetic_levels(self, is_bid: bool) -> list[Level]:
        """Every synthetic level of one side, best first; computed once per book change.

        Each side only ever holds prices inside its window, so sorting the dict is
        the whole job (and is done in C).
        """
        cached = self._levels_cache.get(is_bid)
        if cached is None:
            side = self.bids if is_bid else self.asks
            cached = sorted(side.items(), reverse=is_bid)
            self._levels_cache[is_bid] = cached
        return cached

    def synthetic_top(self, is_bid: bool, depth: int) -> list[Level]:
        """Best `depth` synthetic levels of one side, best first: a walk down the price grid."""
        if depth >= self.levels:
            return self.synthetic_levels(is_bid)
        side, price = (self.bids, self.bid_top) if is_bid else (self.asks, self.ask_top)
        step = -self.step_ticks if is_bid else self.step_ticks
        found: list[Level] = []
        get = side.get
        for _ in range(self.levels):
            lots = get(price)
            if lots:
                found.append((price, lots))
                if len(found) == depth:
                    break
            price += step
        return found

    def add_own(self, is_bid: bool, price: int, lots: int) -> None:
        """Add (or with negative `lots` remove) account liquidity resting at `price`."""
        own = self.own[is_bid]
        left = own.get(price, 0) + lots
        if left > 0:
            own[price] = left
        else:
            own.pop(price, None)

    def _merged(self, is_bid: bool, synthetic: list[Level]) -> list[Level]:
        merged = dict(synthetic)
        for price, lots in self.own[is_bid].items():
            merged[price] = merged.get(price, 0) + lots
        return sorted(merged.items(), reverse=is_bid)

    def levels_of(self, is_bid: bool) -> list[Level]:
        """The public book of one side, best first: synthetic plus resting account orders."""
        if not self.own[is_bid]:
            return self.synthetic_levels(is_bid)
        return self._merged(is_bid, self.synthetic_levels(is_bid))

    def top(self, is_bid: bool, depth: int) -> list[Level]:
        """Best `depth` public levels of one side, best first."""
        if not self.own[is_bid]:
            return self.synthetic_top(is_bid, depth)
        return self._merged(is_bid, self.synthetic_top(is_bid, depth))[:depth]

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
        for price, lots in self.synthetic_levels(not taker_buys):
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
        side, holes = (self.asks, self._ask_holes) if taker_buys else (self.bids, self._bid_holes)
        self._levels_cache.clear()
        for price, lots in plan:
            left = side.get(price, 0) - lots
            if left > 0:
                side[price] = left
            else:
                side.pop(price, None)
                holes.append(price)

    def _own_better_than(self, is_bid: bool, price: int | None) -> Level | None:
        """The best account level of one side when it beats `price` (time priority: at an
        equal price the synthetic liquidity, which was there first, trades first)."""
        own = self.own[is_bid]
        if not own:
            return None
        best = max(own) if is_bid else min(own)
        if price is not None and (best <= price if is_bid else best >= price):
            return None
        return best, own[best]

    def price(self, ticks: int) -> Decimal:
        return scaled(ticks, self.spec.pair_decimals)

    def qty(self, lots: int) -> Decimal:
        return scaled(lots, self.spec.lot_decimals)
