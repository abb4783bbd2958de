"""Provides the log writer: a leaner LogRecord, the caller-side handler and the writer thread."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, ClassVar

from tradetui.logs.outputs import BatchOutput

MAX_BATCH = 512
"""Records the writer thread takes at a time before it writes and flushes its outputs."""
WRITER_POLL_S = 0.05
"""How often the writer thread looks for new records; ``flush_logging`` wakes it at once."""
MAX_PENDING = 8 * MAX_BATCH
"""Records queued before a caller waits for the writer to catch up (to half as many). Bounded,
the backlog stays small enough to be cheap: a flood of records kept for seconds costs page faults
and garbage-collector passes over every record held, and that cost is paid under the GIL."""
ROOM_WAIT_S = 1.0
"""The longest a caller waits for room: a writer stuck on a hung disk must not stop trading."""

RenderBatch = Callable[[list[logging.LogRecord]], tuple[list[logging.LogRecord], list[Any]]]
"""Renders and redacts a batch once for every output: the records it could render, and for each
what the outputs' ``FormatLine`` takes. Records are shared with the logging threads: not changed."""

# Arguments of these types cannot change after the call, so the message can be rendered later by
# the writer thread; anything else is rendered in the caller, as the stdlib QueueHandler does.
_IMMUTABLE_ARG_TYPES = frozenset({str, int, float, bool, type(None), bytes, Decimal})


_START_TIME: float | int = vars(logging)["_startTime"]
_STDLIB_TIME_NS = isinstance(_START_TIME, int)  # Python 3.13 made LogRecord's times ns-based
_HAS_TASK_NAME = hasattr(logging, "logAsyncioTasks")  # Python 3.12+


class LeanLogRecord(logging.LogRecord):
    """A ``LogRecord`` for less: what ``LogRecord.__init__`` sets with the caller, thread and process
    look-ups switched off (``setup_logging`` switches them off), with ``filename`` and ``module``
    derived once per path instead of per record, which is almost half of what the stdlib record
    costs. ``setup_logging`` installs it only if ``lean_records_match()`` on this Python."""

    _names_by_path: ClassVar[dict[str, tuple[str, str]]] = {}

    def __init__(
        self,
        name: str,
        level: int,
        pathname: str,
        lineno: int,
        msg: object,
        args: Any,
        exc_info: Any,
        func: str | None = None,
        sinfo: str | None = None,
        **kwargs: Any,
    ) -> None:
        if (
            logging.logThreads
            or logging.logProcesses
            or logging.logMultiprocessing
            or (_HAS_TASK_NAME and vars(logging)["logAsyncioTasks"])
        ):
            super().__init__(name, level, pathname, lineno, msg, args, exc_info, func, sinfo)
            return
        ct = time.time_ns() if _STDLIB_TIME_NS else time.time()
        self.name = name
        self.msg = msg
        if args and len(args) == 1 and isinstance(args[0], Mapping) and args[0]:
            args = args[0]
        self.args = args
        self.levelname = logging.getLevelName(level)
        self.levelno = level
        self.pathname = pathname
        names = self._names_by_path.get(pathname)
        if names is None:
            names = self._path_names(pathname)
        self.filename, self.module = names
        self.exc_info = exc_info
        self.exc_text = None
        self.stack_info = sinfo
        self.lineno = lineno
        self.funcName = func  # type: ignore[assignment]  # None when unknown, as in LogRecord
        if _STDLIB_TIME_NS:
            self.created = ct / 1e9
            self.msecs = (ct % 1_000_000_000) // 1_000_000 + 0.0
            if self.msecs == 999.0 and int(self.created) != ct // 1_000_000_000:
                self.msecs = 0.0
            self.relativeCreated = (ct - _START_TIME) / 1e6
        else:
            self.created = ct
            self.msecs = int((ct - int(ct)) * 1000) + 0.0
            self.relativeCreated = (ct - _START_TIME) * 1000
        self.thread = None
        self.threadName = None
        self.processName = None
        self.process = None
        if _HAS_TASK_NAME:
            self.taskName = None

    @classmethod
    def _path_names(cls, pathname: str) -> tuple[str, str]:
        try:
            filename = os.path.basename(pathname)
            names = (filename, os.path.splitext(filename)[0])
        except (TypeError, ValueError, AttributeError):
            names = (pathname, "Unknown module")
        if len(cls._names_by_path) < 4096:  # paths are source files: few, unless made up
            cls._names_by_path[pathname] = names
        return names


def lean_records_match() -> bool:
    """Whether ``LeanLogRecord`` sets the same attributes, in the same order and (but for the
    times) to the same values, as this Python's ``LogRecord`` with the look-ups switched off."""
    args = ("buy", 0.5)
    stdlib = logging.LogRecord("x.y", logging.INFO, "/a/b.py", 7, "m %s %s", args, None, "f", None)
    lean = LeanLogRecord("x.y", logging.INFO, "/a/b.py", 7, "m %s %s", args, None, "f", None)
    times = {"created", "msecs", "relativeCreated"}
    return list(stdlib.__dict__) == list(lean.__dict__) and all(
        stdlib.__dict__[key] == lean.__dict__[key] for key in stdlib.__dict__ if key not in times
    )


class CallerSideHandler(logging.Handler):
    """What a ``log.info`` pays for besides the stdlib's LogRecord: a ``deque.append``.

    The record itself is queued, not a copy. Only a record whose message could still change (an
    argument of a mutable type) or that holds a traceback is snapshotted here, as the stdlib's
    QueueHandler does for every record; the writer thread renders and redacts the rest.
    """

    def __init__(self, writer: BatchingWriter) -> None:
        super().__init__()
        self._pending = writer.pending
        self._append = writer.pending.append
        self._wait_for_room = writer.wait_for_room

    def handle(self, record: logging.LogRecord) -> bool:
        # Handler.handle would take the handler lock; deque.append is atomic on its own.
        if self.filters and not self.filter(record):
            return False
        # Could rendering the message later give another text than rendering it now?
        args = record.args
        args_frozen = not args or (
            type(args) is tuple and _IMMUTABLE_ARG_TYPES.issuperset(map(type, args))
        )
        if not args_frozen or record.exc_info or type(record.msg) is not str:
            record = _snapshot(record)
        self._append(record)
        if len(self._pending) > MAX_PENDING:
            self._wait_for_room()
        return True

    def emit(self, record: logging.LogRecord) -> None:
        self.handle(record)


def _snapshot(record: logging.LogRecord) -> logging.LogRecord:
    """A copy with the message rendered and the traceback formatted (tracebacks hold frames)."""
    snapshot: logging.LogRecord = object.__new__(type(record))  # skips __init__'s recomputing
    snapshot.__dict__ = record.__dict__.copy()
    try:
        snapshot.msg = record.getMessage()
    except Exception:  # noqa: BLE001 - a bad format string must not cost us the record
        snapshot.msg = f"{record.msg!r} % {record.args!r}"
    snapshot.args = None
    if record.exc_info and not record.exc_text:
        snapshot.exc_text = logging.Formatter().formatException(record.exc_info)
    snapshot.exc_info = None
    return snapshot


_STOP = object()
_REOPEN = object()
"""Queued by ``reopen()``: the file outputs close and open their files again."""


class BatchingWriter:
    """The writer thread: every ``WRITER_POLL_S`` (or at once on a flush) it takes the queued
    records in batches, renders each once, hands the batch to every output, then flushes them.
    File and stdout I/O happen only here.

    Callers never wake this thread: a wake-up per record costs the caller a system call, and a
    writer woken every few records takes the GIL from the caller every few records.
    """

    def __init__(self, outputs: list[BatchOutput], render: RenderBatch) -> None:
        self.pending: deque[Any] = deque()
        """Records, flush markers and the stop marker, in the order they were queued."""
        self._outputs = outputs
        self._render = render
        self._wake = threading.Event()
        self._room = threading.Condition()
        self._failing: set[int] = set()
        self._thread = threading.Thread(target=self._run, name="tradetui-log-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def flush(self) -> None:
        """Block until everything queued before this call is written and flushed."""
        if not self._thread.is_alive() or threading.current_thread() is self._thread:
            return
        done = threading.Event()
        self.pending.append(done)
        self._wake.set()
        while not done.wait(0.5) and self._thread.is_alive():
            pass

    def wait_for_room(self) -> None:
        """Block until the writer has caught up to half of ``MAX_PENDING`` (or ``ROOM_WAIT_S``)."""
        if threading.current_thread() is self._thread or not self._thread.is_alive():
            return
        self._wake.set()
        with self._room:
            self._room.wait_for(self._has_room, ROOM_WAIT_S)

    def _has_room(self) -> bool:
        return len(self.pending) <= MAX_PENDING // 2 or not self._thread.is_alive()

    def reopen(self) -> None:
        """Write what is queued to the files as they are, then open them again by name (after an
        external rotation moved them: SIGHUP); blocks until done."""
        self.pending.append(_REOPEN)
        self.flush()

    def stop(self) -> None:
        """Write what is queued, then end the thread."""
        if self._thread.is_alive():
            self.pending.append(_STOP)
            self._wake.set()
            self._thread.join()

    def _run(self) -> None:
        while True:
            self._wake.wait(WRITER_POLL_S)
            self._wake.clear()
            # Only what is queued now: taking what callers queue meanwhile, a few records at a
            # time, would take the GIL from them every few records.
            todo = len(self.pending)
            while todo > 0:
                batch, marker = self._take_batch(min(todo, MAX_BATCH))
                todo -= len(batch) + (marker is not None)
                if batch:
                    self._write(batch)
                if marker is _STOP:
                    return
                if marker is _REOPEN:
                    self._reopen_outputs()
                if isinstance(marker, threading.Event):  # a flush: everything before it is out
                    marker.set()
                if self._has_room():
                    with self._room:
                        self._room.notify_all()

    def _take_batch(self, limit: int) -> tuple[list[logging.LogRecord], object]:
        """Up to ``limit`` records, and the flush or stop marker that ended the batch, if any."""
        popleft = self.pending.popleft
        batch: list[logging.LogRecord] = []
        while len(batch) < limit:
            try:
                item = popleft()
            except IndexError:
                break
            if not isinstance(item, logging.LogRecord):
                return batch, item
            batch.append(item)
        return batch, None

    def _reopen_outputs(self) -> None:
        for output in self._outputs:
            try:
                output.reopen()
            except OSError as exc:  # the next batch tries the file again
                print(f"tradetui: reopening the log file failed: {exc}", file=sys.stderr)

    def _write(self, batch: list[logging.LogRecord]) -> None:
        try:
            records, rendered = self._render(batch)
        except Exception as exc:  # noqa: BLE001 - a batch we cannot redact is not written
            print(f"tradetui: rendering log records failed: {exc!r}", file=sys.stderr)
            return
        for output in self._outputs:
            try:
                output.emit_batch(records, rendered)
                output.flush()
            except Exception as exc:  # noqa: BLE001 - a full disk must not end the writer thread
                if id(output) not in self._failing:  # once per outage, not once per batch
                    print(f"tradetui: writing the log failed: {exc}", file=sys.stderr)
                self._failing.add(id(output))
            else:
                self._failing.discard(id(output))
        _count_written(records)


_written_lock = threading.Lock()
_written: dict[str, int] = {}


def _count_written(records: list[logging.LogRecord]) -> None:
    by_level: dict[str, int] = {}
    for record in records:
        by_level[record.levelname] = by_level.get(record.levelname, 0) + 1
    with _written_lock:
        for level, count in by_level.items():
            _written[level] = _written.get(level, 0) + count


def written_by_level() -> dict[str, int]:
    """Log records handed to the handlers so far in this process, by level name."""
    with _written_lock:
        return dict(_written)
