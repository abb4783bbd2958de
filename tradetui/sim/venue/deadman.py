"""Implements CancelAllOrdersAfter: a per-account timer that cancels every open order when it lapses."""

from __future__ import annotations

from dataclasses import dataclass, field

from tradetui.sim.venue.accounts import Account
from tradetui.sim.venue.matching import MatchingEngine

MAX_TIMEOUT_S = 86_400


@dataclass(slots=True)
class DeadMansSwitch:
    """Trigger times by account name; a bot keeps pushing its own forward while it is alive."""

    triggers: dict[str, tuple[Account, float]] = field(default_factory=dict)

    def arm(self, account: Account, timeout_s: int, now: float) -> float:
        """Set (timeout > 0) or disable (0) the account's timer; returns the trigger time or 0."""
        if timeout_s <= 0:
            self.triggers.pop(account.name, None)
            return 0.0
        trigger = now + timeout_s
        self.triggers[account.name] = (account, trigger)
        return trigger

    def check(self, engine: MatchingEngine, now: float) -> None:
        """Cancel everything of each account whose timer has lapsed, then forget the timer."""
        for name, (account, trigger) in list(self.triggers.items()):
            if now >= trigger:
                del self.triggers[name]
                engine.cancel_all(account)
