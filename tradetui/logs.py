"""Provides JSON-lines logging: a queue-backed writer, size rotation, secret redaction and a UI sink."""

from __future__ import annotations

import atexit
import io
import itertools
import json
import logging
import logging.handlers
import os
import queue
import re
import sys
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

LOG_FILE_NAME = "tradetui.jsonl"
MAX_LOG_BYTES = 10 * 1024 * 1024
LOG_BACKUPS = 5
SINK_CAPACITY = 2000
MASK = "***"
MIN_SECRET_LENGTH = 6
"""Shorter strings are not registered: masking "abc" everywhere would shred ordinary text."""

# A run of 32+ base64 characters that mixes letters and digits looks like a key, secret, token or
# signature. '-' and '_' are left out so UUID-style client order ids stay readable in the logs.
_KEY_SHAPED = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{32,}={0,2}")
_HAS_DIGIT = re.compile(r"\d")
_HAS_LETTER = re.compile(r"[A-Za-z]")
# name=value / "name": "value" / Name: value pairs whose value is a credential (headers, query strings,
# JSON bodies, reprs of ccxt config dicts).
_SECRET_FIELD = re.compile(
    r"(?i)(\b(?:api[-_]?key|api[-_]?sign|apikey|secret|signature|passphrase|password|token"
    r"|authorization)\b[\"']?\s*[:=]\s*[\"']?)([^\s\"'&,;}\]]+)"
)

_secrets_lock = threading.Lock()
_secrets: frozenset[str] = frozenset()
_secrets_pattern: re.Pattern[str] | None = None

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
_REDACTED_ATTR = "_tradetui_redacted"


def register_secret(secret: str) -> None:
    """Mask ``secret`` (and its URL-encoded form) as "***" in everything logged from now on."""
    global _secrets, _secrets_pattern
    if len(secret) < MIN_SECRET_LENGTH:
        return
    with _secrets_lock:
        updated = _secrets | {secret, quote(secret, safe="")}
        if updated == _secrets:
            return
        # Longest first, so a secret that contains another is masked whole.
        ordered = sorted(updated, key=len, reverse=True)
        _secrets_pattern = re.compile("|".join(re.escape(s) for s in ordered))
        _secrets = updated


def redact(text: str) -> str:
    """Return ``text`` with registered secrets and anything shaped like a credential masked."""
    pattern = _secrets_pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    text = _SECRET_FIELD.sub(_mask_field_value, text)
    return _KEY_SHAPED.sub(_mask_key_shaped, text)


def _mask_field_value(match: re.Match[str]) -> str:
    return match.group(1) + MASK


def _mask_key_shaped(match: re.Match[str]) -> str:
    run = match.group(0)
    # Pure-letter runs are words or identifiers; random base64 of this length almost always has both.
    if _HAS_DIGIT.search(run) and _HAS_LETTER.search(run):
        return MASK
    return run


def _redact_value(value: Any) -> Any:
    """Redact strings inside an extra field's value, keeping JSON-native types."""
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict):
        return {redact(str(k)): _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact_value(v) for v in value]
    return redact(str(value))


@dataclass(frozen=True, slots=True)
class _Redacted:
    """A record's loggable content after redaction (computed once, read by every handler)."""

    message: str
    exc: str
    extra: dict[str, Any]


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # a bad format string must not cost us the record
        return f"{record.msg!r} % {record.args!r}"


def _redacted(record: logging.LogRecord) -> _Redacted:
    cached = getattr(record, _REDACTED_ATTR, None)
    if isinstance(cached, _Redacted):
        return cached
    message = _message(record)
    exc = record.exc_text or ""
    if not exc and record.exc_info:
        exc = logging.Formatter().formatException(record.exc_info)
    if record.stack_info:
        exc = f"{exc}\n{record.stack_info}" if exc else record.stack_info
    extra = {
        key: _redact_value(value)
        for key, value in record.__dict__.items()
        if key not in _RECORD_ATTRS and not key.startswith("_")
    }
    result = _Redacted(redact(message), redact(exc), extra)
    setattr(record, _REDACTED_ATTR, result)
    return result


class JsonLineFormatter(logging.Formatter):
    """Formats a record as one JSON object: ts (ISO 8601 UTC), level, logger, msg, exc, extras."""

    def format(self, record: logging.LogRecord) -> str:
        content = _redacted(record)
        ts = datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds")
        line: dict[str, Any] = {
            "ts": ts.replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": content.message,
        }
        if content.exc:
            line["exc"] = content.exc
        for key, value in content.extra.items():
            line[key if key not in line else f"{key}_"] = value
        return json.dumps(line, ensure_ascii=False, default=str)


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
        self._lines: deque[LogLine] = deque(maxlen=capacity)
        self._seq = 0
        self._lines_lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        content = _redacted(record)
        message = content.message
        if content.exc:
            # The pane shows one line per record: the exception's last line says what happened.
            message = f"{message} | {content.exc.strip().splitlines()[-1]}"
        with self._lines_lock:
            self._seq += 1
            self._lines.append(
                LogLine(self._seq, record.created, record.levelname, record.name, message)
            )

    def lines(self, after_seq: int = 0) -> list[LogLine]:
        """Records with ``seq > after_seq``, oldest first."""
        with self._lines_lock:
            if not self._lines:
                return []
            skip = max(0, after_seq - self._lines[0].seq + 1)
            return list(itertools.islice(self._lines, skip, None))

    @property
    def last_seq(self) -> int:
        """Sequence number of the newest record (0 before the first)."""
        return self._seq


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A RotatingFileHandler whose files are created readable by the owner only (0600)."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.chmod(self.baseFilename, 0o600)  # an existing file may predate us with looser bits
        return open(fd, "a", encoding=self.encoding or "utf-8", errors=self.errors)


class _CallerSideQueueHandler(logging.handlers.QueueHandler):
    """Snapshots message and traceback in the logging thread; redaction waits for the listener."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        snapshot = logging.makeLogRecord(record.__dict__)
        # Args may be mutated or unprintable later, and tracebacks hold frames alive: render now.
        snapshot.msg = _message(record)
        snapshot.args = None
        if record.exc_info and not record.exc_text:
            snapshot.exc_text = logging.Formatter().formatException(record.exc_info)
        snapshot.exc_info = None
        return snapshot


class _RedactingQueueListener(logging.handlers.QueueListener):
    """Redacts each record once, on the listener thread, before any handler sees it."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        _redacted(record)
        return record


@dataclass
class _Installed:
    queue_handler: logging.Handler
    listener: _RedactingQueueListener
    log_queue: queue.Queue[logging.LogRecord]
    handlers: list[logging.Handler]
    app_logger_level: int
    app_logger_propagate: bool
    root_level: int


_setup_lock = threading.Lock()
_installed: _Installed | None = None
_atexit_registered = False


def _parse_level(level: str) -> int:
    value = logging.getLevelName(level.strip().upper())
    if not isinstance(value, int):
        raise ValueError(f"unknown log level {level!r}; use DEBUG, INFO, WARNING or ERROR")
    return value


def setup_logging(log_dir: Path | None, level: str = "INFO", *, stdout: bool = False) -> LogSink:
    """Route the ``tradetui`` logger (and library warnings) through a queue to the returned sink.

    With ``log_dir`` records also go to ``<log_dir>/tradetui.jsonl`` (0600, 10 MB x 5 backups);
    with ``stdout`` also to standard output as JSON lines. Calling it again replaces the previous setup.
    """
    global _installed, _atexit_registered
    app_level = _parse_level(level)
    with _setup_lock:
        _uninstall_locked()
        if not _atexit_registered:
            # The listener thread is a daemon: without this, records queued at exit would be lost.
            atexit.register(shutdown_logging)
            _atexit_registered = True
        sink = LogSink()
        handlers: list[logging.Handler] = [sink]
        formatter = JsonLineFormatter()
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
            file_handler = _PrivateRotatingFileHandler(
                log_dir / LOG_FILE_NAME,
                maxBytes=MAX_LOG_BYTES,
                backupCount=LOG_BACKUPS,
                encoding="utf-8",
            )
            handlers.append(file_handler)
        if stdout:
            handlers.append(logging.StreamHandler(sys.stdout))
        for handler in handlers[1:]:
            handler.setFormatter(formatter)

        log_queue: queue.Queue[logging.LogRecord] = queue.Queue()
        queue_handler = _CallerSideQueueHandler(log_queue)
        listener = _RedactingQueueListener(log_queue, *handlers, respect_handler_level=False)

        root = logging.getLogger()
        app_logger = logging.getLogger("tradetui")
        _installed = _Installed(
            queue_handler,
            listener,
            log_queue,
            handlers,
            app_logger.level,
            app_logger.propagate,
            root.level,
        )
        # One handler on root: tradetui records propagate to it at their own level, while
        # libraries (ccxt, aiohttp, asyncio) inherit root's WARNING.
        app_logger.setLevel(app_level)
        app_logger.propagate = True
        root.setLevel(logging.WARNING)
        root.addHandler(queue_handler)
        listener.start()
        return sink


def flush_logging() -> None:
    """Block until every record queued so far has reached the file, stdout and the sink."""
    with _setup_lock:
        installed = _installed
    if installed is not None:
        installed.log_queue.join()
        for handler in installed.handlers:
            handler.flush()


def shutdown_logging() -> None:
    """Stop the listener, flush and close the handlers, and restore the loggers' previous levels."""
    with _setup_lock:
        _uninstall_locked()


def _uninstall_locked() -> None:
    global _installed
    installed = _installed
    if installed is None:
        return
    _installed = None
    root = logging.getLogger()
    root.removeHandler(installed.queue_handler)
    installed.listener.stop()  # drains the queue before it returns
    _close(installed.handlers)
    app_logger = logging.getLogger("tradetui")
    app_logger.setLevel(installed.app_logger_level)
    app_logger.propagate = installed.app_logger_propagate
    root.setLevel(installed.root_level)


def _close(handlers: Iterable[logging.Handler]) -> None:
    for handler in handlers:
        try:
            handler.flush()
        except (OSError, ValueError):  # stdout may already be closed at interpreter exit
            pass
        handler.close()  # a StreamHandler leaves sys.stdout open; file handlers close their file
