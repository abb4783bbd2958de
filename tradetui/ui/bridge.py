"""Provides the UI's view of the engine contract, the log sink, and the messages workers post."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from textual.message import Message

from tradetui.core.model import EngineSnapshot, Mode


class EngineControls(Protocol):
    """What the UI needs from the engine: cheap snapshots and a few operator commands."""

    async def start(self) -> None:
        """Start the engine; raises EngineError with a one-line message when it cannot."""

    async def stop(self) -> None:
        """Stop the engine and every task it owns."""

    def snapshot(self) -> EngineSnapshot:
        """Return the current state, frozen; cheap enough to call at 10 Hz."""
        ...

    def toggle_pause(self) -> None:
        """Switch ACTIVE <-> PAUSED (no effect while HALTED)."""

    def halt(self) -> None:
        """Block every new order at once (synchronous: the first step of the kill switch)."""

    async def kill(self) -> None:
        """Halt at once, then cancel every open order."""

    async def flatten(self, confirmed: bool = False) -> bool:
        """Kill switch, then close every position at market; True when flat."""
        ...

    async def cancel_order(self, client_id: str) -> bool:
        """Cancel one open order; False when it is no longer open."""
        ...

    async def release(self) -> None:
        """Release the kill switch: HALTED -> PAUSED."""

    async def set_mode(self, mode: Mode) -> None:
        """Switch between paper and live; raises EngineError when impossible."""

    def live_target(self) -> str:
        """Describe the account and venue live orders would go to."""
        ...


class LogRecordView(Protocol):
    """One line of the engine's log as the Logs pane reads it."""

    @property
    def seq(self) -> int:
        """Monotonic sequence number."""
        ...

    @property
    def ts(self) -> float:
        """Wall-clock time of the record, in seconds since the epoch."""
        ...

    @property
    def level(self) -> str:
        """Level name, e.g. ``INFO``."""
        ...

    @property
    def logger(self) -> str:
        """Name of the logger that wrote the record."""
        ...

    @property
    def message(self) -> str:
        """The formatted, redacted message."""
        ...


class LogSource(Protocol):
    """Where the Logs pane reads lines from (``tradetui.logs.LogSink`` implements it)."""

    def lines(self, after_seq: int = 0) -> Sequence[LogRecordView]:
        """Return the buffered lines with a sequence number above ``after_seq``."""
        ...


class EngineStartFailed(Message):
    """The engine could not start; ``reason`` is the one-line message for the operator."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class EngineCommandFailed(Message):
    """An operator command (``command`` names it) ended in an EngineError."""

    def __init__(self, command: str, reason: str) -> None:
        super().__init__()
        self.command = command
        self.reason = reason
