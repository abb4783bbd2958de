"""Tests the log writer through the real setup: late rendering, extras, the lean record, backpressure."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import tradetui.logs
from tradetui.logs import LOG_FILE_NAME, flush_logging, setup_logging, shutdown_logging
from tradetui.logs.writer import MAX_PENDING, LeanLogRecord, lean_records_match


@pytest.fixture(autouse=True)
def _shutdown() -> Iterator[None]:
    yield
    shutdown_logging()


def _file_records(log_dir: Path) -> list[dict[str, object]]:
    text = (log_dir / LOG_FILE_NAME).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def test_a_mutable_argument_is_logged_as_it_was_when_logged(tmp_path: Path) -> None:
    """Guards the caller-side snapshot: only immutable arguments may be rendered late."""
    setup_logging(tmp_path, "INFO")
    position = {"BTC/USD": "0.5"}
    logging.getLogger("tradetui.test").info("position %s", position)
    position["BTC/USD"] = "0.0"  # before the writer thread has rendered the record
    flush_logging()
    assert [r["msg"] for r in _file_records(tmp_path)] == ["position {'BTC/USD': '0.5'}"]


def test_call_sites_with_as_many_extras_keep_their_own_fields(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Guards the extras cache keyed by attribute count, also when another handler (caplog's)
    adds ``message`` and ``asctime`` to the records."""
    setup_logging(tmp_path, "INFO")
    log = logging.getLogger("tradetui.test")
    caplog.set_level(logging.INFO, logger="tradetui")
    log.info("fill", extra={"event": "fill", "mode": "paper"})
    log.info("order", extra={"order_id": "abc-1", "side": "buy"})
    log.info("both", extra={"event": "halt", "mode": "live", "side": "sell"})
    log.info("fill again", extra={"event": "fill", "mode": "live"})
    flush_logging()
    extras = [
        {k: v for k, v in r.items() if k not in {"ts", "level", "logger", "msg"}}
        for r in _file_records(tmp_path)
    ]
    assert extras == [
        {"event": "fill", "mode": "paper"},
        {"order_id": "abc-1", "side": "buy"},
        {"event": "halt", "mode": "live", "side": "sell"},
        {"event": "fill", "mode": "live"},
    ]
    assert len(caplog.records) == 4


def test_the_lean_record_is_installed_only_over_the_stdlib_record_and_then_restored(
    tmp_path: Path,
) -> None:
    assert lean_records_match()  # on the Python the project runs on; elsewhere it falls back
    setup_logging(tmp_path, "INFO")
    assert logging.getLogRecordFactory() is LeanLogRecord
    shutdown_logging()
    assert logging.getLogRecordFactory() is logging.LogRecord

    def custom(*args: object, **kwargs: object) -> logging.LogRecord:
        return logging.LogRecord(*args, **kwargs)  # type: ignore[arg-type]

    logging.setLogRecordFactory(custom)
    try:
        setup_logging(tmp_path, "INFO")
        assert logging.getLogRecordFactory() is custom
        shutdown_logging()
        assert logging.getLogRecordFactory() is custom
    finally:
        logging.setLogRecordFactory(logging.LogRecord)


def test_a_caller_waits_for_a_stuck_writer_instead_of_queueing_without_bound(
    tmp_path: Path,
) -> None:
    sink = setup_logging(tmp_path, "INFO")
    installed = tradetui.logs._installed
    assert installed is not None
    pending = installed.writer.pending
    log = logging.getLogger("tradetui.flood")
    records = MAX_PENDING + 600

    def flood() -> None:
        for index in range(records):
            log.info("record %d", index)

    caller = threading.Thread(target=flood)
    with sink._lines_lock:  # the writer thread stops at the sink, one batch in hand
        caller.start()
        deadline = time.monotonic() + 10
        while len(pending) <= MAX_PENDING and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
        assert caller.is_alive()  # waiting for room
        assert len(pending) == MAX_PENDING + 1
    caller.join(timeout=10)
    assert not caller.is_alive()
    flush_logging()
    assert len(_file_records(tmp_path)) == records
