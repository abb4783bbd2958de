"""`tradetui --no-ui` end to end: a real process trading the embedded simulator on paper."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path


def run_tradetui(*args: str, data_dir: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tradetui", *args, "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )


def paper_fills(data_dir: Path) -> int:
    database = data_dir / "tradetui.db"
    if not database.exists():  # connecting would create it
        return 0
    try:
        with sqlite3.connect(database) as db:
            return int(db.execute("SELECT COUNT(*) FROM fills WHERE mode = 'PAPER'").fetchone()[0])
    except sqlite3.OperationalError:  # the engine has not created the schema yet
        return 0


def stop_after_first_paper_fill(process: subprocess.Popen[str], data_dir: Path) -> tuple[str, str]:
    """Let a headless run trade until its first paper fill (30 s at most), then stop it as an
    operator would (SIGTERM); returns its stdout and stderr."""
    deadline = time.monotonic() + 30
    while paper_fills(data_dir) < 1 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    return process.communicate(timeout=60)


def test_headless_run_trades_on_paper_audits_and_logs_then_exits_0(tmp_path: Path) -> None:
    data_dir = tmp_path / "d"
    process = run_tradetui("--no-ui", data_dir=data_dir, TRADETUI_STRATEGY__INTERVAL_S="0.3")
    out, err = stop_after_first_paper_fill(process, data_dir)
    assert process.returncode == 0, err
    with sqlite3.connect(data_dir / "tradetui.db") as db:
        fills = db.execute("SELECT COUNT(*) FROM fills WHERE mode = 'PAPER'").fetchone()[0]
        orders = db.execute("SELECT COUNT(*) FROM orders").fetchone()[0]
        approved = db.execute("SELECT COUNT(*) FROM audit WHERE client_id IS NOT NULL").fetchone()[
            0
        ]
    assert fills >= 1
    assert approved == orders >= 1  # every order attempt has its audit row
    log_lines = (data_dir / "logs" / "tradetui.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in log_lines]
    assert any("engine started" in r["msg"] for r in records)
    assert any("tradetui.engine: engine stopped" in line for line in out.splitlines())


def test_headless_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    process = run_tradetui("--no-ui", data_dir=tmp_path / "d")
    deadline = time.monotonic() + 30
    assert process.stdout is not None
    for line in process.stdout:
        if "engine started" in line or time.monotonic() > deadline:
            break
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)
    assert process.returncode == 0


def test_a_bad_config_file_is_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[risk]\nmax_spread_bps = 'wide'\n")
    process = run_tradetui("--no-ui", "--config", str(config), data_dir=tmp_path / "d")
    out, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert err.strip().splitlines() == [
        "tradetui: invalid setting risk.max_spread_bps: Input should be a valid number, "
        "unable to parse string as a number"
    ]


def test_a_venue_that_answers_nonsense_is_one_line_exit_2_and_the_process_ends(
    tmp_path: Path,
) -> None:
    """Guards against a start-up failure leaving the store's thread alive (the process hung)."""
    script = tmp_path / "bad_venue.py"
    script.write_text(
        "import asyncio\n"
        "from aiohttp import web\n"
        "async def refuse(request):\n"
        "    return web.json_response({'error': ['EAPI:Invalid key'], 'result': {}})\n"
        "async def main():\n"
        "    app = web.Application()\n"
        "    app.router.add_route('*', '/{tail:.*}', refuse)\n"
        "    runner = web.AppRunner(app)\n"
        "    await runner.setup()\n"
        "    site = web.TCPSite(runner, '127.0.0.1', 0)\n"
        "    await site.start()\n"
        "    print(runner.addresses[0][1], flush=True)\n"
        "    await asyncio.sleep(60)\n"
        "asyncio.run(main())\n"
    )
    venue = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert venue.stdout is not None
        url = f"http://127.0.0.1:{venue.stdout.readline().strip()}"
        process = run_tradetui(
            "--no-ui",
            "--run-for",
            "5",
            data_dir=tmp_path / "d",
            TRADETUI_VENUE__EXCHANGE="sim-external",
            TRADETUI_VENUE__REST_URL=url,
            TRADETUI_VENUE__WS_PUBLIC_URL="ws://127.0.0.1:1/v2",
            TRADETUI_VENUE__WS_PRIVATE_URL="ws://127.0.0.1:1/auth/v2",
        )
        out, err = process.communicate(timeout=60)  # a hang fails here
    finally:
        venue.kill()
        venue.wait()
    assert process.returncode == 2
    assert err.strip().splitlines() == [
        f"tradetui: venue sim ({url}) did not list its markets: AuthenticationError: "
        'kraken {"error": ["EAPI:Invalid key"], "result": {}}'
    ]
