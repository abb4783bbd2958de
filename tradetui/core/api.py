"""Provides the engine contract the console and ops use (commands, snapshots) and EngineError.

The console imports this before its first paint, so it imports nothing but the model.
"""

from __future__ import annotations

from typing import Protocol

from tradetui.core.model import CancelReport, EngineSnapshot, Mode


class EngineError(Exception):
    """A command the engine refuses or cannot carry out; the message is one line for the operator."""


class CommandRefused(EngineError):
    """The engine refused a command by an operator rule (no pause while HALTED, release only from
    HALTED, confirm first): nothing failed, nothing changed."""


class EngineControls(Protocol):
    """What the console, the control socket and ``tradetui attach`` need from an engine.

    The engine decides every operator rule (no pause while HALTED, release only from HALTED,
    flatten and release only when confirmed); implementations that stand in for it (the
    console's deferred engine, the remote engine over the control socket) pass the engine's
    answer on, so every implementation refuses the same commands with the same EngineError.
    """

    async def start(self) -> None:
        """Start the engine; raises EngineError with a one-line message when it cannot."""

    async def stop(self) -> None:
        """Stop the engine and every task it owns (a remote one: disconnect)."""

    def snapshot(self) -> EngineSnapshot:
        """Return the current state, frozen; cheap enough to call at 10 Hz."""
        ...

    def halt(self) -> None:
        """Block every new order at once (synchronous: the first step of the kill switch)."""

    async def kill(self) -> None:
        """Halt at once, then cancel every open order."""

    async def pause(self) -> None:
        """ACTIVE -> PAUSED (no new exposure); raises EngineError while HALTED."""

    async def resume(self) -> None:
        """PAUSED -> ACTIVE; raises EngineError while HALTED."""

    async def toggle_pause(self) -> None:
        """ACTIVE <-> PAUSED; raises EngineError while HALTED."""

    async def release(self, confirmed: bool = False) -> None:
        """Release the kill switch, HALTED -> PAUSED; raises EngineError when not HALTED or not
        confirmed."""

    async def flatten(self, confirmed: bool = False) -> bool:
        """Kill switch, then close every position at market; True when flat. Raises EngineError
        when not confirmed."""
        ...

    async def cancel_order(self, client_id: str) -> bool:
        """Cancel one open order; False when it is no longer open."""
        ...

    async def cancel_all(self) -> CancelReport:
        """Cancel every open order the engine knows, leaving the trading state as it is."""
        ...

    async def set_mode(self, mode: Mode) -> None:
        """Switch between paper and live; raises EngineError when impossible."""

    def live_target(self) -> str:
        """Describe the account and venue live orders would go to."""
        ...
