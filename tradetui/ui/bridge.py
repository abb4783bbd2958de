"""Provides what the console reads besides the engine contract (the log sink) and the messages its
workers post."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from textual.message import Message


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
    """An operator command (``command`` names it) ended in an EngineError; ``refused`` when the
    engine refused it by an operator rule (nothing failed)."""

    def __init__(self, command: str, reason: str, refused: bool = False) -> None:
        super().__init__()
        self.command = command
        self.reason = reason
        self.refused = refused
