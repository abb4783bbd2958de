"""The data dir's engine lock: one holder at a time, named in the refusal, freed when it dies."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tradetui.core.instance_lock import InstanceLock, InstanceLockError

HOLD_LOCK = (
    "import sys, time\n"
    "from pathlib import Path\n"
    "from tradetui.core.instance_lock import InstanceLock\n"
    "InstanceLock(Path(sys.argv[1])).acquire()\n"
    "print('locked', flush=True)\n"
    "time.sleep(600)\n"
)


@pytest.fixture
def lock(tmp_path: Path) -> Iterator[InstanceLock]:
    held = InstanceLock(tmp_path)
    held.acquire()
    yield held
    held.release()


def test_a_second_lock_in_the_same_process_is_refused_naming_the_holder_pid(
    lock: InstanceLock, tmp_path: Path
) -> None:
    with pytest.raises(InstanceLockError) as refused:
        InstanceLock(tmp_path).acquire()
    assert str(refused.value) == (
        f"data dir {tmp_path} is in use by another tradetui engine (pid {os.getpid()}); "
        "stop it or use --data-dir"
    )
    assert lock.held


def test_a_released_lock_can_be_taken_again(lock: InstanceLock, tmp_path: Path) -> None:
    lock.release()
    again = InstanceLock(tmp_path)
    again.acquire()
    try:
        assert again.held
        with pytest.raises(InstanceLockError):
            lock.acquire()
    finally:
        again.release()


def test_the_lock_file_is_owner_only(lock: InstanceLock) -> None:
    assert stat.S_IMODE(lock.path.stat().st_mode) == 0o600


def test_a_lock_held_by_another_process_blocks_until_that_process_is_killed(
    tmp_path: Path,
) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "locked\n"
        with pytest.raises(InstanceLockError, match=rf"\(pid {holder.pid}\)"):
            InstanceLock(tmp_path).acquire()
    finally:
        holder.kill()
        holder.wait(timeout=30)
    freed = InstanceLock(tmp_path)
    freed.acquire()  # the kernel dropped the dead holder's flock; nobody cleaned up after it
    assert freed.held
    freed.release()
