"""`tradetui ctl` against a real headless engine process, over its Unix control socket."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tradetui.config import VenueSettings
from tradetui.core.venue.client import create_exchange
from tradetui.core.venue.connect import nonce_file
from tradetui.sim.server import SimInfo
from tradetui.sim.venue.accounts import make_credentials

# One worker runs this whole module, so its engine (a module fixture) starts once.
pytestmark = pytest.mark.xdist_group("ctl")

TRADING_ENV = {
    "TRADETUI_STRATEGY__INTERVAL_S": "0.3",
    # The pulse strategy loses its fees on every round trip and trades fast: without these the
    # cooldown and order-rate gates stop it within seconds.
    "TRADETUI_RISK__COOLDOWN_LOSSES": "1000",
    "TRADETUI_RISK__COOLDOWN_LOSSES_GLOBAL": "1000",
    "TRADETUI_RISK__MAX_ORDERS_PER_MINUTE": "1000",
}


def start_headless(data_dir: Path, *args: str) -> subprocess.Popen[bytes]:
    """`tradetui --no-ui [args]` on the embedded simulator; its output goes to files beside the
    data dir (a pipe nobody reads would fill up and stall the logging)."""
    with open(data_dir.parent / f"{data_dir.name}.out", "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "tradetui", "--no-ui", "--data-dir", str(data_dir), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **TRADING_ENV},
        )


def ctl(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tradetui", "ctl", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def status(data_dir: Path) -> dict[str, Any]:
    result = ctl(data_dir, "status", "--json")
    assert result.returncode == 0, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def wait_for_status(
    data_dir: Path, predicate: Callable[[dict[str, Any]], bool], what: str, within_s: float = 30
) -> dict[str, Any]:
    """Poll `ctl status --json` until ``predicate`` holds; fail (never hang) after ``within_s``."""
    deadline = time.monotonic() + within_s
    while True:
        doc = status(data_dir)
        if predicate(doc):
            return doc
        if time.monotonic() > deadline:
            seen = {k: doc[k] for k in ("state", "open_orders", "positions", "last_rejections")}
            pytest.fail(f"timed out after {within_s}s waiting for {what}; last status {seen}")
        time.sleep(0.2)


def running(data_dir: Path) -> bool:
    """The engine answers on its socket and has started (connected and reconciled)."""
    result = ctl(data_dir, "status", "--json")
    return result.returncode == 0 and json.loads(result.stdout).get("phase") == "running"


def wait_for_engine(process: subprocess.Popen[bytes], data_dir: Path) -> None:
    """Until the engine answers on its socket and has started (fails if the process ends first)."""
    deadline = time.monotonic() + 60
    # The socket file appears once the data dir is open; a `ctl` process before that is wasted.
    while not ((data_dir / "control.sock").exists() and running(data_dir)):
        if process.poll() is not None:
            log = (data_dir.parent / f"{data_dir.name}.out").read_text(errors="replace")
            pytest.fail(f"the engine exited with {process.returncode}: {log[-2000:]}")
        if time.monotonic() > deadline:
            pytest.fail("the engine's control socket did not answer within 60s")
        time.sleep(0.05)


def stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


@pytest.fixture(scope="module")
def engine_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The data dir of one headless engine, shared by this module's tests."""
    data_dir = tmp_path_factory.mktemp("ctl") / "d"
    process = start_headless(data_dir)
    try:
        wait_for_engine(process, data_dir)
        yield data_dir
    finally:
        stop(process)


def positions_held(doc: dict[str, Any]) -> bool:
    return any(Decimal(p["amount"]) > 0 for p in doc["positions"].values())


def test_every_ctl_command_changes_the_state_it_names(engine_dir: Path) -> None:
    wait_for_status(engine_dir, lambda d: bool(d["open_orders"]), "the strategy's resting bids")

    paused = ctl(engine_dir, "pause")
    assert (paused.returncode, paused.stdout.strip()) == (0, "trading is PAUSED")
    assert status(engine_dir)["state"] == "PAUSED"
    # A bid approved just before the pause is on its way (written to disk, then placed): it
    # still lands. Only once none is in flight does the cancel-all below see every bid.
    wait_for_status(
        engine_dir,
        lambda d: all(o["status"] != "PENDING_SUBMIT" for o in d["open_orders"]),
        "the bids in flight to land",
    )

    # PAUSED places no new bids, so after cancel-all nothing is open.
    assert ctl(engine_dir, "cancel-all", "--yes").returncode == 0
    assert status(engine_dir)["open_orders"] == []

    assert ctl(engine_dir, "resume").stdout.strip() == "trading is ACTIVE"
    wait_for_status(engine_dir, lambda d: bool(d["open_orders"]), "new resting bids")

    halted = ctl(engine_dir, "halt", "--yes")
    assert halted.returncode == 0, halted.stderr
    after_halt = status(engine_dir)
    assert (after_halt["state"], after_halt["open_orders"]) == ("HALTED", [])

    refused = ctl(engine_dir, "resume")
    assert refused.returncode == 1
    assert "HALTED" in refused.stderr and len(refused.stderr.splitlines()) == 1

    assert ctl(engine_dir, "release", "--yes").returncode == 0
    assert status(engine_dir)["state"] == "PAUSED"

    assert ctl(engine_dir, "resume").returncode == 0
    wait_for_status(engine_dir, positions_held, "a position")
    flattened = ctl(engine_dir, "flatten", "--yes")
    assert (flattened.returncode, flattened.stdout.strip()) == (0, "flat; trading is HALTED")
    after_flatten = status(engine_dir)
    assert after_flatten["state"] == "HALTED"
    assert not positions_held(after_flatten)
    assert after_flatten["open_orders"] == []


@pytest.mark.parametrize("command", ["halt", "cancel-all", "flatten", "release"])
def test_destructive_commands_without_yes_are_refused_and_send_nothing(
    engine_dir: Path, command: str
) -> None:
    before = status(engine_dir)["state"]
    result = ctl(engine_dir, command)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and "--yes" in result.stderr
    assert status(engine_dir)["state"] == before


def test_status_prints_a_compact_summary(engine_dir: Path) -> None:
    doc = status(engine_dir)
    result = ctl(engine_dir, "status")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0] == f"{doc['state']} · {doc['mode']} · {doc['venue']} · connected"
    assert lines[1].startswith("equity ") and "day PnL" in lines[1]
    titles = [line.split(":")[0].split(" (")[0] for line in lines[2:5]]
    assert titles == ["open orders", "positions", "breakers"]
    assert lines[5].startswith("worst quote age ")


def test_the_control_socket_is_owner_only(engine_dir: Path) -> None:
    mode = os.stat(engine_dir / "control.sock").st_mode
    assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600


def test_ctl_without_an_engine_says_so_in_one_line(tmp_path: Path) -> None:
    result = ctl(tmp_path, "status")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"tradetui ctl: no engine is running on data dir {tmp_path} (no control socket)"
    ]


def test_sigusr1_halts_and_sigterm_exits_0_with_the_state_kept(tmp_path: Path) -> None:
    data_dir = tmp_path / "d"
    process = start_headless(data_dir)
    try:
        wait_for_engine(process, data_dir)
        assert status(data_dir)["state"] == "ACTIVE"
        process.send_signal(signal.SIGUSR1)
        wait_for_status(data_dir, lambda d: d["state"] == "HALTED", "HALTED after SIGUSR1")
        log = (tmp_path / "d.out").read_text()
        assert "SIGUSR1: kill switch engaged" in log
    finally:
        returncode = stop(process)
    assert returncode == 0
    assert not (data_dir / "control.sock").exists()
    with sqlite3.connect(data_dir / "tradetui.db") as db:
        kv = dict(db.execute("SELECT key, value FROM kv").fetchall())
    assert (kv["trading_state"], kv["session"]) == ("HALTED", "clean")

    again = start_headless(data_dir)
    try:
        wait_for_engine(again, data_dir)
        assert status(data_dir)["state"] == "HALTED"
    finally:
        assert stop(again) == 0


REST_ONCE = """
from tradetui.core.model import TradingState
from tradetui.core.strategies import Strategy


class RestOnce(Strategy):
    name = "rest-once"

    def __init__(self, params, context):
        super().__init__(params, context)
        self.rested = set()

    def on_snapshot(self, view):
        bids = []
        if view.state is not TradingState.ACTIVE:  # a first live start waits for a resume
            return bids
        for symbol in view.symbols:
            mid = view.mid(symbol)
            if symbol not in self.rested and mid is not None:
                self.rested.add(symbol)
                price = self.price_at(symbol, mid * 0.96)
                bids.append(self.buy(symbol, self.amount_for(symbol, 100, float(price)), price, 0.9))
        return bids
"""
"""Places one bid far under the market in each symbol, once: never again, even while the first is
still on its way to the book, so what is open after a cancel-all is exactly what it left."""


def sim_client(venue: str) -> Any:
    """A REST-only ccxt client on the embedded simulator's own account (``venue`` as `status`
    names it: the REST address; the WS port is not in it), sharing the engine's nonce file."""
    address = venue.removeprefix("sim (").removesuffix(")")
    api_key, secret = make_credentials(VenueSettings().sim_seed, "main")
    # Port 1 refuses at once should anything here ever dial WS.
    info = SimInfo(
        f"http://{address}", "ws://127.0.0.1:1/v2", "ws://127.0.0.1:1/auth/v2", api_key, secret
    )
    return create_exchange("kraken", info.ccxt_config(), nonce_file(api_key))


async def place_by_hand(venue: str, symbol: str, price: float) -> str:
    client = sim_client(venue)
    try:
        order = await client.create_order(symbol, "limit", "buy", 0.01, price)
        return str(order["id"])
    finally:
        await client.close()


async def open_on_venue(venue: str) -> list[str]:
    client = sim_client(venue)
    try:
        return [str(order["id"]) for order in await client.fetch_open_orders()]
    finally:
        await client.close()


def test_cancel_all_cancels_the_engines_live_orders_only_and_leaves_it_active(
    tmp_path: Path,
) -> None:
    strategy = tmp_path / "rest_once.py"
    strategy.write_text(REST_ONCE)
    config = tmp_path / "rest_once.toml"
    config.write_text(f"[[strategies]]\npath = {json.dumps(str(strategy))}\n")
    data_dir = tmp_path / "d"
    process = start_headless(data_dir, "--live", "--config", str(config))
    try:
        wait_for_engine(process, data_dir)
        assert status(data_dir)["state"] == "PAUSED", "the first live start on a data dir pauses"
        assert ctl(data_dir, "resume").returncode == 0
        resting = wait_for_status(
            data_dir, lambda d: len(d["open_orders"]) == 3, "a resting bid in each symbol"
        )
        assert (resting["mode"], resting["state"]) == ("LIVE", "ACTIVE")
        ours = {order["client_id"] for order in resting["open_orders"]}
        venue = resting["venue"]
        # Put on the same account after start-up, by hand: not the engine's to cancel.
        bid = resting["quotes"]["ETH/USD"]["bid"]
        by_hand = asyncio.run(place_by_hand(venue, "ETH/USD", round(bid * 0.95, 2)))

        result = ctl(data_dir, "cancel-all", "--yes")

        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "canceled 3 open order(s); trading is ACTIVE"
        after = status(data_dir)
        assert (after["state"], after["open_orders"]) == ("ACTIVE", [])
        finished = {o["client_id"]: o["status"] for o in after["recent_orders"]}
        assert {client_id: finished.get(client_id) for client_id in ours} == dict.fromkeys(
            ours, "CANCELED"
        )
        assert asyncio.run(open_on_venue(venue)) == [by_hand]
    finally:
        returncode = stop(process)
    assert returncode == 0
    with sqlite3.connect(data_dir / "tradetui.db") as db:
        stored = dict(db.execute("SELECT client_id, status FROM orders").fetchall())
    assert stored == dict.fromkeys(ours, "CANCELED")


def wait_for_output(process: subprocess.Popen[bytes], data_dir: Path, text: str) -> None:
    """Until the engine's output shows ``text`` (fails if the process ends first)."""
    output = data_dir.parent / f"{data_dir.name}.out"
    deadline = time.monotonic() + 30
    while text not in output.read_text(errors="replace"):
        if process.poll() is not None:
            pytest.fail(f"the engine exited with {process.returncode} before logging {text!r}")
        if time.monotonic() > deadline:
            pytest.fail(f"the engine did not log {text!r} within 30s")
        time.sleep(0.2)


def test_sighup_leaves_a_headless_engine_running_and_sigterm_still_exits_0(
    tmp_path: Path,
) -> None:
    """Guards against SIGHUP's default action (an SSH session closing) ending a headless bot;
    SIGHUP reopens the log file, as logrotate expects after moving it away."""
    data_dir = tmp_path / "d"
    log_file = data_dir / "logs" / "tradetui.jsonl"
    process = start_headless(data_dir)
    try:
        wait_for_engine(process, data_dir)
        log_file.rename(log_file.with_suffix(".jsonl.rotated"))
        process.send_signal(signal.SIGHUP)
        wait_for_output(process, data_dir, "SIGHUP: log files reopened")
        assert status(data_dir)["state"] == "ACTIVE"
        assert process.poll() is None
        assert "SIGHUP: log files reopened" in log_file.read_text()
        assert "SIGHUP" not in log_file.with_suffix(".jsonl.rotated").read_text()
        assert log_file.stat().st_mode & 0o777 == 0o600
    finally:
        returncode = stop(process)
    assert returncode == 0
    assert not (data_dir / "control.sock").exists()
