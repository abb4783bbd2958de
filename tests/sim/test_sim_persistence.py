"""The state file: a restarted simulator meets its clients with the same accounts, orders, trades."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar

import ccxt.pro
import pytest
from ccxt.base.errors import InvalidNonce

from tradetui.config import VenueSettings
from tradetui.core.venue.connect import open_venue
from tradetui.core.venue.errors import VenueSetupError
from tradetui.runtime import venue_access
from tradetui.sim.persist import SimStateError, StateSaver, restore, snapshot
from tradetui.sim.server import SimServer
from tradetui.sim.venue.exchange import SimExchange
from tradetui.sim.venue.order_params import build_request

T = TypeVar("T")
MANUAL_TICKS = 3600.0


class FrozenClock:
    """A settable clock, so the listing schedule's times can be passed at will."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def within(awaitable: Awaitable[T], seconds: float = 10.0) -> Awaitable[T]:
    """Bound an await so that nothing in these tests can hang."""
    return asyncio.wait_for(awaitable, seconds)


async def _client(server: SimServer) -> ccxt.pro.kraken:
    assert server.info is not None
    client = ccxt.pro.kraken(server.info.ccxt_config())
    await within(client.load_markets())
    return client


async def _venue_view(client: ccxt.pro.kraken) -> dict[str, Any]:
    balance = await within(client.fetch_balance())
    return {
        "total": balance["total"],
        "used": balance["used"],
        "open": [
            (o["id"], o["price"], o["amount"]) for o in await within(client.fetch_open_orders())
        ],
        "closed": [(o["id"], o["status"]) for o in await within(client.fetch_closed_orders())],
        "trades": [
            (t["id"], t["order"], t["amount"], t["price"])
            for t in await within(client.fetch_my_trades())
        ],  # fmt: skip
    }


async def test_restart_on_the_same_state_file_keeps_the_venue(tmp_path: Path) -> None:
    state_file = tmp_path / "sim-state.json"
    first = SimServer(tick_interval=MANUAL_TICKS, state_file=state_file)
    await within(first.start())
    client = await _client(first)
    try:
        bid = (await within(client.fetch_ticker("BTC/USD")))["bid"]
        resting = await within(client.create_order("BTC/USD", "limit", "buy", 0.01, bid))
        await within(client.create_order("ETH/USD", "market", "buy", 0.5))
        before = await _venue_view(client)
        last_nonce = first.exchange.main_account.last_nonce
    finally:
        await client.close()
        await first.stop()
    assert before["open"] and before["trades"] and before["used"]["USD"] > 0
    assert state_file.exists()

    second = SimServer(tick_interval=MANUAL_TICKS, state_file=state_file)
    await within(second.start())
    client = await _client(second)
    try:
        assert await _venue_view(client) == before
        # The restored order still rests in the book: the market's next dip fills it.
        for _ in range(2000):
            if not second.exchange.main_account.open_orders:
                break
            second.step()
        filled = await within(client.fetch_order(resting["id"]))
        assert (filled["status"], filled["filled"]) == ("closed", 0.01)
        maker_fills = await within(client.fetch_my_trades("BTC/USD"))
        assert [t["takerOrMaker"] for t in maker_fills] == ["maker"]
        fresh = await within(client.create_order("SOL/USD", "market", "buy", 1))
        known_ids = {resting["id"]} | {order_id for order_id, _ in before["closed"]}
        assert fresh["id"] not in known_ids, "the id sequence carries on, not restarts"
        client.options["lastNonce"] = 0
        client.nonce = lambda: last_nonce
        with pytest.raises(InvalidNonce):
            await within(client.fetch_balance())
    finally:
        await client.close()
        await second.stop()


async def test_state_is_saved_while_running_not_only_at_stop(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    server = SimServer(tick_interval=MANUAL_TICKS, state_file=state_file)
    await within(server.start())
    client = await _client(server)
    try:
        order = await within(client.create_order("ETH/USD", "limit", "buy", 0.01, 1000))
        saver = server._saver
        assert isinstance(saver, StateSaver)
        await within(saver.save_if_dirty())
        saved = json.loads(state_file.read_text())
        (account,) = [a for a in saved["accounts"] if a["name"] == "main"]
        assert [o["txid"] for o in account["orders"]] == [order["id"]]
        assert not saver.dirty
    finally:
        await client.close()
        await server.stop()
    assert os.listdir(tmp_path) == ["state.json"], "no temp files are left behind"


async def test_credentials_survive_a_changed_seed(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    async with SimServer(seed=7, tick_interval=MANUAL_TICKS, state_file=state_file) as first:
        pass
    async with SimServer(seed=99, tick_interval=MANUAL_TICKS, state_file=state_file) as second:
        assert (second.api_key, second.secret) == (first.api_key, first.secret)


@pytest.mark.parametrize(
    "content",
    ["{not json", "[]", '{"version": 1}', '{"version": 99, "ids": {}, "accounts": []}'],
)
async def test_corrupt_state_file_raises_one_clear_error(tmp_path: Path, content: str) -> None:
    state_file = tmp_path / "state.json"
    state_file.write_text(content)
    server = SimServer(tick_interval=MANUAL_TICKS, state_file=state_file)
    with pytest.raises(SimStateError) as raised:
        await within(server.start())
    message = str(raised.value)
    assert str(state_file) in message and "delete it" in message and "\n" not in message
    assert server.info is None, "nothing listens when the state cannot be loaded"


async def test_cli_reports_a_corrupt_state_file_in_one_line(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    state_file.write_text("{not json")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tradetui", "sim", "--state-file", str(state_file),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await within(process.communicate(), 60)
    assert process.returncode == 2
    assert stdout == b""
    lines = stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in lines[0]
    assert lines[0].startswith(f"tradetui sim: simulator state {state_file} is unreadable")


async def test_embedded_venue_keeps_its_state_in_the_data_dir(tmp_path: Path) -> None:
    """tradetui's built-in simulator: a restart meets the same key, orders and balances."""
    settings = VenueSettings(exchange="sim")
    venue = await within(open_venue(settings, tmp_path, True, venue_access()))
    try:
        first_key = venue.client.exchange.apiKey
        order = await within(
            venue.client.exchange.create_order("ETH/USD", "limit", "buy", 0.01, 1000)
        )
    finally:
        await venue.close()
    assert (tmp_path / "sim-state.json").exists()

    venue = await within(open_venue(settings, tmp_path, True, venue_access()))
    try:
        assert venue.client.exchange.apiKey == first_key
        open_orders = await within(venue.client.exchange.fetch_open_orders())
        assert [o["id"] for o in open_orders] == [order["id"]]
    finally:
        await venue.close()


async def test_embedded_venue_reports_a_corrupt_state_file_as_a_setup_error(
    tmp_path: Path,
) -> None:
    (tmp_path / "sim-state.json").write_text("{not json")
    with pytest.raises(VenueSetupError, match="sim-state.json is unreadable"):
        await within(open_venue(VenueSettings(exchange="sim"), tmp_path, False, venue_access()))


def test_pairs_listed_before_a_restart_are_listed_after_it() -> None:
    """Orders on a pair the listing schedule added must not make the saved state unreadable."""
    clock = FrozenClock(1_800_000_000.0)
    before = SimExchange(clock=clock)
    clock.now += 200
    before.tick()
    link = before.instruments.pair_by_symbol("LINK/USD")
    assert link is not None, "the default schedule lists LINK/USD after 180 s"
    request = build_request(link, side="buy", ordertype="limit", volume="1", price="10")
    order = before.engine.place(before.main_account, request)
    state = json.loads(json.dumps(snapshot(before)))

    clock.now += 5
    after = SimExchange(clock=clock)
    restore(after, state)
    assert after.main_account.open_orders[order.txid].pair.symbol == "LINK/USD"
    assert after.schedule.started_at == before.schedule.started_at + 5
