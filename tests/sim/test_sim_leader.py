"""The second ("leader") account: its own key, balances, orders and private feeds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar

import ccxt.pro
import pytest

from tradetui.sim.server import SimServer

T = TypeVar("T")


def within(awaitable: Awaitable[T], seconds: float = 10.0) -> Awaitable[T]:
    """Bound an await so that nothing in these tests can hang."""
    return asyncio.wait_for(awaitable, seconds)


@pytest.fixture
async def leader_ex(manual_server: SimServer) -> AsyncIterator[ccxt.pro.kraken]:
    info = manual_server.info
    assert info is not None and info.leader_api_key and info.leader_secret
    config = {**info.ccxt_config(), "apiKey": info.leader_api_key, "secret": info.leader_secret}
    client = ccxt.pro.kraken(config)
    try:
        await within(client.load_markets())
        yield client
    finally:
        await client.close()


def test_leader_credentials_are_distinct_and_deterministic() -> None:
    first, second = SimServer(seed=5), SimServer(seed=5)
    leader = first.exchange.leader_account
    assert leader.api_key == second.exchange.leader_account.api_key
    assert leader.secret == second.exchange.leader_account.secret
    assert leader.api_key != first.exchange.main_account.api_key
    assert leader.api_key != SimServer(seed=6).exchange.leader_account.api_key


async def test_leader_trades_stay_in_the_leader_account(
    manual_ex: ccxt.pro.kraken, leader_ex: ccxt.pro.kraken
) -> None:
    main_before = (await within(manual_ex.fetch_balance()))["total"]
    leader_before = (await within(leader_ex.fetch_balance()))["total"]
    assert leader_before["USD"] != main_before["USD"]
    order = await within(leader_ex.create_order("BTC/USD", "market", "buy", 0.01))
    leader_after = (await within(leader_ex.fetch_balance()))["total"]
    assert leader_after["BTC"] == pytest.approx(leader_before["BTC"] + 0.01)
    assert leader_after["USD"] < leader_before["USD"]
    assert (await within(manual_ex.fetch_balance()))["total"] == main_before
    leader_trades = await within(leader_ex.fetch_my_trades())
    assert [t["order"] for t in leader_trades] == [order["id"]]
    assert await within(manual_ex.fetch_my_trades()) == []


async def test_leader_fills_reach_its_own_executions_feed(
    manual_server: SimServer, leader_ex: ccxt.pro.kraken
) -> None:
    """A copy-trading bot watches the leader's executions over WS with the leader's key."""
    leader = manual_server.exchange.leader_account
    watcher = asyncio.ensure_future(leader_ex.watch_my_trades())

    for _ in range(500):  # poll (bounded) until the executions subscription is in place
        if any(s.account is leader for s in manual_server.ws_api.sessions):
            break
        await asyncio.sleep(0.01)
    order = await within(leader_ex.create_order("ETH/USD", "market", "sell", 0.05))
    trades = await within(watcher)
    assert trades[-1]["order"] == order["id"] and trades[-1]["side"] == "sell"
