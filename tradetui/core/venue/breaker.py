"""Provides the circuit breaker: closed → open after repeated transport failures → half-open trial."""

from __future__ import annotations

import logging
from collections.abc import Callable

from tradetui.core.metrics import EngineMetrics
from tradetui.core.model import BreakerSnapshot, BreakerState

log = logging.getLogger("tradetui.breaker")


class CircuitBreaker:
    """Fails fast while a category of venue calls keeps failing at the transport level.

    Only transport failures count (timeouts, disconnects, 5xx): a business error such as
    insufficient funds says the venue is up.
    """

    def __init__(
        self,
        category: str,
        clock: Callable[[], float],
        threshold: int = 3,
        open_seconds: float = 5.0,
        metrics: EngineMetrics | None = None,
    ) -> None:
        self.category = category
        self._clock = clock
        self.threshold = threshold
        self.open_seconds = open_seconds
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_in_flight = False
        self._metrics = metrics or EngineMetrics(clock)
        self.on_change: Callable[[str, BreakerState], None] | None = None
        """Told the category and the new state at every transition (the engine's alerts)."""

    @property
    def state(self) -> BreakerState:
        """Current state, moving OPEN → HALF_OPEN once the open period has passed."""
        if (
            self._state is BreakerState.OPEN
            and self._clock() - self._opened_at >= self.open_seconds
        ):
            self._transition(BreakerState.HALF_OPEN)
        return self._state

    @property
    def failing(self) -> bool:
        """True while the last call of this category failed at the transport level (no success
        since), whatever the state."""
        return self._failures > 0

    @property
    def is_open(self) -> bool:
        """True while calls are being refused (OPEN; half-open lets a trial through)."""
        return self.state is BreakerState.OPEN

    def allow(self) -> bool:
        """True when a call may go out now; in half-open only one trial call at a time."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._trial_in_flight:
            self._trial_in_flight = True
            return True
        return False

    def record_success(self) -> None:
        """A call completed (or failed for a business reason): the venue is reachable."""
        self._failures = 0
        self._trial_in_flight = False
        if self._state is not BreakerState.CLOSED:
            self._transition(BreakerState.CLOSED)

    def record_failure(self) -> None:
        """A call failed at the transport level."""
        self._failures += 1
        self._trial_in_flight = False
        if self._state is BreakerState.HALF_OPEN or self._failures >= self.threshold:
            self._opened_at = self._clock()
            if self._state is not BreakerState.OPEN:
                self._transition(BreakerState.OPEN)

    def snapshot(self) -> BreakerSnapshot:
        """A frozen view for the UI and metrics."""
        state = self.state
        remaining = 0.0
        if state is BreakerState.OPEN:
            remaining = max(0.0, self.open_seconds - (self._clock() - self._opened_at))
        return BreakerSnapshot(self.category, state, self._failures, self.threshold, remaining)

    def _transition(self, new_state: BreakerState) -> None:
        log.warning(
            "circuit breaker %s: %s -> %s",
            self.category,
            self._state.value,
            new_state.value,
            extra={"event": "breaker", "category": self.category, "state": new_state.value},
        )
        self._state = new_state
        self._metrics.breaker_changed(self.category, new_state)
        if self.on_change is not None:
            self.on_change(self.category, new_state)
