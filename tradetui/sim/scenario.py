"""Shapes the synthetic mid: volatility regimes, occasional jumps and a scripted flash crash."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

REGIMES: tuple[tuple[str, float], ...] = (("calm", 0.5), ("normal", 1.0), ("volatile", 2.5))
"""Regime names and the multiple of a pair's base volatility each applies."""
SWITCH_PROBABILITY = 0.003
"""Chance per tick of leaving the current regime (about one switch every ~80 s at 0.25 s ticks)."""
JUMP_PROBABILITY = 0.002
JUMP_SIGMAS = 25.0
"""A jump's standard deviation, in multiples of the pair's per-tick volatility."""


class Regimes:
    """A Markov chain over volatility regimes, plus rare jumps; owns its own seeded stream."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self.index = 1
        self.jumps = 0

    @property
    def name(self) -> str:
        return REGIMES[self.index][0]

    def step(self) -> float:
        """Maybe switch regime; return this tick's volatility multiple."""
        if self._rng.random() < SWITCH_PROBABILITY:
            self.index = self._rng.choice([i for i in range(len(REGIMES)) if i != self.index])
        return REGIMES[self.index][1]

    def jump(self, sigma: float) -> float:
        """A log move to add this tick: zero, or now and then a large one."""
        if self._rng.random() >= JUMP_PROBABILITY:
            return 0.0
        self.jumps += 1
        return self._rng.gauss(0, JUMP_SIGMAS * sigma * REGIMES[self.index][1])


@dataclass(frozen=True, slots=True)
class FlashCrash:
    """A scripted crash: the mid falls `depth` over `fall_ticks`, holds, then recovers.

    Liquidity thins and spreads widen while it lasts, as books do when makers pull.
    """

    start_tick: int = 120
    """Tick (of each pair's market) at which the fall begins; 30 s in at the default 0.25 s."""
    depth: float = 0.09
    fall_ticks: int = 12
    hold_ticks: int = 8
    recover_ticks: int = 160
    depth_scale: float = 0.15
    spread_scale: float = 6.0

    @property
    def end_tick(self) -> int:
        return self.start_tick + self.fall_ticks + self.hold_ticks + self.recover_ticks

    def active(self, tick: int) -> bool:
        return self.start_tick <= tick < self.end_tick

    def log_offset(self, tick: int) -> float:
        """How far below its own path the mid is at `tick`, as a log offset (0 or negative)."""
        if not self.active(tick):
            return 0.0
        bottom = math.log(1 - self.depth)
        elapsed = tick - self.start_tick
        if elapsed < self.fall_ticks:
            return bottom * (elapsed + 1) / self.fall_ticks
        elapsed -= self.fall_ticks
        if elapsed < self.hold_ticks:
            return bottom
        elapsed -= self.hold_ticks
        return bottom * (1 - elapsed / self.recover_ticks)
