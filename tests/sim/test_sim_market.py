"""The synthetic market: microstructure, regimes and jumps, the flash crash, listings and delistings."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable
from typing import TypeVar

import ccxt.pro
import pytest
from ccxt.base.errors import OnMaintenance

from tradetui.sim.scenario import REGIMES, FlashCrash, Regimes
from tradetui.sim.schedule import ListingSchedule
from tradetui.sim.server import SimServer
from tradetui.sim.venue.exchange import SimExchange

T = TypeVar("T")


def within(awaitable: Awaitable[T], seconds: float = 10.0) -> Awaitable[T]:
    """Bound an await so that nothing in these tests can hang."""
    return asyncio.wait_for(awaitable, seconds)


def test_at_least_five_pairs_with_tight_spreads_and_background_prints() -> None:
    exchange = SimExchange(3)
    assert len(exchange.instruments.pairs) >= 5
    volumes = {pid: pm.volume for pid, pm in exchange.market.pairs.items()}
    for _ in range(50):
        exchange.tick()
    for pair_id, pm in exchange.market.pairs.items():
        bid, ask = pm.best_bid(), pm.best_ask()
        assert bid is not None and ask is not None
        spread_bps = (ask[0] - bid[0]) / ((ask[0] + bid[0]) / 2) * 1e4
        assert 0 < spread_bps < 25, pair_id
        assert len(pm.tape.trades) > 10, pair_id
        assert pm.volume > volumes[pair_id], "background trades add volume"
        sides = {trade.side for trade in pm.tape.trades}
        assert sides == {"buy", "sell"}


def test_regimes_switch_and_jumps_happen() -> None:
    regimes = Regimes(random.Random(1))
    visited: set[str] = set()
    moves = []
    for _ in range(50_000):
        regimes.step()
        visited.add(regimes.name)
        moves.append(regimes.jump(1e-4))
    assert visited == {name for name, _ in REGIMES}
    assert regimes.jumps > 10
    assert max(abs(m) for m in moves) > 10 * 1e-4, "a jump is many ticks' worth of move"


def test_flash_crash_is_off_by_default_and_scripted_when_on() -> None:
    calm, crash = SimExchange(4), SimExchange(4, flash_crash=FlashCrash(start_tick=10))
    assert calm.market.crash is None
    for _ in range(9):
        calm.tick()
        crash.tick()
    before = crash.market.pairs["XXBTZUSD"]
    mid_before, touch_before = before.mid, before.top(True, 5)
    scenario = crash.market.crash
    assert scenario is not None
    for _ in range(scenario.fall_ticks + 2):
        crash.tick()
    pm = crash.market.pairs["XXBTZUSD"]
    assert pm.mid < mid_before * 0.93
    thin = sum(lots for _, lots in pm.top(True, 5))
    assert thin < sum(lots for _, lots in touch_before) / 2
    assert pm.low_ticks < round(mid_before * 0.95 * 10), "the crash prints trades"
    for _ in range(scenario.end_tick - pm.ticks + 1):
        crash.tick()
    assert crash.market.pairs["XXBTZUSD"].mid > mid_before * 0.97, "it recovers"


async def test_listing_then_delisting_on_schedule() -> None:
    now = [time.time()]
    server = SimServer(
        seed=7,
        tick_interval=3600,
        clock=lambda: now[0],
        schedule=ListingSchedule(list_after_s=60, cancel_only_after_s=120, remove_after_s=180),
    )
    info = await within(server.start())
    ex = ccxt.pro.kraken(info.ccxt_config())
    try:
        await within(ex.load_markets())
        assert "LINK/USD" not in ex.markets and ex.markets["DOT/USD"]["active"]
        order = await within(ex.create_order("DOT/USD", "limit", "buy", 1, 5))
        now[0] += 61
        server.step()
        await within(ex.load_markets(reload=True))
        assert ex.markets["LINK/USD"]["active"]
        assert (await within(ex.fetch_ticker("LINK/USD")))["bid"] > 0
        now[0] += 60
        server.step()
        await within(ex.load_markets(reload=True))
        assert not ex.markets["DOT/USD"]["active"]
        with pytest.raises(OnMaintenance):
            await within(ex.create_order("DOT/USD", "limit", "buy", 1, 5))
        assert [o["id"] for o in await within(ex.fetch_open_orders())] == [order["id"]]
        now[0] += 60
        server.step()
        await within(ex.load_markets(reload=True))
        assert "DOT/USD" not in ex.markets
        assert await within(ex.fetch_open_orders()) == []
        fetched = await within(ex.fetch_order(order["id"]))
        assert fetched["status"] == "canceled"
    finally:
        await ex.close()
        await server.stop()
