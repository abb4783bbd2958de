"""Provides what every benchmark returns: named figures, and the percentile they are cut at."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """One measured number."""

    name: str
    value: float
    unit: str


def percentile(sorted_values: list[int], pct: float) -> float:
    """The ``pct`` percentile of already sorted samples (nearest rank, no interpolation)."""
    index = min(len(sorted_values) - 1, int(len(sorted_values) * pct / 100))
    return float(sorted_values[index])
