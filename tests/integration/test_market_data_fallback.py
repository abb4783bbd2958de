"""With the WebSocket unreachable, market data keeps flowing over REST and paper trading goes on."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import pytest

from tests.conftest import quiet_settings, wait_until
from tradetui.core.engine import Engine
from tradetui.core.model import OrderIntent, Side, Verdict
from tradetui.sim.server import SimInfo, SimServer


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens here once the probe closes


@pytest.fixture
async def sim() -> AsyncIterator[SimInfo]:
    server = SimServer(host="127.0.0.1", port=0, seed=3)
    yield await server.start()
    await server.stop()


async def test_quotes_and_paper_fills_come_over_rest_while_the_stream_is_down(
    sim: SimInfo, make_engine: Callable[..., Engine]
) -> None:
    dead_ws = f"ws://127.0.0.1:{closed_port()}"
    venue = {
        "exchange": "sim-external",
        "rest_url": sim.rest,
        "ws_public_url": dead_ws + "/v2",
        "ws_private_url": dead_ws + "/auth/v2",
        "account": "no-such-account",
    }
    engine = make_engine(quiet_settings(venue=venue))
    await engine.start()
    try:
        await wait_until(
            lambda: len(engine.snapshot().quotes) == 3, within_s=20, what="REST quotes"
        )
        assert {q.source for q in engine.snapshot().quotes.values()} == {"rest"}
        decision = await engine.submit(
            OrderIntent("SOL/USD", Side.BUY, Decimal("1"), confidence=0.9)
        )
        assert decision.verdict is Verdict.APPROVE
        assert engine.snapshot().positions["SOL/USD"].amount == Decimal("1")
    finally:
        await engine.stop()
