"""Provides the strategy API: strategies read snapshots and return intents, nothing else."""

from __future__ import annotations

from typing import Protocol

from tradetui.core.model import EngineSnapshot, OrderIntent


class Strategy(Protocol):
    """A strategy turns snapshots into order intents; it can reach a broker only through them."""

    name: str

    def on_snapshot(self, snapshot: EngineSnapshot) -> list[OrderIntent]:
        """Return the intents for this tick (possibly none)."""
        ...
