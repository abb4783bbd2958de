"""Provides the strategy API: strategies read views and return intents, nothing else.

A strategy never holds a broker or the engine: every intent it returns is screened by the
host (its symbols, its budget, its holdings) and then judged by the engine's risk guard.
"""

from __future__ import annotations

from tradetui.core.strategies.base import (
    Action,
    CancelOrder,
    NoParams,
    Strategy,
    StrategyContext,
    StrategyParams,
    StrategyPosition,
    StrategyView,
    to_step,
)
from tradetui.core.strategies.host import StrategyHost, StrategySpec
from tradetui.core.strategies.loader import BUILTINS, resolve_strategies, select_strategy

__all__ = [
    "BUILTINS",
    "Action",
    "CancelOrder",
    "NoParams",
    "Strategy",
    "StrategyContext",
    "StrategyHost",
    "StrategyParams",
    "StrategyPosition",
    "StrategySpec",
    "StrategyView",
    "resolve_strategies",
    "select_strategy",
    "to_step",
]
