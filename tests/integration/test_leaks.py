"""The venue key and secret never leave the process: not in logs, the database, stdout or stderr.

A real `tradetui --no-ui --live --debug` session trades a standalone simulator while its signed
calls fail for a while and a user strategy raises with both strings in its message; a second run
dies from an unexpected exception carrying them. Then every byte the runs left behind is searched.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from textual.widgets import RichLog

from tests.conftest import quiet_settings
from tests.ui.test_ui_engine import SIZE, wait_for
from tradetui.logs import LOG_FILE_NAME, flush_logging, setup_logging, shutdown_logging
from tradetui.paths import DataPaths
from tradetui.runtime import build_engine
from tradetui.sim.server import SimServer
from tradetui.ui.app import TradeTuiApp
from tradetui.ui.widgets.logs import LogsPane

LEAKY_STRATEGY = '''\
"""A user strategy with a bug that puts the credentials in its exception."""

import os

from tradetui.core.strategies import Strategy


class Leaky(Strategy):
    name = "leaky"

    def on_snapshot(self, view):
        key, secret = os.environ["TRADETUI_API_KEY"], os.environ["TRADETUI_API_SECRET"]
        raise RuntimeError(f"signing with {key} and {secret} went wrong")
'''


@pytest.fixture
def sim() -> Iterator[dict[str, Any]]:
    """A standalone simulator process; yields its endpoints and the account's key and secret."""
    process = subprocess.Popen(
        # Not the embedded simulator's seed: other tests' engines would share this key's nonces.
        [
            sys.executable,
            "-m",
            "tradetui",
            "sim",
            "--port",
            "0",
            "--tick-interval",
            "0.1",
            "--seed",
            "31",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    try:
        yield json.loads(process.stdout.readline())
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def live_env(info: dict[str, Any], nonce_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "TRADETUI_NONCE_DIR": str(nonce_dir),
        "TRADETUI_VENUE__EXCHANGE": "sim-external",
        "TRADETUI_VENUE__REST_URL": info["rest"],
        "TRADETUI_VENUE__WS_PUBLIC_URL": info["ws_public"],
        "TRADETUI_VENUE__WS_PRIVATE_URL": info["ws_private"],
        "TRADETUI_API_KEY": info["api_key"],
        "TRADETUI_API_SECRET": info["secret"],
        "TRADETUI_STRATEGY__INTERVAL_S": "0.3",
        "TRADETUI_STRATEGY__ENABLED": "false",  # no demo default: it never trades live
    }


def set_faults(info: dict[str, Any], **faults: object) -> None:
    request = urllib.request.Request(
        f"{info['rest']}/admin/faults",
        data=json.dumps(faults).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def wait_for_log(
    process: subprocess.Popen[str], log_file: Path, *texts: str, within_s: float = 30
) -> None:
    """Until the session's log file holds every one of ``texts`` (fails if the process ends)."""
    deadline = time.monotonic() + within_s
    while True:
        logged = log_file.read_text() if log_file.exists() else ""
        if all(text in logged for text in texts):
            return
        assert process.poll() is None, f"the session exited with {process.returncode}"
        if time.monotonic() > deadline:
            pytest.fail(f"the session did not log {texts} within {within_s}s")
        time.sleep(0.05)


def forms_of(info: dict[str, Any]) -> list[str]:
    """The strings that must not appear: key and secret, plain and URL-encoded."""
    key, secret = info["api_key"], info["secret"]
    return sorted({key, secret, quote(key, safe=""), quote(secret, safe="")})


def assert_nowhere(forms: list[str], data_dir: Path, *streams: str) -> None:
    places: dict[str, bytes] = {f"stream {i}": s.encode() for i, s in enumerate(streams)}
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    assert any(p.name.startswith("tradetui.db") for p in files)
    assert any(p.name.startswith("tradetui.jsonl") for p in files)
    places.update({str(p): p.read_bytes() for p in files})
    for where, content in places.items():
        for form in forms:
            assert form.encode() not in content, f"{form[:6]}... leaked into {where}"


def test_a_debug_session_with_failing_signed_calls_and_a_raising_strategy_leaks_nothing(
    sim: dict[str, Any], tmp_path: Path
) -> None:
    strategy_file = tmp_path / "leaky.py"
    strategy_file.write_text(LEAKY_STRATEGY)
    config = tmp_path / "leaky.toml"
    config.write_text(
        textwrap.dedent(f"""\
        [[strategies]]
        path = "{strategy_file}"
        symbols = ["BTC/USD"]
        budget = 100
        """)
    )
    data_dir = tmp_path / "d"
    log_file = data_dir / "logs" / "tradetui.jsonl"
    # stdout and stderr go to files: pipes nobody reads while the session runs could fill up.
    out_file, err_file = tmp_path / "stdout", tmp_path / "stderr"
    with out_file.open("w") as stdout, err_file.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "tradetui", "--no-ui", "--live", "--debug"]
            + ["--config", str(config), "--data-dir", str(data_dir)],
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            text=True,
            env=live_env(sim, tmp_path / "nonces"),
        )
    try:
        # Each phase lasts until the log shows it happened, then the session ends on SIGTERM.
        wait_for_log(process, log_file, "strategy leaky failed in on_snapshot", "'API-Sign'")
        set_faults(sim, error_rate=1.0, error_kind="unavailable")  # every signed call fails
        wait_for_log(process, log_file, "EService:Unavailable")
        set_faults(sim, error_rate=1.0, error_kind="http5xx")
        wait_for_log(process, log_file, "503 Service Unavailable")
        set_faults(sim, error_rate=0.0)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    out, err = out_file.read_text(), err_file.read_text()
    assert process.returncode == 0, err
    log_text = log_file.read_text()
    # What the session must have done, or the search below proves nothing.
    assert "'API-Sign': '***'" in log_text and "'API-Key': '***'" in log_text  # ccxt's DEBUG
    assert "/0/private/GetWebSocketsToken, Request:" in log_text  # URLs stay readable
    assert "EService:Unavailable" in log_text  # signed calls refused
    assert "strategy leaky failed in on_snapshot" in log_text
    assert "signing with *** and *** went wrong" in log_text
    assert "live" in out.lower()
    assert_nowhere(forms_of(sim), data_dir, out, err)


CRASHING_RUN = """\
import sys

from tradetui import runtime
from tradetui.cli import run as cli

key, secret, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
real_run = runtime.run_headless


async def run_then_crash(*args, **kwargs):
    await real_run(*args, **kwargs)
    raise RuntimeError(f"unexpected state holding {key} and {secret}")


runtime.run_headless = run_then_crash
sys.exit(cli.main(argv))
"""


@pytest.mark.parametrize("debug", [False, True], ids=["one-line", "debug-traceback"])
def test_a_crash_report_masks_the_credentials(
    sim: dict[str, Any], tmp_path: Path, debug: bool
) -> None:
    """Guards the crash path: Python's own report would print the exception's message as is."""
    data_dir = tmp_path / "d"
    argv = ["--no-ui", "--live", "--run-for", "0.5", "--data-dir", str(data_dir)]
    process = subprocess.run(
        [sys.executable, "-c", CRASHING_RUN, sim["api_key"], sim["secret"], *argv]
        + (["--debug"] if debug else []),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=live_env(sim, tmp_path / "nonces"),
        timeout=60,
    )
    assert process.returncode == 1, process.stderr
    assert "RuntimeError: unexpected state holding *** and ***" in process.stderr
    assert ("Traceback (most recent call last)" in process.stderr) is debug
    log_text = (data_dir / "logs" / "tradetui.jsonl").read_text()
    crash = [json.loads(line) for line in log_text.splitlines() if "unexpected error" in line]
    assert crash and crash[-1]["level"] == "CRITICAL" and "holding *** and ***" in crash[-1]["exc"]
    assert_nowhere(forms_of(sim), data_dir, process.stdout, process.stderr)


async def test_the_console_of_a_failing_live_session_shows_no_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The captured screen and the Logs pane of a live session whose signed calls fail and
    whose strategy raises with the credentials in its message."""
    strategy_file = tmp_path / "leaky.py"
    strategy_file.write_text(LEAKY_STRATEGY)
    server = SimServer(host="127.0.0.1", port=0, seed=17)
    info = await server.start()
    monkeypatch.setenv("TRADETUI_NONCE_DIR", str(tmp_path / "nonces"))
    monkeypatch.setenv("TRADETUI_API_KEY", info.api_key)
    monkeypatch.setenv("TRADETUI_API_SECRET", info.secret)
    monkeypatch.setenv("TRADETUI_STRATEGY__INTERVAL_S", "0.3")  # the first tick raises soon
    venue = {
        "exchange": "sim-external",
        "rest_url": info.rest,
        "ws_public_url": info.ws_public,
        "ws_private_url": info.ws_private,
    }
    settings = quiet_settings(
        mode="live",
        # A short dead-man's timeout re-arms it (a signed call) every second, so the refused
        # calls show without waiting for the 5 s order sync.
        venue={**venue, "dead_man_s": 3.0},
        strategies=[{"path": str(strategy_file), "symbols": ["BTC/USD"], "budget": 100}],
    )
    sink = setup_logging(tmp_path / "logs", "DEBUG")
    engine = build_engine(settings, DataPaths(tmp_path / "data").ensure())
    app = TradeTuiApp(engine, settings, sink)
    screens: list[str] = []
    try:
        async with app.run_test(size=SIZE) as pilot:
            pane_lines = app.query_one(LogsPane).query_one(RichLog).lines

            def shown(text: str) -> bool:
                return text in "\n".join(line.text for line in pane_lines)

            await wait_for(pilot, lambda: shown("went wrong"), 30, "the strategy's error")
            screens.append(app.export_screenshot())
            server.faults.update({"error_rate": 1.0})  # every signed call fails from here
            await wait_for(pilot, lambda: shown("EService:Unavailable"), 30, "a refused call")
            screens.append(app.export_screenshot())
            assert shown("with *** and *** went wrong")  # the narrow pane wraps the line
    finally:
        flush_logging()
        shutdown_logging()
        await server.stop()
    written = (tmp_path / "logs" / LOG_FILE_NAME).read_text()
    shown_lines = "\n".join(line.message for line in sink.lines())
    assert "RuntimeError: signing with *** and *** went wrong" in shown_lines
    for form in forms_of({"api_key": info.api_key, "secret": info.secret}):
        for where, text in [("log", written), ("sink", shown_lines)] + [
            ("screen", s) for s in screens
        ]:
            assert form not in text, f"{form[:6]}... leaked into the {where}"
