"""Provides the engine's start-up phases: each step that needs the venue is retried through its
passing troubles (outages, 5xx, ``EService:*``, rate limits, nonces) with backoff, while the
phase says what the engine waits for; a definitive error ends the start in one line."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tradetui.core.api import EngineError
from tradetui.core.venue.errors import VenueError, VenueSetupError, is_definitive

log = logging.getLogger("tradetui.engine")

STEP_TIMEOUT_S = 30.0
"""One attempt of a step that gets no answer in this long counts as a passing failure."""
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 10.0

_T = TypeVar("_T")
_DOING = {"connecting": "connecting to", "reconciling": "reconciling with"}
_REFUSED = {
    "connecting": "venue {target} did not list its markets: {reason}",
    "reconciling": "reconciling with {target} failed: {reason}",
}


class Phase:
    """Where the engine's start is (``starting``, ``connecting``, ``reconciling``, ``running``,
    ``stopped``) and, while it waits, why."""

    def __init__(self) -> None:
        self.name = "starting"
        self.detail = ""

    def enter(self, name: str, detail: str = "") -> None:
        """Move to phase ``name``."""
        self.name, self.detail = name, detail


async def until_done(phase: Phase, name: str, target: str, step: Callable[[], Awaitable[_T]]) -> _T:
    """Run ``step`` in phase ``name`` (``connecting``, ``reconciling``) against venue ``target``
    until it succeeds. A passing venue error (or no answer)
    is logged once and retried with backoff (0.5 s doubling to 10 s); a definitive one raises
    EngineError with one line. Cancelling the caller (a stop) ends the wait."""
    backoff, failing = FIRST_BACKOFF_S, False
    while True:
        phase.enter(name, phase.detail if failing else "")
        try:
            result = await asyncio.wait_for(step(), STEP_TIMEOUT_S)
        except (VenueError, VenueSetupError, TimeoutError) as exc:
            if is_definitive(exc):
                message = _REFUSED[name].format(target=target, reason=_one_line(exc))
                raise EngineError(message) from None
            reason = _one_line(exc) if not isinstance(exc, TimeoutError) else "no answer"
            level = logging.DEBUG if failing else logging.WARNING
            log.log(
                level,
                "%s %s: no good answer (%s); retrying in %.1fs",
                _DOING[name],
                target,
                reason,
                backoff,
                extra={"event": "startup_retry", "phase": name},
            )
            phase.detail = f"{reason}; retrying every {backoff:.0f}s" if backoff >= 1 else reason
            failing = True
            await asyncio.sleep(backoff)
            backoff = min(MAX_BACKOFF_S, backoff * 2)
            continue
        if failing:
            log.info(
                "%s %s: the venue answers again", name, target, extra={"event": "startup_retry"}
            )
        return result


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, VenueError):
        return exc.one_line()
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
