"""Provides the central risk guard and the context it judges intents against."""

from tradetui.core.risk.context import RiskContext
from tradetui.core.risk.guard import GATE_NAMES, RiskGuard

__all__ = ["GATE_NAMES", "RiskContext", "RiskGuard"]
