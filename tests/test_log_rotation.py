"""Tests the log file's size bound with the real setup: 10 MiB x (1 + 5 backups), nothing more."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tradetui.logs import (
    LOG_BACKUPS,
    LOG_FILE_NAME,
    MAX_LOG_BYTES,
    flush_logging,
    setup_logging,
    shutdown_logging,
)

MIB = 1024 * 1024
FILLER = "rotation filler text " * 780  # about 16 KB a record: 4k records pass 64 MiB


@pytest.fixture(autouse=True)
def _shutdown() -> Iterator[None]:
    yield
    shutdown_logging()


def test_writing_over_60_mb_keeps_at_most_six_files_none_over_10_mib_and_drops_only_the_oldest(
    tmp_path: Path,
) -> None:
    assert (MAX_LOG_BYTES, LOG_BACKUPS) == (10 * MIB, 5)
    setup_logging(tmp_path, "INFO")
    log = logging.getLogger("tradetui.rotation")
    records = 64 * MIB // len(FILLER) + 1
    for index in range(records):
        log.info("record %d %s", index, FILLER, extra={"index": index})
    flush_logging()

    files = sorted(tmp_path.iterdir())
    assert {p.name for p in files} == {LOG_FILE_NAME} | {
        f"{LOG_FILE_NAME}.{n}" for n in range(1, LOG_BACKUPS + 1)
    }
    sizes = {p.name: p.stat().st_size for p in files}
    assert all(size <= MAX_LOG_BYTES for size in sizes.values()), sizes
    assert sum(sizes.values()) <= 60 * MIB
    # Oldest file first: what survives is one unbroken run of records ending with the last one.
    ordered = [tmp_path / f"{LOG_FILE_NAME}.{n}" for n in range(LOG_BACKUPS, 0, -1)]
    kept = [
        json.loads(line)["index"]
        for path in [*ordered, tmp_path / LOG_FILE_NAME]
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    assert kept == list(range(kept[0], records))
    assert kept[0] > 0  # more was written than the files hold: the oldest records are gone
