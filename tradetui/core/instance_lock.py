"""Provides the single-engine lock: at most one engine runs on a data dir at a time."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import time
from pathlib import Path

LOCK_FILE_NAME = "engine.lock"


class InstanceLockError(Exception):
    """Another engine holds the data dir; the message names its pid and what to do."""


class InstanceLock:
    """An exclusive, non-blocking ``flock`` on ``<data-dir>/engine.lock``.

    ``flock`` belongs to the open file description, so two locks in one process conflict just as
    two processes do, and the kernel drops the lock when its holder dies, however it dies. The
    file records the holder's pid, command and start time for the message the next one shows.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        """The directory this lock guards."""
        self.path = data_dir / LOCK_FILE_NAME
        """The lock file (owner-only)."""
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock or raise `InstanceLockError` naming the pid that holds it."""
        if self._fd is not None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise InstanceLockError(
                f"data dir {self.data_dir} is in use by another tradetui engine ({holder}); "
                "stop it or use --data-dir"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        os.fchmod(fd, 0o600)  # the file may predate us with looser permissions
        record = {"pid": os.getpid(), "command": " ".join(sys.argv), "started_at": time.time()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Give the lock up; does nothing when this object does not hold it."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        # Emptied while still held, so the file never names a holder that has gone.
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing the last descriptor of the description releases the flock


def _read_holder(fd: int) -> str:
    """Describe the holder from the lock file: "pid 1234", or "pid unknown" if unreadable."""
    try:
        record = json.loads(os.pread(fd, 4096, 0))
        pid = int(record["pid"])
    except (OSError, ValueError, TypeError, KeyError):
        # The holder writes its record right after locking; this is the instant in between.
        return "pid unknown"
    return f"pid {pid}"
