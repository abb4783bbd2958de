"""Provides rolling return correlations between symbols, grouped into clusters that move together."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable


class CorrelationTracker:
    """Samples mids at a fixed cadence and finds, per symbol, the symbols correlated with it."""

    def __init__(self, symbols: Iterable[str], window: int, threshold: float) -> None:
        self._mids = {symbol: deque[float](maxlen=window + 1) for symbol in symbols}
        self._threshold = threshold
        self.clusters: dict[str, frozenset[str]] = {s: frozenset({s}) for s in self._mids}
        """Each symbol's cluster: itself and every symbol correlated at or above the threshold."""

    def sample(self, mids: dict[str, float]) -> None:
        """Record one mid per symbol (all or none, so the return series stay aligned)."""
        if not all(math.isfinite(mids.get(s, math.nan)) and mids[s] > 0 for s in self._mids):
            return
        for symbol, series in self._mids.items():
            series.append(mids[symbol])
        self._recluster()

    def correlation(self, first: str, second: str) -> float | None:
        """Pearson correlation of the two symbols' log returns (None until there are enough)."""
        a, b = _returns(self._mids[first]), _returns(self._mids[second])
        if len(a) < 3:
            return None
        mean_a, mean_b = sum(a) / len(a), sum(b) / len(b)
        cov = sum((x - mean_a) * (y - mean_b) for x, y in zip(a, b, strict=True))
        var_a = sum((x - mean_a) ** 2 for x in a)
        var_b = sum((y - mean_b) ** 2 for y in b)
        if var_a <= 0 or var_b <= 0:
            return None
        return cov / math.sqrt(var_a * var_b)

    def _recluster(self) -> None:
        symbols = list(self._mids)
        clusters = {s: {s} for s in symbols}
        for i, first in enumerate(symbols):
            for second in symbols[i + 1 :]:
                rho = self.correlation(first, second)
                if rho is not None and rho >= self._threshold:
                    clusters[first].add(second)
                    clusters[second].add(first)
        self.clusters = {s: frozenset(members) for s, members in clusters.items()}


def _returns(mids: deque[float]) -> list[float]:
    values = list(mids)
    return [math.log(b / a) for a, b in zip(values, values[1:], strict=False)]
