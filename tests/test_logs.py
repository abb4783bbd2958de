"""Tests JSON-lines logging: redaction everywhere, file permissions, the sink and idempotent setup."""

from __future__ import annotations

import json
import logging
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tradetui.logs import (
    LOG_FILE_NAME,
    flush_logging,
    redact,
    register_secret,
    setup_logging,
    shutdown_logging,
)

SECRET = "kQ9vZ+2c/Yx8H0aB3nL5mP7rT1uW4eS6dF8gJ0kM2oQ4sU6wY8A=="


@pytest.fixture(autouse=True)
def _shutdown() -> Iterator[None]:
    yield
    shutdown_logging()


def _file_lines(log_dir: Path) -> list[dict[str, object]]:
    text = (log_dir / LOG_FILE_NAME).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def test_registered_secret_is_masked_in_file_stdout_sink_extras_and_tracebacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    register_secret("hunter2-is-my-password")
    sink = setup_logging(tmp_path, "DEBUG", stdout=True)
    log = logging.getLogger("tradetui.test")
    log.info("using %s", "hunter2-is-my-password", extra={"cfg": {"k": ["hunter2-is-my-password"]}})
    try:
        raise RuntimeError("boom hunter2-is-my-password")
    except RuntimeError:
        log.exception("failed")
    flush_logging()
    written = (tmp_path / LOG_FILE_NAME).read_text(encoding="utf-8")
    out = capsys.readouterr().out
    sink_text = " ".join(line.message for line in sink.lines())
    for text in (written, out, sink_text):
        assert "hunter2" not in text
        assert "***" in text
    records = _file_lines(tmp_path)
    assert records[0]["msg"] == "using ***"
    assert records[0]["cfg"] == {"k": ["***"]}
    assert records[0]["level"] == "INFO" and records[0]["logger"] == "tradetui.test"
    assert str(records[0]["ts"]).endswith("Z")
    assert "RuntimeError: boom ***" in str(records[1]["exc"])


def test_redact_masks_key_shaped_runs_and_credential_fields_but_keeps_ordinary_text() -> None:
    assert redact(f"sig {SECRET} end") == "sig *** end"
    assert redact("API-Sign: abc") == "API-Sign: ***"
    assert redact('{"secret": "xyz", "n": 1}') == '{"secret": "***", "n": 1}'
    assert redact("nonce=1&apiKey=ABC&x=1") == "nonce=1&apiKey=***&x=1"
    ordinary = "order 3f2a9c4e-1b2d-4c5e-9f8a-0123456789ab filled 0.01 BTC/USD at 60000.0"
    assert redact(ordinary) == ordinary
    assert redact("a" * 40) == "a" * 40


def test_urls_in_ccxts_debug_lines_stay_readable_while_their_credentials_are_masked() -> None:
    """Guards `--debug`'s request lines: '/' is base64 too, so a URL's port and path formed one
    key-shaped run and came out as `http://127.0.0.1:***`."""
    for name in ("GetWebSocketsToken", "Balance", "CancelAllOrdersAfter"):
        url = f"http://127.0.0.1:41315/0/private/{name}"
        line = f"POST {url}, Request: {{'API-Key': 'k', 'API-Sign': 's'}} nonce=1796408366227"
        assert redact(line) == (
            f"POST {url}, Request: {{'API-Key': '***', 'API-Sign': '***'}} nonce=1796408366227"
        )
    assert SECRET[:40] not in redact(f"wss://example.test:443/hooks/{SECRET[:40]}/end")
    assert SECRET[:40] not in redact(f"POST http://127.0.0.1:41315/0/{SECRET[:40]}")
    assert redact(f"url http://h:1/p then {SECRET}") == "url http://h:1/p then ***"


def test_log_file_is_owner_only(tmp_path: Path) -> None:
    setup_logging(tmp_path)
    logging.getLogger("tradetui").warning("hello")
    flush_logging()
    mode = stat.S_IMODE((tmp_path / LOG_FILE_NAME).stat().st_mode)
    assert mode == 0o600


def test_setup_twice_does_not_duplicate_records(tmp_path: Path) -> None:
    setup_logging(tmp_path)
    sink = setup_logging(tmp_path)
    logging.getLogger("tradetui").warning("once")
    flush_logging()
    assert [r["msg"] for r in _file_lines(tmp_path)] == ["once"]
    assert [line.message for line in sink.lines()] == ["once"]


def test_sink_lines_after_seq_and_level_filter(tmp_path: Path) -> None:
    sink = setup_logging(None, "INFO")
    log = logging.getLogger("tradetui.x")
    log.debug("hidden")
    for i in range(3):
        log.info("m%d", i)
    logging.getLogger("somelib").info("library chatter")
    logging.getLogger("somelib").warning("library warning")
    flush_logging()
    assert [line.message for line in sink.lines()] == ["m0", "m1", "m2", "library warning"]
    assert [line.message for line in sink.lines(after_seq=2)] == ["m2", "library warning"]
    assert sink.last_seq == 4
    assert sink.lines(after_seq=sink.last_seq) == []


def test_rotation_keeps_backups_owner_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tradetui.logs.MAX_LOG_BYTES", 2_000)
    setup_logging(tmp_path)
    for i in range(200):
        logging.getLogger("tradetui").warning("line %d of the rotation test", i)
    flush_logging()
    backups = sorted(tmp_path.glob(LOG_FILE_NAME + ".*"))
    assert [p.name for p in backups] == [f"{LOG_FILE_NAME}.{i}" for i in range(1, 6)]
    for path in [tmp_path / LOG_FILE_NAME, *backups]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
