"""Tests the nonce manager: monotonic under any clock, unique across managers and processes."""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tradetui.core.venue.nonce import NonceManager


class FakeClock:
    """A settable clock in seconds."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _is_strictly_increasing(values: list[int]) -> bool:
    return all(a < b for a, b in zip(values, values[1:], strict=False))


def test_frozen_clock_still_gives_strictly_increasing_nonces() -> None:
    manager = NonceManager(clock=FakeClock())
    nonces = [manager.next_nonce() for _ in range(5000)]
    assert nonces[0] == 1_700_000_000_000
    assert nonces == list(range(nonces[0], nonces[0] + 5000))


def test_clock_going_backwards_never_repeats_a_nonce() -> None:
    clock = FakeClock()
    manager = NonceManager(clock=clock)
    first = manager.next_nonce()
    clock.now -= 3600
    assert manager.next_nonce() == first + 1


def test_nonces_follow_the_clock_when_it_is_ahead() -> None:
    clock = FakeClock()
    manager = NonceManager(clock=clock)
    manager.next_nonce()
    clock.now += 2.5
    assert manager.next_nonce() == 1_700_000_002_500


def test_bump_jumps_ahead(tmp_path: Path) -> None:
    manager = NonceManager(tmp_path / "nonce", clock=FakeClock())
    manager.next_nonce()
    manager.bump(1_800_000_000_000)
    assert manager.next_nonce() == 1_800_000_000_000
    assert manager.next_nonce() == 1_800_000_000_001


def test_bump_never_moves_backwards() -> None:
    manager = NonceManager(clock=FakeClock())
    last = manager.next_nonce()
    manager.bump(5)
    assert manager.next_nonce() == last + 1


def test_reserved_ceiling_is_persisted_so_a_restart_continues_above_it(tmp_path: Path) -> None:
    path = tmp_path / "nonce"
    clock = FakeClock()
    first_run = NonceManager(path, clock=clock, block=100)
    issued = [first_run.next_nonce() for _ in range(10)]
    first_run.close()
    assert int(path.read_text()) == issued[0] + 99  # the block's ceiling, not the last value
    second_run = NonceManager(path, clock=clock, block=100)
    assert second_run.next_nonce() > issued[0] + 99


def test_file_is_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "nonce"
    NonceManager(path).next_nonce()
    assert path.stat().st_mode & 0o777 == 0o600


def test_two_managers_sharing_a_file_interleave_in_strict_global_order(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "nonce"
    a, b = NonceManager(path, clock=clock), NonceManager(path, clock=clock)
    sequence = []
    for i in range(3000):
        sequence.append((a if i % 3 else b).next_nonce())
        if i % 500 == 0:
            clock.now += 0.25
    # Kraken rejects a nonce lower than the last one it accepted for the key, so the shared
    # sequence must increase in call order, not merely be free of duplicates.
    assert _is_strictly_increasing(sequence)


def test_garbage_in_the_file_does_not_stop_nonces(tmp_path: Path) -> None:
    path = tmp_path / "nonce"
    path.write_text("not a number\n")
    manager = NonceManager(path, clock=FakeClock())
    assert manager.next_nonce() == 1_700_000_000_000
    assert int(path.read_text()) >= 1_700_000_000_000


_operations = st.lists(
    st.one_of(
        st.tuples(st.just("nonce"), st.integers(0, 1)),
        st.tuples(st.just("clock"), st.integers(-5_000, 5_000)),
        st.tuples(st.just("bump"), st.integers(0, 3_000)),
    ),
    max_size=200,
)


@settings(max_examples=150, deadline=None)
@given(operations=_operations, block=st.integers(1, 50))
def test_shared_file_property_any_interleaving_clock_and_bumps(
    operations: list[tuple[str, int]], block: int
) -> None:
    clock = FakeClock()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "nonce"
        managers = [NonceManager(path, clock=clock, block=block) for _ in range(2)]
        issued: list[int] = []
        floor = 0
        for kind, value in operations:
            if kind == "nonce":
                nonce = managers[value].next_nonce()
                assert nonce >= int(clock.now * 1000)
                assert nonce >= floor
                issued.append(nonce)
            elif kind == "clock":
                clock.now += value / 1000
            else:
                floor = max(floor, (issued[-1] if issued else 0) + value)
                for manager in managers:
                    manager.bump(floor)
        assert _is_strictly_increasing(issued)
        for manager in managers:
            manager.close()


def _take_nonces(path: str, count: int, start_at: float) -> list[int]:
    manager = NonceManager(Path(path), block=50)
    # Start together, so the two processes really contend for the file.
    time.sleep(max(0.0, start_at - time.time()))
    return [manager.next_nonce() for _ in range(count)]


def test_two_processes_sharing_a_file_never_reuse_a_nonce(tmp_path: Path) -> None:
    path = str(tmp_path / "nonce")
    count = 30_000
    start_at = time.time() + 1.5
    # spawn, not fork: the workers must build their own manager and file descriptor from scratch.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        results = list(pool.map(_take_nonces, [path, path], [count, count], [start_at] * 2))
    for nonces in results:
        assert _is_strictly_increasing(nonces)
    union = set(results[0]) | set(results[1])
    assert len(union) == 2 * count


def test_forked_child_does_not_reuse_the_parents_block(tmp_path: Path) -> None:
    manager = NonceManager(tmp_path / "nonce", clock=FakeClock())
    parent_first = manager.next_nonce()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report one nonce and leave without running pytest's teardown
        os.close(read_end)
        os.write(write_end, str(manager.next_nonce()).encode())
        os._exit(0)
    os.close(write_end)
    child_nonce = int(os.read(read_end, 64))
    os.close(read_end)
    os.waitpid(pid, 0)
    parent_next = manager.next_nonce()
    assert child_nonce > parent_first + 999  # above the parent's whole reserved block
    assert parent_next > child_nonce
