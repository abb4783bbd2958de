"""SIGKILL mid-trading with lost acks, then a restart: nothing sent twice, no fill lost."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_ctl import ctl, running
from tradetui.core.venue.client import create_exchange
from tradetui.core.venue.connect import nonce_file

STARTING = {"BTC": Decimal(1), "ETH": Decimal(10), "SOL": Decimal(100), "USD": Decimal(100_000)}


@pytest.fixture
def standalone_sim() -> Iterator[dict[str, Any]]:
    sim = subprocess.Popen(
        [sys.executable, "-m", "tradetui", "sim", "--port", "0", "--faults", "lose_ack_rate=0.3"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert sim.stdout is not None
    yield json.loads(sim.stdout.readline())
    sim.send_signal(signal.SIGTERM)
    sim.wait(timeout=30)


def engine_env(info: dict[str, Any], **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "TRADETUI_VENUE__EXCHANGE": "sim-external",
        "TRADETUI_VENUE__REST_URL": info["rest"],
        "TRADETUI_VENUE__WS_PUBLIC_URL": info["ws_public"],
        "TRADETUI_VENUE__WS_PRIVATE_URL": info["ws_private"],
        "TRADETUI_VENUE__UNKNOWN_ORDER_GRACE_S": "1",
        "TRADETUI_API_KEY": info["api_key"],
        "TRADETUI_API_SECRET": info["secret"],
        "TRADETUI_OPS__LOG_FORMAT": "json",  # the tests read the records on stdout
        **extra,
    }


PULSE_ON_PURPOSE = '[{"name": "pulse"}]'
"""The demo default never trades live: a live engine under test names pulse explicitly."""


def resume_when_running(data_dir: Path, process: subprocess.Popen[Any]) -> None:
    """The first live start on a data dir comes up PAUSED: resume it as an operator would."""
    deadline = time.monotonic() + 40
    while not ((data_dir / "control.sock").exists() and running(data_dir)):
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the engine did not start (exit {process.poll()})")
        time.sleep(0.05)
    assert ctl(data_dir, "resume").returncode == 0


def local_rows(data_dir: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(data_dir / "tradetui.db") as db:
        return db.execute(sql).fetchall()


def fills_so_far(data_dir: Path) -> int:
    try:
        return int(local_rows(data_dir, "SELECT COUNT(*) FROM fills")[0][0])
    except sqlite3.OperationalError:  # the engine has not created the schema yet
        return 0


def unresolved_orders(data_dir: Path) -> list[tuple[Any, ...]]:
    return local_rows(
        data_dir,
        "SELECT client_id, status FROM orders WHERE status IN ('PENDING_SUBMIT', 'UNKNOWN')",
    )


def wait_for(predicate: Callable[[], bool], what: str, within_s: float = 40) -> None:
    """Poll ``predicate`` until it holds; fail the test (never hang) after ``within_s`` seconds."""
    deadline = time.monotonic() + within_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {within_s}s waiting for {what}")
        time.sleep(0.05)


def read_until(process: subprocess.Popen[str], text: str, within_s: float = 40) -> str:
    """Read the process's stdout up to the first line holding ``text``; return what was read."""
    assert process.stdout is not None
    deadline = time.monotonic() + within_s
    lines: list[str] = []
    for line in process.stdout:  # ends when the process does
        lines.append(line)
        if text in line:
            return "".join(lines)
        if time.monotonic() > deadline:
            break
    pytest.fail(f"the engine did not log {text!r} within {within_s}s: {''.join(lines)[-2000:]}")


def messages(output: Path) -> list[str]:
    """The log messages an engine has written to ``output`` so far (JSON records)."""
    records = []
    for line in output.read_text().splitlines():
        if line.startswith("{"):  # the session summary table follows the records
            with contextlib.suppress(json.JSONDecodeError):  # a line still being written
                records.append(json.loads(line)["msg"])
    return records


async def venue_state(
    info: dict[str, Any],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], Any]:
    config = {
        "apiKey": info["api_key"],
        "secret": info["secret"],
        "enableRateLimit": False,
        "urls": {"api": {"public": info["rest"], "private": info["rest"]}},
    }
    # Share the engines' nonce file: they may have jumped past the clock after an InvalidNonce.
    venue = create_exchange("kraken", config, nonce_file(info["api_key"]))
    try:
        orders = await venue.fetch_open_orders() + await venue.fetch_closed_orders()
        return orders, await venue.fetch_my_trades(), await venue.fetch_balance()
    finally:
        await venue.close()


def test_a_killed_engine_restarts_without_duplicates_or_lost_fills(
    standalone_sim: dict[str, Any], tmp_path: Path
) -> None:
    data_dir = tmp_path / "d"
    command = [sys.executable, "-m", "tradetui", "--no-ui", "--live", "--data-dir", str(data_dir)]
    trading = subprocess.Popen(
        command,
        env=engine_env(
            standalone_sim,
            TRADETUI_STRATEGY__INTERVAL_S="0.1",
            TRADETUI_STRATEGIES=PULSE_ON_PURPOSE,
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    resume_when_running(data_dir, trading)
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if fills_so_far(data_dir) >= 4:
            break
    else:
        trading.kill()
        pytest.fail(f"the engine did not trade: {trading.communicate()[1]!r}")
    trading.send_signal(signal.SIGKILL)  # mid-flight: no clean shutdown of any kind
    trading.wait(timeout=10)

    # The restart reconciles inside its start-up; it is stopped once nothing is unresolved.
    reconciling = subprocess.Popen(
        command,
        env=engine_env(standalone_sim, TRADETUI_STRATEGY__ENABLED="false"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out = read_until(reconciling, "engine started")
        wait_for(lambda: unresolved_orders(data_dir) == [], "every order to be resolved")
        reconciling.send_signal(signal.SIGTERM)
        rest, err = reconciling.communicate(timeout=60)
    finally:
        if reconciling.poll() is None:
            reconciling.kill()
            reconciling.communicate()
    assert reconciling.returncode == 0, err
    messages = [
        json.loads(line)["msg"] for line in (out + rest).splitlines() if line.startswith("{")
    ]
    assert any("ended without a clean stop: starting PAUSED" in m for m in messages)
    assert local_rows(data_dir, "SELECT value FROM kv WHERE key = 'trading_state'") == [("PAUSED",)]

    orders, trades, balance = asyncio.run(venue_state(standalone_sim))
    ours = [o for o in orders if str(o["clientOrderId"]).startswith("tt")]
    assert ours, "the engine placed nothing on the venue"
    # Never sent twice: one venue order per client id.
    assert Counter(o["clientOrderId"] for o in ours).most_common(1)[0][1] == 1
    local = dict(local_rows(data_dir, "SELECT client_id, venue_id FROM orders WHERE mode='LIVE'"))
    assert unresolved_orders(data_dir) == []
    for order in ours:  # every venue order is known locally under the same venue id
        assert local[order["clientOrderId"]] == order["id"]
    # No fill lost: every venue trade is a local fill.
    local_fills = {row[0] for row in local_rows(data_dir, "SELECT fill_id FROM fills")}
    assert {t["id"] for t in trades} <= local_fills
    # Local positions equal what the venue's balances moved by.
    net: Counter[str] = Counter()
    for symbol, side, amount in local_rows(data_dir, "SELECT symbol, side, amount FROM fills"):
        net[symbol.split("/")[0]] += Decimal(amount) * (1 if side == "buy" else -1)
    for asset in ("BTC", "ETH", "SOL"):
        moved = Decimal(str(balance["total"][asset])) - STARTING[asset]
        assert abs(moved - net[asset]) < Decimal("1e-8"), asset


def test_two_engines_on_one_key_recover_every_invalid_nonce(
    standalone_sim: dict[str, Any], tmp_path: Path
) -> None:
    env = engine_env(
        standalone_sim, TRADETUI_STRATEGY__INTERVAL_S="0.1", TRADETUI_STRATEGIES=PULSE_ON_PURPOSE
    )
    outputs = {name: tmp_path / f"{name}.out" for name in ("a", "b")}
    engines = []
    for name, output in outputs.items():
        # Output to files, read while both run: a pipe nobody reads could fill up and stall one.
        with output.open("w") as sink:
            engines.append(
                subprocess.Popen(
                    [sys.executable, "-m", "tradetui", "--no-ui", "--live"]
                    + ["--data-dir", str(tmp_path / name)],
                    env=env,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            )

    def each_sent(count: int) -> bool:
        return all(
            sum("order" in m and "sent" in m for m in messages(output)) >= count
            for output in outputs.values()
        )

    try:
        for name, engine in zip(outputs, engines, strict=True):
            resume_when_running(tmp_path / name, engine)
        # Both trade at once on the one key, each sending several signed orders: the overlap is
        # what makes their nonces collide.
        wait_for(lambda: each_sent(4), "four orders sent by each engine")
        for engine in engines:
            engine.send_signal(signal.SIGTERM)
        returncodes = [engine.wait(timeout=60) for engine in engines]
    finally:
        for engine in engines:
            if engine.poll() is None:
                engine.kill()
                engine.wait()
    assert returncodes == [0, 0], [output.read_text()[-2000:] for output in outputs.values()]
    every_message = [m for output in outputs.values() for m in messages(output)]
    unrecovered = [m for m in every_message if "nonce" in m.lower() and "retried once" not in m]
    assert unrecovered == []
