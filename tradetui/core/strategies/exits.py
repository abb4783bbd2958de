"""Provides the stop-loss and take-profit check the built-in strategies share."""

from __future__ import annotations

from tradetui.core.strategies.base import StrategyPosition


def exit_reason(
    position: StrategyPosition | None, mid: float, stop_loss_pct: float, take_profit_pct: float
) -> str:
    """``stop`` or ``take-profit`` when ``mid`` crossed entry x (1 -/+ pct), else ''.

    A percentage of 0 turns that exit off.
    """
    if position is None or position.amount <= 0 or position.average_entry <= 0:
        return ""
    entry = float(position.average_entry)
    if stop_loss_pct > 0 and mid <= entry * (1 - stop_loss_pct / 100):
        return "stop"
    if take_profit_pct > 0 and mid >= entry * (1 + take_profit_pct / 100):
        return "take-profit"
    return ""
