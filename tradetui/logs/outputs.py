"""Provides the log writer's outputs: the rotated JSON-lines file and a batched stream (stdout)."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TextIO


class BatchOutput(Protocol):
    """Where the writer thread sends each batch of records, with what ``RenderBatch`` made of them."""

    def emit_batch(self, records: list[logging.LogRecord], rendered: list[Any]) -> None: ...

    def flush(self) -> None: ...

    def reopen(self) -> None:
        """Open the output's file again by name (nothing to do for a stream)."""

    def close(self) -> None: ...


FormatLine = Callable[[logging.LogRecord, Any], str]
"""Formats one record, given what ``RenderBatch`` made of it, as one line (no newline)."""


def _report(what: str, record: logging.LogRecord, exc: Exception) -> None:
    print(
        f"tradetui: {what} a {record.levelname} record from {record.name}: {exc!r}", file=sys.stderr
    )


class RotatingJsonLines:
    """Appends lines to an owner-only (0600) file, rotated before it would pass ``max_bytes``.

    Sizes are counted in encoded bytes, so no file ever exceeds the limit, and lines are written
    in one ``os.write`` per batch: ``flush()`` (called by the writer thread after each batch).
    Only the writer thread uses it (``close()`` runs after that thread has ended), so no lock.
    """

    def __init__(self, path: Path, max_bytes: int, backups: int, format_line: FormatLine) -> None:
        self._path = path
        self._max_bytes = max_bytes
        self._backups = backups
        self._format_line = format_line
        self._pending: list[str] = []
        self._pending_bytes = 0
        self._fd = self._open()
        self._size = os.fstat(self._fd).st_size

    def _open(self) -> int:
        fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)  # an existing file may predate us with looser bits
        return fd

    def emit_batch(self, records: list[logging.LogRecord], rendered: list[Any]) -> None:
        format_line = self._format_line
        lines: list[str] = []
        formatted: list[logging.LogRecord] = []
        for record, content in zip(records, rendered, strict=True):
            try:
                lines.append(format_line(record, content))
            except Exception as exc:  # noqa: BLE001 - one unprintable record must not cost the batch
                _report("formatting", record, exc)
                continue
            formatted.append(record)
        if not lines:
            return
        # Measured once per batch: the whole batch fits before the limit far more often than not.
        text = "\n".join(lines) + "\n"
        size = len(text) if text.isascii() else len(text.encode("utf-8", "backslashreplace"))
        if self._size + self._pending_bytes + size <= self._max_bytes:
            self._pending.append(text)
            self._pending_bytes += size
            return
        for record, line in zip(formatted, lines, strict=True):
            self._add_line(record, line + "\n")

    def _add_line(self, record: logging.LogRecord, line: str) -> None:
        """Queue one line, rotating first if it would take the file past the limit."""
        size = len(line) if line.isascii() else len(line.encode("utf-8", "backslashreplace"))
        if size > self._max_bytes:  # one record larger than a whole file: say so instead
            line = (
                f'{{"level":"ERROR","logger":"tradetui.logs","msg":"a {record.levelname} record '
                f'of {size} bytes from {record.name} exceeded the log file limit"}}\n'
            )
            size = len(line.encode("utf-8", "backslashreplace"))
        if self._size + self._pending_bytes + size > self._max_bytes:
            try:
                self._write_pending()
                self._rotate()
            except OSError as exc:
                _report("rotating the log file before", record, exc)
        self._pending.append(line)
        self._pending_bytes += size

    def flush(self) -> None:
        self._write_pending()

    def reopen(self) -> None:
        """Write what is pending, then open the path again: after logrotate moved the file away,
        lines go to a new file at the same name (SIGHUP)."""
        self.close()
        self._fd = self._open()
        self._size = os.fstat(self._fd).st_size

    def close(self) -> None:
        try:
            self.flush()
        finally:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def _write_pending(self) -> None:
        """Write the batch; on an error (a full disk) it is dropped, never kept to grow."""
        if not self._pending:
            return
        data = memoryview("".join(self._pending).encode("utf-8", "backslashreplace"))
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


class BatchedStream:
    """Writes a batch's lines to a stream in one call (``flush()``, from the writer thread), even
    on an unbuffered stdout (journald). The stream is left open: it is usually ``sys.stdout``."""

    def __init__(self, stream: TextIO, format_line: FormatLine) -> None:
        self._stream = stream
        self._format_line = format_line
        self._pending: list[str] = []

    def emit_batch(self, records: list[logging.LogRecord], rendered: list[Any]) -> None:
        for record, content in zip(records, rendered, strict=True):
            try:
                self._pending.append(self._format_line(record, content) + "\n")
            except Exception as exc:  # noqa: BLE001 - one unprintable record must not cost the batch
                _report("formatting", record, exc)

    def flush(self) -> None:
        if self._pending:
            text, self._pending = "".join(self._pending), []
            self._stream.write(text)
        self._stream.flush()

    def reopen(self) -> None:
        pass  # a stream (stdout) is not ours to reopen

    def close(self) -> None:
        self.flush()
