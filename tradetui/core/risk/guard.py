"""Provides the central risk guard: every intent passes here, synchronously and side-effect free."""

from __future__ import annotations

from decimal import Decimal

from tradetui.config import RiskSettings
from tradetui.core.model import Decision, GateResult, OrderIntent, Verdict
from tradetui.core.risk.context import RiskContext
from tradetui.core.risk.gates import GATES, Gate

GATE_NAMES: tuple[str, ...] = tuple(gate.__name__ for gate in GATES)
"""Names of all gates, in evaluation order."""


class RiskGuard:
    """Runs the gates in order and turns their outcomes into one Decision."""

    def __init__(self, limits: RiskSettings, gates: tuple[Gate, ...] = GATES) -> None:
        self.limits = limits
        self._gates = gates

    def evaluate(self, intent: OrderIntent, ctx: RiskContext) -> Decision:
        """Judge ``intent``: APPROVE, REDUCE (never larger than asked) or REJECT.

        A gate that raises rejects the intent: a broken check must never let an order through.
        """
        amount = intent.amount
        results: list[GateResult] = []
        for gate in self._gates:
            try:
                result, allowed = gate(intent, amount, ctx, self.limits)
            except Exception as exc:  # noqa: BLE001 - fail safe, reported in the decision
                result = GateResult(gate.__name__, False, "GATE_ERROR", detail=repr(exc))
                allowed = Decimal(0)
            results.append(result)
            if not result.passed:
                return Decision(Verdict.REJECT, intent, Decimal(0), tuple(results), result)
            if allowed is not amount:
                # Only a gate that changed the amount can have made it non-positive.
                if allowed.is_zero() or allowed.is_signed():
                    return Decision(Verdict.REJECT, intent, Decimal(0), tuple(results), result)
                amount = min(amount, allowed)
        verdict = Verdict.APPROVE if amount == intent.amount else Verdict.REDUCE
        return Decision(verdict, intent, amount, tuple(results))
