"""Fixtures for simulator tests: a SimServer on an ephemeral port and ccxt.pro clients on it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import ccxt.pro
import pytest

from tradetui.sim.server import SimInfo, SimServer

MANUAL_TICKS = 3600.0
"""A tick interval long enough that only `SimServer.step()` moves the market."""


@pytest.fixture
async def sim_server() -> AsyncIterator[SimServer]:
    """A simulator ticking every 50 ms."""
    server = SimServer(host="127.0.0.1", port=0, seed=7, tick_interval=0.05)
    await asyncio.wait_for(server.start(), 10)
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def manual_server() -> AsyncIterator[SimServer]:
    """A simulator whose market moves only when the test calls `step()`."""
    server = SimServer(host="127.0.0.1", port=0, seed=7, tick_interval=MANUAL_TICKS)
    await asyncio.wait_for(server.start(), 10)
    try:
        yield server
    finally:
        await server.stop()


def _info(server: SimServer) -> SimInfo:
    assert server.info is not None
    return server.info


@pytest.fixture
async def ex(sim_server: SimServer) -> AsyncIterator[ccxt.pro.kraken]:
    """An unmodified ccxt.pro kraken client on the ticking simulator, markets loaded."""
    client = ccxt.pro.kraken(_info(sim_server).ccxt_config())
    try:
        await asyncio.wait_for(client.load_markets(), 10)
        yield client
    finally:
        await client.close()


@pytest.fixture
async def manual_ex(manual_server: SimServer) -> AsyncIterator[ccxt.pro.kraken]:
    """A ccxt.pro kraken client on the manually stepped simulator, markets loaded."""
    client = ccxt.pro.kraken(_info(manual_server).ccxt_config())
    try:
        await asyncio.wait_for(client.load_markets(), 10)
        yield client
    finally:
        await client.close()
