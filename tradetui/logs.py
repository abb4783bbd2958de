"""Provides JSON-lines logging: a queue-backed writer, size rotation, secret redaction and a UI sink."""

from __future__ import annotations

import atexit
import contextlib
import itertools
import json
import json.encoder
import logging
import logging.handlers
import os
import queue
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple, TextIO
from urllib.parse import quote

LOG_FILE_NAME = "tradetui.jsonl"
MAX_LOG_BYTES = 10 * 1024 * 1024
"""Rotate the log file before it would pass this size (bytes, exact), so no file exceeds it."""
LOG_BACKUPS = 5
"""Rotated files kept: with the current one, at most six files and 60 MiB on disk."""
SINK_CAPACITY = 2000
MAX_BATCH = 512
"""Records the writer thread takes off the queue before it writes and flushes its outputs."""
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
    # Each pattern is skipped when it cannot match: most log text is short and has no ':' or '='.
    pattern = _secrets_pattern
    if pattern is not None and len(text) >= MIN_SECRET_LENGTH:
        text = pattern.sub(MASK, text)
    if ":" in text or "=" in text:
        text = _SECRET_FIELD.sub(_mask_field_value, text)
    if len(text) >= 32:
        text = _KEY_SHAPED.sub(_mask_key_shaped, text)
    return text


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
        return redact(value) if len(value) >= MIN_SECRET_LENGTH else value
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict):
        return {redact(str(k)): _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact_value(v) for v in value]
    return redact(str(value))


class _Redacted(NamedTuple):
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
    cached = record.__dict__.get(_REDACTED_ATTR)  # getattr would raise and catch on a miss
    if isinstance(cached, _Redacted):
        return cached
    message = _message(record)
    exc = record.exc_text or ""
    if not exc and record.exc_info:
        exc = logging.Formatter().formatException(record.exc_info)
    if record.stack_info:
        exc = f"{exc}\n{record.stack_info}" if exc else record.stack_info
    result = _Redacted(redact(message), redact(exc) if exc else "", _extra(record.__dict__))
    setattr(record, _REDACTED_ATTR, result)
    return result


_extra_names_by_shape: dict[tuple[str, ...], tuple[str, ...]] = {}
"""A record's extra field names by its attribute names: one call site, one shape."""
_SHAPES_KEPT = 1024


def _extra(fields: dict[str, Any]) -> dict[str, Any]:
    """A record's ``extra=`` fields, redacted, in the order they were given."""
    shape = tuple(fields)
    names = _extra_names_by_shape.get(shape)
    if names is None:
        names = tuple(k for k in shape if k not in _RECORD_ATTRS and not k.startswith("_"))
        if len(_extra_names_by_shape) >= _SHAPES_KEPT:
            _extra_names_by_shape.clear()
        _extra_names_by_shape[shape] = names
    return {key: _redact_value(fields[key]) for key in names}


_JSON = json.JSONEncoder(ensure_ascii=False, default=str)
_json_string = json.encoder.encode_basestring  # the C encoder's quoting, as ensure_ascii=False does
_LINE_KEYS = frozenset({"ts", "level", "logger", "msg", "exc"})
_BARE_VALUE = re.compile(r'[^\s"=]+')


_MILLIS_SUFFIXES = tuple(f".{ms:03d}Z" for ms in range(1000))


class _UtcTimestamps:
    """ISO 8601 UTC times to the millisecond; the date and time of day are formatted once a second."""

    def __init__(self) -> None:
        self._second_prefix: tuple[int, str] = (-1, "")

    def iso(self, created: float) -> str:
        second, prefix = self._second_prefix
        if int(created) != second:
            second = int(created)
            prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second_prefix = (second, prefix)
        return prefix + _MILLIS_SUFFIXES[min(999, int((created - second) * 1000))]


class JsonLineFormatter(logging.Formatter):
    """Formats a record as one JSON object: ts (ISO 8601 UTC), level, logger, msg, exc, extras."""

    def __init__(self) -> None:
        super().__init__()
        self._timestamps = _UtcTimestamps()

    def format(self, record: logging.LogRecord) -> str:
        # Built by hand around the C string encoder: about three times faster than json.dumps
        # of a dict, and this runs once per record written.
        content = _redacted(record)
        head = (
            f'{{"ts":"{self._timestamps.iso(record.created)}","level":{_json_string(record.levelname)}'
            f',"logger":{_json_string(record.name)},"msg":{_json_string(content.message)}'
        )
        if content.exc:
            head += f',"exc":{_json_string(content.exc)}'
        parts = [head]
        for key, value in content.extra.items():
            name = _json_string(key if key not in _LINE_KEYS else f"{key}_")
            # Most extras are short strings: quoting them directly skips building an encoder.
            encoded = _json_string(value) if type(value) is str else _JSON.encode(value)
            parts.append(f",{name}:{encoded}")
        parts.append("}")
        return "".join(parts)


class HumanLineFormatter(logging.Formatter):
    """Formats a record as one readable line: time, level, logger, message, then key=value extras."""

    def __init__(self) -> None:
        super().__init__()
        self._timestamps = _UtcTimestamps()

    def format(self, record: logging.LogRecord) -> str:
        content = _redacted(record)
        line = (
            f"{self._timestamps.iso(record.created)} {record.levelname:<7} {record.name}: "
            f"{content.message}"
        )
        if content.extra:
            line += "  " + " ".join(f"{k}={_human_value(v)}" for k, v in content.extra.items())
        if content.exc:
            line += "\n" + content.exc.rstrip("\n")
        return line


def _human_value(value: Any) -> str:
    if isinstance(value, str):
        return value if _BARE_VALUE.fullmatch(value) else _json_string(value)
    return _JSON.encode(value)


LogFormat = Literal["human", "json"]
FORMATTERS: dict[str, type[logging.Formatter]] = {
    "human": HumanLineFormatter,
    "json": JsonLineFormatter,
}
"""The formats standard output can use; the log file is always JSON lines."""


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
        content = _redacted(record)
        message = content.message
        if content.exc:
            # The pane shows one line per record: the exception's last line says what happened.
            message = f"{message} | {content.exc.strip().splitlines()[-1]}"
        with self._lines_lock:
            self._seq += 1
            self._lines.append((self._seq, record.created, record.levelname, record.name, message))

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


class _RotatingJsonLines(logging.Handler):
    """Appends records to an owner-only (0600) file, rotated before it would pass ``max_bytes``.

    Sizes are counted in encoded bytes, so no file ever exceeds the limit, and lines are written
    in one ``os.write`` per batch: ``flush()`` (called by the writer thread after each batch).
    """

    def __init__(self, path: Path, max_bytes: int, backups: int) -> None:
        super().__init__()
        self._path = path
        self._max_bytes = max_bytes
        self._backups = backups
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._fd = self._open()
        self._size = os.fstat(self._fd).st_size

    def _open(self) -> int:
        fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)  # an existing file may predate us with looser bits
        return fd

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = (self.format(record) + "\n").encode("utf-8", "backslashreplace")
        except Exception:
            self.handleError(record)
            return
        if len(line) > self._max_bytes:  # one record larger than a whole file: say so instead
            line = (
                f'{{"level":"ERROR","logger":"tradetui.logs","msg":"a {record.levelname} record '
                f'of {len(line)} bytes from {record.name} exceeded the log file limit"}}\n'
            ).encode()
        if self._size + self._pending_bytes + len(line) > self._max_bytes:
            try:
                self._write_pending()
                self._rotate()
            except OSError:
                self.handleError(record)
        self._pending.append(line)
        self._pending_bytes += len(line)

    def flush(self) -> None:
        # No lock: only the writer thread emits and flushes (close() runs after it has ended).
        self._write_pending()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
            super().close()

    def _write_pending(self) -> None:
        """Write the batch; on an error (a full disk) it is dropped, never kept to grow."""
        if not self._pending:
            return
        data = memoryview(b"".join(self._pending))
        self._pending.clear()
        self._pending_bytes = 0
        if self._fd < 0:  # a rotation failed: try the file again
            self._fd = self._open()
            self._size = os.fstat(self._fd).st_size
        while data:
            written = os.write(self._fd, data)
            self._size += written
            data = data[written:]

    def _rotate(self) -> None:
        os.close(self._fd)
        self._fd = -1
        base = str(self._path)
        for index in range(self._backups - 1, 0, -1):
            with contextlib.suppress(FileNotFoundError):
                os.replace(f"{base}.{index}", f"{base}.{index + 1}")
        if self._backups > 0:
            os.replace(base, f"{base}.1")
        else:
            os.truncate(base, 0)
        self._fd = self._open()
        self._size = os.fstat(self._fd).st_size


class _BatchedStream(logging.StreamHandler[TextIO]):
    """A StreamHandler that writes once per batch of records (``flush()``, from the writer
    thread): one write call however many lines, even on an unbuffered stdout (journald)."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self._pending: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._pending.append(self.format(record) + "\n")
        except Exception:
            self.handleError(record)

    def flush(self) -> None:
        if self._pending:
            text, self._pending = "".join(self._pending), []
            self.stream.write(text)
        super().flush()


class _CallerSideQueueHandler(logging.handlers.QueueHandler):
    """Snapshots message and traceback in the logging thread; redaction waits for the listener.

    This is all a ``log.info`` pays for (besides the stdlib's LogRecord): a dict copy, the
    message's %-formatting and a lock-free ``SimpleQueue.put``.
    """

    def __init__(self, records: queue.SimpleQueue[Any]) -> None:
        super().__init__(records)
        self._put = records.put

    def handle(self, record: logging.LogRecord) -> bool:
        # Handler.handle would take the handler lock; the queue is thread-safe on its own.
        if self.filters and not self.filter(record):
            return False
        try:
            self._put(self.prepare(record))
        except Exception:
            self.handleError(record)
        return True

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        # A copy without LogRecord.__init__, which would recompute what the record already has.
        snapshot: logging.LogRecord = object.__new__(logging.LogRecord)
        snapshot.__dict__ = record.__dict__.copy()
        # Args may be mutated or unprintable later, and tracebacks hold frames alive: render now.
        snapshot.msg = _message(record)
        snapshot.args = None
        if record.exc_info and not record.exc_text:
            snapshot.exc_text = logging.Formatter().formatException(record.exc_info)
        snapshot.exc_info = None
        return snapshot


_STOP = object()


class _BatchingListener:
    """The writer thread: takes records off the queue in batches, redacts each once, hands it to
    every handler, then flushes them once per batch. File and stdout I/O happen only here."""

    def __init__(self, records: queue.SimpleQueue[Any], handlers: list[logging.Handler]) -> None:
        self._records = records
        self._handlers = handlers
        self._failing: set[logging.Handler] = set()
        self._thread = threading.Thread(target=self._run, name="tradetui-log-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def flush(self) -> None:
        """Block until everything queued before this call is written and flushed."""
        if not self._thread.is_alive() or threading.current_thread() is self._thread:
            return
        done = threading.Event()
        self._records.put(done)
        while not done.wait(0.5) and self._thread.is_alive():
            pass

    def stop(self) -> None:
        """Write what is queued, then end the thread."""
        if self._thread.is_alive():
            self._records.put(_STOP)
            self._thread.join()

    def _run(self) -> None:
        get = self._records.get
        stopping = False
        while not stopping:
            batch = [get()]
            with contextlib.suppress(queue.Empty):
                while len(batch) < MAX_BATCH:
                    batch.append(get(block=False))
            written: dict[str, int] = {}
            for item in batch:
                if isinstance(item, logging.LogRecord):
                    if self._handle(item):
                        written[item.levelname] = written.get(item.levelname, 0) + 1
                elif item is _STOP:
                    stopping = True
                else:  # a flush marker: everything before it must be out first
                    self._flush()
                    item.set()
            self._flush()
            with _written_lock:
                for level, count in written.items():
                    _written[level] = _written.get(level, 0) + count

    def _handle(self, record: logging.LogRecord) -> bool:
        try:
            _redacted(record)
        except Exception:  # noqa: BLE001 - a record we cannot redact is not written
            return False
        for handler in self._handlers:
            # Only this thread writes through the handlers, so their locks are not needed.
            try:
                if not handler.filters or handler.filter(record):
                    handler.emit(record)
            except Exception:  # noqa: BLE001 - one failing output must not end the writer
                handler.handleError(record)
        return True

    def _flush(self) -> None:
        for handler in self._handlers:
            try:
                handler.flush()
            except Exception as exc:  # noqa: BLE001 - a full disk must not end the writer thread
                if handler not in self._failing:  # once per outage, not once per batch
                    print(f"tradetui: writing the log failed: {exc}", file=sys.stderr)
                self._failing.add(handler)
            else:
                self._failing.discard(handler)


_written_lock = threading.Lock()
_written: dict[str, int] = {}


def records_written() -> dict[str, int]:
    """Log records handed to the handlers so far in this process, by level name (for /metrics)."""
    with _written_lock:
        return dict(_written)


@dataclass
class _Installed:
    queue_handler: logging.Handler
    listener: _BatchingListener
    handlers: list[logging.Handler]
    app_logger_level: int
    app_logger_propagate: bool
    root_level: int
    record_flags: dict[str, Any]


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
            # The listener thread is a daemon: without this, records queued at exit would be lost.
            atexit.register(shutdown_logging)
            _atexit_registered = True
        sink = LogSink()
        handlers: list[logging.Handler] = [sink]
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
            file_handler = _RotatingJsonLines(log_dir / LOG_FILE_NAME, MAX_LOG_BYTES, LOG_BACKUPS)
            file_handler.setFormatter(JsonLineFormatter())
            handlers.append(file_handler)
        if stdout:
            stdout_handler = _BatchedStream(sys.stdout)
            stdout_handler.setFormatter(FORMATTERS[stdout_format]())
            handlers.append(stdout_handler)

        log_queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        queue_handler = _CallerSideQueueHandler(log_queue)
        listener = _BatchingListener(log_queue, handlers)

        root = logging.getLogger()
        app_logger = logging.getLogger("tradetui")
        _installed = _Installed(
            queue_handler,
            listener,
            handlers,
            app_logger.level,
            app_logger.propagate,
            root.level,
            {name: getattr(logging, name) for name in _NO_CALLER_INFO if hasattr(logging, name)},
        )
        for name in _installed.record_flags:
            setattr(logging, name, _NO_CALLER_INFO[name])
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
        installed.listener.flush()


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
    for name, value in installed.record_flags.items():
        setattr(logging, name, value)


def _close(handlers: Iterable[logging.Handler]) -> None:
    for handler in handlers:
        try:
            handler.flush()
        except (OSError, ValueError):  # stdout may already be closed at interpreter exit
            pass
        handler.close()  # a StreamHandler leaves sys.stdout open; file handlers close their file
