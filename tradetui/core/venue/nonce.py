"""Provides the nonce manager: strictly increasing ms-based nonces, optionally shared across processes."""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_BLOCK = 1000
"""Values reserved on disk per file touch while no other process is using the file."""
_RECORD_WIDTH = 20
_RECORD_BYTES = _RECORD_WIDTH + 1


class NonceManager:
    """Hands out strictly increasing integer nonces: ``max(now_ms, last + 1)``.

    Installed into ccxt as ``exchange.nonce = manager.next_nonce``. With ``path``, the
    high-water mark lives in that file under an exclusive ``flock``, so processes (or restarts)
    sharing one API key never hand out the same nonce.

    Why reserving blocks is safe: a value is only ever returned from a range whose top (the
    "ceiling") was written to the file, under the lock, before the first value of the range was
    returned; every new range starts above the ceiling found in the file. Ranges therefore never
    overlap, in this process, in another one, or after a crash and restart. Values left unused at
    the top of a range are simply skipped, which is fine: exchanges want nonces to increase, not
    to be dense.

    Kraken also wants them to *arrive* in increasing order per key, so a process only keeps
    drawing from its range while the file still holds its own ceiling (one small ``pread`` per
    nonce). As soon as another process reserves, it re-reserves above that one, and while the
    file is contended it reserves one value at a time instead of a block, so two processes
    leapfrog by one instead of racing each other ahead of the clock. Uncontended, the file is
    written once per ``block`` nonces (about once a second at ordinary request rates).
    """

    def __init__(
        self,
        path: Path | None = None,
        clock: Callable[[], float] = time.time,
        *,
        block: int = DEFAULT_BLOCK,
    ) -> None:
        if block < 1:
            raise ValueError("block must be at least 1")
        self._path = path
        self._clock = clock
        self._block = block
        self._last = 0
        self._ceiling = 0
        """Top of the range this process reserved; 0 before the first reservation."""
        self._fd: int | None = None
        self._fd_pid = 0
        self._lock = threading.Lock()

    @property
    def last_nonce(self) -> int:
        """The last nonce handed out (0 before the first)."""
        return self._last

    def next_nonce(self) -> int:
        """Return a nonce greater than every nonce handed out before (here, or via ``path``)."""
        with self._lock:
            candidate = max(int(self._clock() * 1000), self._last + 1)
            if self._path is not None and (
                candidate > self._ceiling or self._stored_ceiling_hint() != self._ceiling
            ):
                candidate = self._reserve(candidate)
            self._last = candidate
            return candidate

    def bump(self, min_value: int) -> None:
        """Make every later nonce at least ``min_value`` (after the exchange said InvalidNonce)."""
        with self._lock:
            self._last = max(self._last, min_value - 1)

    def close(self) -> None:
        """Close the file (a later nonce reopens it)."""
        with self._lock:
            self._close_fd()

    def _reserve(self, candidate: int) -> int:
        """Reserve a range starting at or above ``candidate`` and above the file's ceiling."""
        fd = self._file()
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            stored = self._read_ceiling(fd)
            # Someone else wrote since our last reservation: stay one-at-a-time while they're active.
            contended = stored != self._ceiling
            start = max(candidate, stored + 1)
            ceiling = start + (1 if contended else self._block) - 1
            # Fixed-width record at offset 0: one small pwrite, never a half-empty file.
            os.pwrite(fd, f"{ceiling:0{_RECORD_WIDTH}d}\n".encode("ascii"), 0)
            self._ceiling = ceiling
            return start
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def _stored_ceiling_hint(self) -> int:
        """The file's ceiling read without the lock; only used to notice another writer."""
        return self._read_ceiling(self._file())

    def _read_ceiling(self, fd: int) -> int:
        raw = os.pread(fd, _RECORD_BYTES, 0)
        if not raw:
            return 0
        try:
            return int(raw)
        except ValueError:
            # Unreadable (hand-edited or torn by a crash mid-write): the clock still moves us on.
            log.warning("nonce file %s is unreadable; continuing from the clock", self._path)
            return 0

    def _file(self) -> int:
        # After fork the child must not share the parent's open file description: flock locks
        # belong to it, so parent and child would both "hold" the lock. Reopen and re-reserve.
        if self._fd is not None and self._fd_pid != os.getpid():
            self._fd = None
            self._ceiling = 0
        if self._fd is None:
            # Type narrowing for mypy; the value is set on this path.
            assert self._path is not None  # nosec B101
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            self._fd_pid = os.getpid()
        return self._fd

    def _close_fd(self) -> None:
        if self._fd is not None and self._fd_pid == os.getpid():
            os.close(self._fd)
        self._fd = None

    def __del__(self) -> None:
        try:
            self._close_fd()
        except (AttributeError, OSError):  # half-built instance, or interpreter teardown
            pass
