"""Tests standard output's log formats: readable lines by default, JSON lines on request."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tradetui.logs import LOG_FILE_NAME, flush_logging, setup_logging, shutdown_logging

HUMAN_LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR|CRITICAL) +[\w.]+: "
)


@pytest.fixture(autouse=True)
def _shutdown() -> Iterator[None]:
    yield
    shutdown_logging()


def test_human_stdout_is_one_line_with_time_level_logger_message_and_extras(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging(tmp_path, "INFO", stdout=True)
    logging.getLogger("tradetui.engine").warning(
        "trading state %s -> %s",
        "ACTIVE",
        "HALTED",
        extra={"event": "trading_state", "note": "two words", "n": 3, "ok": True},
    )
    flush_logging()
    [line] = capsys.readouterr().out.splitlines()
    assert HUMAN_LINE.match(line), line
    assert line.endswith(
        "WARNING tradetui.engine: trading state ACTIVE -> HALTED  "
        'event=trading_state note="two words" n=3 ok=true'
    )
    # The file stays JSON lines whatever stdout shows.
    [record] = [json.loads(s) for s in (tmp_path / LOG_FILE_NAME).read_text().splitlines()]
    assert record["msg"] == "trading state ACTIVE -> HALTED" and record["note"] == "two words"


def test_human_stdout_puts_the_traceback_under_its_line(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging(None, "INFO", stdout=True)
    try:
        raise ValueError("bad tick")
    except ValueError:
        logging.getLogger("tradetui.x").exception("strategy failed")
    flush_logging()
    lines = capsys.readouterr().out.splitlines()
    assert HUMAN_LINE.match(lines[0]) and lines[0].endswith("ERROR   tradetui.x: strategy failed")
    assert lines[1] == "Traceback (most recent call last):"
    assert lines[-1] == "ValueError: bad tick"


def test_json_stdout_is_one_object_per_record(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging(None, "INFO", stdout=True, stdout_format="json")
    logging.getLogger("tradetui.engine").info("fill %s", "BTC/USD", extra={"event": "fill"})
    flush_logging()
    [line] = capsys.readouterr().out.splitlines()
    record = json.loads(line)
    assert {k: record[k] for k in ("level", "logger", "msg", "event")} == {
        "level": "INFO",
        "logger": "tradetui.engine",
        "msg": "fill BTC/USD",
        "event": "fill",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["ts"])


def _headless(*args: str, **env: str) -> list[str]:
    """Stdout lines of a one-second headless session (/health off: tests run side by side)."""
    result = subprocess.run(
        [sys.executable, "-m", "tradetui", "--no-ui", "--run-for", "1", *args],
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, "TRADETUI_OPS__HTTP_ENABLED": "false", **env},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_headless_logs_readable_lines_by_default(tmp_path: Path) -> None:
    lines = _headless("--data-dir", str(tmp_path / "d"))
    started = [line for line in lines if "engine started" in line]
    assert len(started) == 1 and HUMAN_LINE.match(started[0]), lines
    assert " INFO    tradetui.engine: engine started: PAPER mode on sim " in started[0]
    assert not any(line.startswith("{") for line in lines)


def test_log_format_json_flag_beats_the_config_and_prints_json_lines(tmp_path: Path) -> None:
    lines = _headless(
        "--data-dir", str(tmp_path / "d"), "--log-format", "json", TRADETUI_OPS__LOG_FORMAT="human"
    )
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert any(r["msg"].startswith("engine started") for r in records)
    assert any(r["msg"] == "engine stopped" for r in records)
    assert not any(HUMAN_LINE.match(line) for line in lines)


def test_ops_log_format_json_from_the_environment_applies_without_the_flag(tmp_path: Path) -> None:
    lines = _headless("--data-dir", str(tmp_path / "d"), TRADETUI_OPS__LOG_FORMAT="json")
    assert any(
        json.loads(line)["msg"] == "engine stopped" for line in lines if line.startswith("{")
    )
