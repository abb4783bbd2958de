"""Provides protections: a cooldown after a run of losing trades, per symbol and global."""

from __future__ import annotations

import logging
from collections import deque

from tradetui.config import RiskSettings

log = logging.getLogger("tradetui.protections")

GLOBAL = "*"
"""The key of the cooldown that covers every symbol."""


class Protections:
    """Counts losing trades in a sliding window and hands out cooldowns."""

    def __init__(self, limits: RiskSettings) -> None:
        self._limits = limits
        self._losses: dict[str, deque[float]] = {}
        self.cooldowns: dict[str, float] = {}
        """Cooldown end time by symbol (GLOBAL for all symbols); persisted by the engine."""

    def until(self, symbol: str) -> float:
        """When new exposure in ``symbol`` is allowed again (0 when it is now)."""
        return max(self.cooldowns.get(symbol, 0.0), self.cooldowns.get(GLOBAL, 0.0))

    def record_loss(self, symbol: str, now: float) -> list[str]:
        """Count a losing trade; returns the keys whose cooldown it started."""
        started: list[str] = []
        limits = self._limits
        for key, threshold in (
            (symbol, limits.cooldown_losses),
            (GLOBAL, limits.cooldown_losses_global),
        ):
            window = self._losses.setdefault(key, deque())
            window.append(now)
            while window and now - window[0] > limits.cooldown_window_s:
                window.popleft()
            if len(window) >= threshold and self.cooldowns.get(key, 0.0) <= now:
                self.cooldowns[key] = now + limits.cooldown_s
                window.clear()
                started.append(key)
                log.warning(
                    "cooldown on %s for %.0fs after %d losing trades",
                    key,
                    limits.cooldown_s,
                    threshold,
                    extra={"event": "cooldown", "symbol": key},
                )
        return started
