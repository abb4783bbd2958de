"""A fault-and-crash campaign: a live engine trades a standalone simulator that loses acks, fails
REST calls and drops its sockets; it is SIGKILLed with orders in flight, restarted, and finally
stopped cleanly. At that clean stop its database must equal the venue, read with plain ccxt."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_crash import PULSE_ON_PURPOSE, engine_env, fills_so_far, local_rows
from tests.integration.test_ctl import ctl, status
from tradetui.core.venue.client import create_exchange
from tradetui.core.venue.connect import nonce_file

FAULTS = "lose_ack_rate=0.2,error_rate=0.1,ws_disconnect=3"
CRASHES = 3
VENUE_STATUS = {"open": "OPEN", "closed": "FILLED", "canceled": "CANCELED", "expired": "CANCELED"}


@pytest.fixture
def faulty_sim() -> Iterator[dict[str, Any]]:
    sim = subprocess.Popen(
        [sys.executable, "-m", "tradetui", "sim", "--port", "0", "--faults", FAULTS],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert sim.stdout is not None
    yield json.loads(sim.stdout.readline())
    sim.send_signal(signal.SIGTERM)
    sim.wait(timeout=30)


def set_faults(info: dict[str, Any], **faults: object) -> None:
    request = urllib.request.Request(  # noqa: S310 - the simulator on loopback
        f"{info['rest']}/admin/faults",
        data=json.dumps(faults).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(request, timeout=10).close()  # noqa: S310


def started(process: subprocess.Popen[bytes], data_dir: Path, log: Path) -> dict[str, Any]:
    """Wait until the engine has connected and reconciled; a start that ends is a failure."""
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            pytest.fail(f"a start ended (exit {process.returncode}): {log.read_text()[-2000:]}")
        if (data_dir / "control.sock").exists():
            result = ctl(data_dir, "status", "--json")
            if result.returncode == 0 and json.loads(result.stdout)["phase"] == "running":
                return status(data_dir)
        if time.monotonic() > deadline:
            pytest.fail(f"the engine did not start within 60s: {log.read_text()[-2000:]}")
        time.sleep(0.1)


def test_after_crashes_under_faults_a_clean_stop_leaves_the_database_equal_to_the_venue(
    faulty_sim: dict[str, Any], tmp_path: Path
) -> None:
    data_dir = tmp_path / "d"
    command = [sys.executable, "-m", "tradetui", "--no-ui", "--live", "--data-dir", str(data_dir)]
    env = engine_env(
        faulty_sim, TRADETUI_STRATEGY__INTERVAL_S="0.1", TRADETUI_STRATEGIES=PULSE_ON_PURPOSE
    )
    _, _, balance_before = asyncio.run(_venue_without_faults(faulty_sim))
    states_after_start = []
    for run in range(CRASHES + 1):
        log = tmp_path / f"run{run}.out"
        with log.open("wb") as out:
            engine = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            states_after_start.append(started(engine, data_dir, log)["state"])
            assert ctl(data_dir, "resume").returncode == 0
            if run < CRASHES:  # trade, then die with orders in flight
                target = fills_so_far(data_dir) + 3
                deadline = time.monotonic() + 40
                while fills_so_far(data_dir) < target and time.monotonic() < deadline:
                    time.sleep(0.05)
                engine.send_signal(signal.SIGKILL)
                engine.wait(timeout=10)
            else:  # the last session trades a little, then stops cleanly under the same faults
                time.sleep(2)
                engine.send_signal(signal.SIGTERM)
                assert engine.wait(timeout=60) == 0, log.read_text()[-2000:]
        finally:
            if engine.poll() is None:
                engine.kill()
                engine.wait()
    # The first live start on a data dir and every start after a crash come up PAUSED.
    assert states_after_start == ["PAUSED"] * (CRASHES + 1)

    orders, trades, balance_after = asyncio.run(_venue_without_faults(faulty_sim))
    ours = [o for o in orders if str(o["clientOrderId"]).startswith("tt")]
    assert ours, "the engine placed nothing on the venue"
    sends = Counter(o["clientOrderId"] for o in ours)
    assert max(sends.values()) == 1, "an order was sent twice"
    local = {
        row[0]: row[1:]
        for row in local_rows(
            data_dir, "SELECT client_id, venue_id, status, filled FROM orders WHERE mode = 'LIVE'"
        )
    }
    for order in ours:
        venue_id, state, filled = local[order["clientOrderId"]]
        assert venue_id == order["id"]
        expected = VENUE_STATUS[order["status"]]
        if expected == "OPEN" and Decimal(str(order["filled"])) > 0:
            expected = "PARTIALLY_FILLED"
        assert (state, Decimal(filled)) == (expected, Decimal(str(order["filled"]))), order["id"]
    on_venue = {o["clientOrderId"] for o in ours}
    for client_id, (_, state, _) in local.items():
        if client_id not in on_venue:
            assert state == "REJECTED", f"{client_id} is {state} locally but not on the venue"
    local_fills = {row[0] for row in local_rows(data_dir, "SELECT fill_id FROM fills")}
    assert local_fills == {t["id"] for t in trades}, "a fill was lost, or one is not the venue's"
    net: Counter[str] = Counter()
    for symbol, side, amount in local_rows(data_dir, "SELECT symbol, side, amount FROM fills"):
        net[symbol.split("/")[0]] += Decimal(amount) * (1 if side == "buy" else -1)
    for base, amount in net.items():
        moved = Decimal(str(balance_after["total"].get(base, 0))) - Decimal(
            str(balance_before["total"].get(base, 0))
        )
        assert amount == moved, f"{base}: fills say {amount}, the venue's balance moved {moved}"


async def _venue_without_faults(
    info: dict[str, Any],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], Any]:
    """The venue as plain ccxt reads it, with the faults off for the reading only."""
    set_faults(info, error_rate=0.0, lose_ack_rate=0.0, ws_disconnect=0)
    config = {
        "apiKey": info["api_key"],
        "secret": info["secret"],
        "enableRateLimit": False,
        "urls": {"api": {"public": info["rest"], "private": info["rest"]}},
    }
    # Share the engines' nonce file: they may have jumped past the clock after an InvalidNonce.
    venue = create_exchange("kraken", config, nonce_file(info["api_key"]))
    try:
        # Kraken pages closed orders and trades 50 at a time, newest first: read every page.
        closed = await _every_page(venue.fetch_closed_orders)
        trades = await _every_page(venue.fetch_my_trades)
        return await venue.fetch_open_orders() + closed, trades, await venue.fetch_balance()
    finally:
        await venue.close()
        set_faults(info, error_rate=0.1, lose_ack_rate=0.2, ws_disconnect=3)


async def _every_page(fetch: Any) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for offset in range(0, 10_000, 50):
        page = await fetch(None, None, None, {"ofs": offset})
        seen.update({item["id"]: item for item in page})
        if len(page) < 50:
            return list(seen.values())
    raise AssertionError("more than 10,000 items on the venue")
