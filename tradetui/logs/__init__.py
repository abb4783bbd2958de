"""Provides logging: the setup, the UI sink, and (from the modules below) redaction and formats.

Callers import from here. ``redaction`` masks secrets, ``format`` makes lines, ``writer`` queues
records and runs the writer thread, ``outputs`` writes the file and stdout.
"""

from __future__ import annotations

import atexit
import itertools
import logging
import sys
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tradetui.logs.format import (
    FORMATTERS,
    HumanLineFormatter,
    JsonLineFormatter,
    LogFormat,
)
from tradetui.logs.outputs import BatchedStream, BatchOutput, RotatingJsonLines
from tradetui.logs.redaction import (
    MASK,
    MIN_SECRET_LENGTH,
    Redacted,
    redact,
    redacted,
    register_secret,
    render_batch,
)
from tradetui.logs.writer import (
    BatchingWriter,
    CallerSideHandler,
    LeanLogRecord,
    lean_records_match,
    written_by_level,
)

__all__ = [
    "FORMATTERS",
    "LOG_BACKUPS",
    "LOG_FILE_NAME",
    "MASK",
    "MAX_LOG_BYTES",
    "MIN_SECRET_LENGTH",
    "SINK_CAPACITY",
    "HumanLineFormatter",
    "JsonLineFormatter",
    "LogFormat",
    "LogLine",
    "LogSink",
    "flush_logging",
    "records_written",
    "redact",
    "register_secret",
    "setup_logging",
    "shutdown_logging",
]

LOG_FILE_NAME = "tradetui.jsonl"
MAX_LOG_BYTES = 10 * 1024 * 1024
"""Rotate the log file before it would pass this size (bytes, exact), so no file exceeds it."""
LOG_BACKUPS = 5
"""Rotated files kept: with the current one, at most six files and 60 MiB on disk."""
SINK_CAPACITY = 2000


@dataclass(frozen=True)
class LogLine:
    """One log record as the Logs pane shows it (already redacted)."""

    seq: int
    ts: float
    level: str
    logger: str
    message: str


class LogSink(logging.Handler):
    """Keeps the last records in memory for the UI's Logs pane; thread-safe."""

    def __init__(self, capacity: int = SINK_CAPACITY) -> None:
        super().__init__()
        # Plain tuples, made into LogLines only when read: the writer thread stores every record,
        # the pane reads a few new ones a few times a second.
        self._lines: deque[tuple[int, float, str, str, str]] = deque(maxlen=capacity)
        self._seq = 0
        self._lines_lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        self.emit_batch([record], [redacted(record)])

    def emit_batch(self, records: list[logging.LogRecord], rendered: list[Redacted]) -> None:
        """Store a batch of records under one lock (the writer thread calls this per batch)."""
        if self.filters:
            pairs = [(r, c) for r, c in zip(records, rendered, strict=True) if self.filter(r)]
            records, rendered = [r for r, _ in pairs], [c for _, c in pairs]
        # The pane shows one line per record: an exception's last line says what happened.
        messages = [
            f"{message} | {exc.strip().splitlines()[-1]}" if exc else message
            for message, exc, _ in rendered
        ]
        created = [r.created for r in records]
        levels = [r.levelname for r in records]
        names = [r.name for r in records]
        with self._lines_lock:
            first = self._seq + 1
            self._seq += len(records)
            self._lines.extend(
                zip(range(first, self._seq + 1), created, levels, names, messages, strict=True)
            )

    def reopen(self) -> None:
        pass  # held in memory: no file to reopen

    def lines(self, after_seq: int = 0) -> list[LogLine]:
        """Records with ``seq > after_seq``, oldest first."""
        with self._lines_lock:
            if not self._lines:
                return []
            skip = max(0, after_seq - self._lines[0][0] + 1)
            return list(itertools.starmap(LogLine, itertools.islice(self._lines, skip, None)))

    @property
    def last_seq(self) -> int:
        """Sequence number of the newest record (0 before the first)."""
        return self._seq


def records_written() -> dict[str, int]:
    """Log records handed to the handlers so far in this process, by level name (for /metrics)."""
    return written_by_level()


@dataclass
class _Installed:
    caller_handler: logging.Handler
    writer: BatchingWriter
    outputs: list[BatchOutput]
    app_logger_level: int
    app_logger_propagate: bool
    root_level: int
    record_flags: dict[str, Any]
    record_factory: Callable[..., logging.LogRecord]


_NO_CALLER_INFO: dict[str, Any] = {
    "_srcfile": None,
    "logThreads": False,
    "logProcesses": False,
    "logMultiprocessing": False,
    "logAsyncioTasks": False,
}
"""The logging module's switches for what every LogRecord looks up (the logging HOWTO's
"Optimization" section). No output format here shows caller, thread or process, and finding the
caller alone is about half of what a ``log.info`` costs."""


_setup_lock = threading.Lock()
_installed: _Installed | None = None
_atexit_registered = False


def _parse_level(level: str) -> int:
    value = logging.getLevelName(level.strip().upper())
    if not isinstance(value, int):
        raise ValueError(f"unknown log level {level!r}; use DEBUG, INFO, WARNING or ERROR")
    return value


def setup_logging(
    log_dir: Path | None,
    level: str = "INFO",
    *,
    stdout: bool = False,
    stdout_format: LogFormat = "human",
) -> LogSink:
    """Route the ``tradetui`` logger (and library warnings) through a queue to the returned sink.

    With ``log_dir`` records also go to ``<log_dir>/tradetui.jsonl`` (0600, rotated at 10 MiB,
    5 backups); with ``stdout`` also to standard output, one readable line per record or, with
    ``stdout_format="json"``, JSON lines. Calling it again replaces the previous setup.
    """
    global _installed, _atexit_registered
    app_level = _parse_level(level)
    with _setup_lock:
        _uninstall_locked()
        if not _atexit_registered:
            # The writer thread is a daemon: without this, records queued at exit would be lost.
            atexit.register(shutdown_logging)
            _atexit_registered = True
        sink = LogSink()
        outputs: list[BatchOutput] = [sink]
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
            outputs.append(
                RotatingJsonLines(
                    log_dir / LOG_FILE_NAME,
                    MAX_LOG_BYTES,
                    LOG_BACKUPS,
                    JsonLineFormatter().format_rendered,
                )
            )
        if stdout:
            outputs.append(BatchedStream(sys.stdout, FORMATTERS[stdout_format]().format_rendered))

        writer = BatchingWriter(outputs, render_batch)
        caller_handler = CallerSideHandler(writer)

        root = logging.getLogger()
        app_logger = logging.getLogger("tradetui")
        _installed = _Installed(
            caller_handler,
            writer,
            outputs,
            app_logger.level,
            app_logger.propagate,
            root.level,
            {name: getattr(logging, name) for name in _NO_CALLER_INFO if hasattr(logging, name)},
            logging.getLogRecordFactory(),
        )
        for name in _installed.record_flags:
            setattr(logging, name, _NO_CALLER_INFO[name])
        # Only over the stdlib's own record: another factory was put there on purpose.
        if _installed.record_factory is logging.LogRecord and lean_records_match():
            logging.setLogRecordFactory(LeanLogRecord)
        # One handler on root: tradetui records propagate to it at their own level, while
        # libraries (ccxt, aiohttp, asyncio) inherit root's WARNING.
        app_logger.setLevel(app_level)
        app_logger.propagate = True
        root.setLevel(logging.WARNING)
        root.addHandler(caller_handler)
        writer.start()
        return sink


def flush_logging() -> None:
    """Block until every record queued so far has reached the file, stdout and the sink."""
    with _setup_lock:
        installed = _installed
    if installed is not None:
        installed.writer.flush()


def reopen_log_files() -> None:
    """Write what is queued, then open the log file again by name (SIGHUP, after logrotate)."""
    with _setup_lock:
        installed = _installed
    if installed is not None:
        installed.writer.reopen()


def shutdown_logging() -> None:
    """Stop the writer thread, flush and close the outputs, and restore the loggers' levels."""
    with _setup_lock:
        _uninstall_locked()


def _uninstall_locked() -> None:
    global _installed
    installed = _installed
    if installed is None:
        return
    _installed = None
    root = logging.getLogger()
    root.removeHandler(installed.caller_handler)
    installed.writer.stop()  # drains the queue before it returns
    for output in installed.outputs:
        try:
            output.close()  # flushes first; stdout itself is left open
        except (OSError, ValueError):  # stdout may already be closed at interpreter exit
            pass
    app_logger = logging.getLogger("tradetui")
    app_logger.setLevel(installed.app_logger_level)
    app_logger.propagate = installed.app_logger_propagate
    root.setLevel(installed.root_level)
    for name, value in installed.record_flags.items():
        setattr(logging, name, value)
    if logging.getLogRecordFactory() is LeanLogRecord:
        logging.setLogRecordFactory(installed.record_factory)
