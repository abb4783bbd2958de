"""Provides rolling return correlations between symbols, grouped into clusters that move together."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable

MIN_RETURNS = 3
"""Aligned returns a pair needs before its correlation counts as known."""


class CorrelationTracker:
    """Samples mids at a fixed cadence and finds, per symbol, the symbols correlated with it.

    A symbol without a usable mid at a sample gets a gap there (NaN), so one symbol that is never
    priced (a delisted one, say) does not stall the others; a pair's returns are those where both
    symbols were priced at both ends.
    """

    def __init__(self, symbols: Iterable[str], window: int, threshold: float) -> None:
        self._mids = {symbol: deque[float](maxlen=window + 1) for symbol in symbols}
        self._threshold = threshold
        self.clusters: dict[str, frozenset[str]] = {s: frozenset({s}) for s in self._mids}
        """Each symbol's cluster: itself and every symbol correlated at or above the threshold."""
        self._known_pairs: set[frozenset[str]] = set()

    def sample(self, mids: dict[str, float]) -> None:
        """Record one mid per symbol (a gap for a symbol without a positive, finite mid)."""
        for symbol, series in self._mids.items():
            mid = mids.get(symbol, math.nan)
            series.append(mid if math.isfinite(mid) and mid > 0 else math.nan)
        self._recluster()

    def known(self, symbol: str, held: Iterable[str]) -> bool:
        """Whether ``symbol``'s correlation with each symbol in ``held`` is known: enough aligned
        samples of the pair (so whether they share a cluster is known). Itself always is."""
        known_pairs = self._known_pairs
        return all(other == symbol or frozenset((symbol, other)) in known_pairs for other in held)

    def correlation(self, first: str, second: str) -> float | None:
        """Pearson correlation of the two symbols' log returns (None until there are enough, or
        when either did not move at all)."""
        return _pearson(*_aligned_returns(self._mids[first], self._mids[second]))

    def _recluster(self) -> None:
        symbols = list(self._mids)
        clusters = {s: {s} for s in symbols}
        known_pairs: set[frozenset[str]] = set()
        for i, first in enumerate(symbols):
            for second in symbols[i + 1 :]:
                a, b = _aligned_returns(self._mids[first], self._mids[second])
                if len(a) < MIN_RETURNS:
                    continue
                known_pairs.add(frozenset((first, second)))
                rho = _pearson(a, b)
                if rho is not None and rho >= self._threshold:
                    clusters[first].add(second)
                    clusters[second].add(first)
        self.clusters = {s: frozenset(members) for s, members in clusters.items()}
        self._known_pairs = known_pairs


def _pearson(a: list[float], b: list[float]) -> float | None:
    if len(a) < MIN_RETURNS:
        return None
    mean_a, mean_b = sum(a) / len(a), sum(b) / len(b)
    cov = sum((x - mean_a) * (y - mean_b) for x, y in zip(a, b, strict=True))
    var_a = sum((x - mean_a) ** 2 for x in a)
    var_b = sum((y - mean_b) ** 2 for y in b)
    if var_a <= 0 or var_b <= 0:
        return None
    return cov / math.sqrt(var_a * var_b)


def _aligned_returns(first: deque[float], second: deque[float]) -> tuple[list[float], list[float]]:
    """Both symbols' log returns over the sample steps where both were priced at both ends."""
    a_mids, b_mids = list(first), list(second)
    a: list[float] = []
    b: list[float] = []
    for i in range(1, len(a_mids)):
        ends = (a_mids[i - 1], a_mids[i], b_mids[i - 1], b_mids[i])
        if all(math.isfinite(x) for x in ends):
            a.append(math.log(ends[1] / ends[0]))
            b.append(math.log(ends[3] / ends[2]))
    return a, b
