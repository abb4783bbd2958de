"""Provides TrendHistory: a short, bucketed history of mid prices per symbol, for sparklines."""

from __future__ import annotations

from collections import deque

TREND_BUCKET_S = 3.0
"""One point per this many seconds; the latest point follows the live mid."""
TREND_POINTS = 10
"""Points kept per symbol (so a trend spans about 30 s)."""


class TrendHistory:
    """Mid prices per symbol, one point per time bucket; cheap to record and to read at 10 Hz."""

    def __init__(self, bucket_s: float = TREND_BUCKET_S, points: int = TREND_POINTS) -> None:
        self._bucket_s = bucket_s
        self._points = points
        self._history: dict[str, deque[tuple[int, float]]] = {}
        self._frozen: dict[str, tuple[float, ...]] = {}
        """Tuples handed out by points(), rebuilt only after a symbol records something."""

    def record(self, symbol: str, price: float, now: float) -> None:
        """Note ``price`` at ``now``: replaces the current bucket's point or starts a new one."""
        bucket = int(now // self._bucket_s)
        history = self._history.get(symbol)
        if history is None:
            history = self._history[symbol] = deque(maxlen=self._points)
        if history and history[-1][0] >= bucket:
            history[-1] = (history[-1][0], price)
        else:
            history.append((bucket, price))
        self._frozen.pop(symbol, None)

    def points(self, symbol: str) -> tuple[float, ...]:
        """The symbol's points, oldest first (empty before its first quote)."""
        frozen = self._frozen.get(symbol)
        if frozen is None:
            frozen = self._frozen[symbol] = tuple(p for _, p in self._history.get(symbol, ()))
        return frozen

    def all_points(self) -> dict[str, tuple[float, ...]]:
        """Every symbol's points, for the engine snapshot."""
        return {symbol: self.points(symbol) for symbol in self._history}
