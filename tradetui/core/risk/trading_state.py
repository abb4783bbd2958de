"""Provides the trading-state machine: ACTIVE, PAUSED and HALTED, and the operator rules for
moving between them, decided here once for the engine and everything that stands in for it."""

from __future__ import annotations

from collections.abc import Callable

from tradetui.core.api import CommandRefused
from tradetui.core.model import TradingState

CONFIRMATIONS = {
    "flatten": "flatten sells every position at market: confirm it first",
    "release": "releasing the kill switch lets trading resume: confirm it first",
}
"""Commands that need the operator's explicit confirmation, and the refusal without it."""
RESTRICTION = {TradingState.ACTIVE: 0, TradingState.PAUSED: 1, TradingState.HALTED: 2}
"""How much each state allows (more restrictive is higher)."""


def require_confirmation(command: str, confirmed: bool) -> None:
    """Refuse ``command`` (CommandRefused) unless the operator confirmed it."""
    if not confirmed:
        raise CommandRefused(CONFIRMATIONS[command])


class TradingStateMachine:
    """The trading state and the one set of operator rules that move it.

    ``on_change(previous, state)`` is called after every change, whoever made it.
    """

    def __init__(
        self,
        state: TradingState = TradingState.ACTIVE,
        on_change: Callable[[TradingState, TradingState], None] | None = None,
    ) -> None:
        self.state = state
        """The current state."""
        self.on_change = on_change

    def set(self, state: TradingState) -> None:
        """Move to ``state`` without operator rules (restoring a saved state, an unclean start)."""
        if state is self.state:
            return
        previous, self.state = self.state, state
        if self.on_change is not None:
            self.on_change(previous, state)

    def halt(self) -> None:
        """The kill switch: HALTED from any state, at once."""
        self.set(TradingState.HALTED)

    def pause(self) -> None:
        """ACTIVE -> PAUSED (already PAUSED: nothing to do)."""
        self._refuse_while_halted("pause")
        self.set(TradingState.PAUSED)

    def resume(self) -> None:
        """PAUSED -> ACTIVE (already ACTIVE: nothing to do)."""
        self._refuse_while_halted("resume")
        self.set(TradingState.ACTIVE)

    def toggle_pause(self) -> None:
        """ACTIVE <-> PAUSED."""
        self._refuse_while_halted("pause")
        active = self.state is TradingState.ACTIVE
        self.set(TradingState.PAUSED if active else TradingState.ACTIVE)

    def release(self, confirmed: bool) -> None:
        """HALTED -> PAUSED: nothing trades until the operator resumes."""
        if self.state is not TradingState.HALTED:
            raise CommandRefused(f"the kill switch is not engaged (trading is {self.state.value})")
        require_confirmation("release", confirmed)
        self.set(TradingState.PAUSED)

    def _refuse_while_halted(self, command: str) -> None:
        if self.state is TradingState.HALTED:
            raise CommandRefused(
                f"cannot {command}: trading is HALTED; release the kill switch first"
            )
