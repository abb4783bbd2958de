"""Provides the engine's alerts: what an operator must hear about even when nobody watches, worded
once here and handed to a hook (``tradetui.ops.alerts.Alerter.alert`` delivers them)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from tradetui.core.model import BreakerState, GateResult, Mode, TradingState

log = logging.getLogger("tradetui.engine")

LIMIT_ALERTS = {"DAILY_LOSS": "daily_loss_limit", "DRAWDOWN": "drawdown_limit"}
"""Rejection codes that raise an alert, and the alert kind each raises."""


class AlertHook(Protocol):
    """Receives an alert. ``kind`` is one of ``kill_switch``, ``breaker_open``,
    ``daily_loss_limit``, ``drawdown_limit``, ``reconciliation``, ``crash_recovery``,
    ``engine_stopped``, ``market_listed``, ``market_status``, ``market_delisted``,
    ``delisting_stuck``; ``subject`` says which breaker, ledger, difference or market, for rate
    limiting. Called on the event loop; it must not block."""

    def __call__(self, kind: str, subject: str, message: str, **fields: Any) -> None: ...


class EngineAlerts:
    """Words the engine's alerts and sends them to ``hook`` with the engine's state attached."""

    def __init__(self, describe: Callable[[], dict[str, str]]) -> None:
        self._describe = describe
        self.hook: AlertHook | None = None
        """Where alerts go; None: only the usual log lines."""

    def alert(self, kind: str, subject: str, message: str, **fields: Any) -> None:
        """Send one alert; a failing hook is logged, never raised into the engine."""
        if self.hook is None:
            return
        try:
            self.hook(kind, subject, message, engine=self._describe(), **fields)
        except Exception:  # noqa: BLE001 - a broken alert hook must not stop the engine
            log.exception("alert hook failed on %s", kind)

    def state_changed(self, previous: TradingState, state: TradingState) -> None:
        """The kill switch was engaged (other changes are only logged)."""
        if state is TradingState.HALTED:
            self.alert(
                "kill_switch", "engine", f"kill switch engaged: HALTED (was {previous.value})"
            )

    def breaker_changed(self, category: str, state: BreakerState, open_s: float) -> None:
        """A circuit breaker opened."""
        if state is BreakerState.OPEN:
            self.alert(
                "breaker_open",
                category,
                f"circuit breaker {category} opened after repeated transport failures; "
                f"its venue calls are refused for {open_s:g}s, then retried",
            )

    def rejected(self, gate: GateResult, mode: Mode) -> None:
        """A daily-loss or drawdown limit refused new exposure."""
        kind = LIMIT_ALERTS.get(gate.code)
        if kind is None:
            return
        limit = f" (limit {gate.limit:g}%)" if gate.limit is not None else ""
        self.alert(
            kind,
            mode.value,
            f"{gate.gate} limit hit on the {mode.value} ledger: {gate.detail}{limit}; "
            "new exposure is refused",
            value=gate.value,
            limit=gate.limit,
        )

    def crash_recovered(self, state: TradingState, open_orders: int, adopted: int) -> None:
        """The last session ended without a clean stop."""
        self.alert(
            "crash_recovery",
            "session",
            f"the last session ended without a clean stop; restarted {state.value} "
            f"with {open_orders} open order(s) after reconciliation",
            adopted_orders=adopted,
        )

    def stopped(self, state: TradingState) -> None:
        """A running engine stopped."""
        self.alert("engine_stopped", "engine", f"engine stopped in state {state.value}")
