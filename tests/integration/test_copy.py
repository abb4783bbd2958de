"""Copy trading against the embedded simulator: its leader account trades, the engine follows."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import quiet_settings, wait_until
from tradetui.config import Settings
from tradetui.core.api import EngineError
from tradetui.core.engine import Engine
from tradetui.core.services.copy_trading import CopyTrader
from tradetui.core.venue.client import create_exchange
from tradetui.core.venue.connect import nonce_file
from tradetui.paths import DataPaths
from tradetui.runtime import build_engine
from tradetui.sim.server import SimServer

ETH = "ETH/USD"


def settings(**leader: object) -> Settings:
    rule = {
        "name": "whale",
        "account": "sim-leader",
        "ratio": 0.5,
        "max_delay_s": 30,
        "max_notional_per_trade": 5000,
        "max_position_notional": 5000,
        **leader,
    }
    return quiet_settings(copy_trading={"leaders": [rule]})


def rows(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(engine.paths.database) as db:
        return db.execute(sql).fetchall()


def ours(engine: Engine, symbol: str = ETH) -> Decimal:
    position = engine.snapshot().positions.get(symbol)
    return position.amount if position is not None else Decimal(0)


def trader(engine: Engine) -> CopyTrader:
    return engine.services.copy_traders[0]


async def started(engine: Engine) -> Engine:
    await engine.start()
    await wait_until(lambda: len(engine.snapshot().quotes) == 3, what="quotes")
    await wait_until(trader(engine).caught_up.is_set, what="the leader's history read")
    return engine


class Leader:
    """The leader account trading with its own key, as another person's bot would."""

    def __init__(self, engine: Engine) -> None:
        info = engine.venue.sim.server.info  # type: ignore[union-attr]
        config = {**info.ccxt_config(), "apiKey": info.leader_api_key, "secret": info.leader_secret}
        # The key's shared nonce file, as every process trading with one key must use.
        self.client = create_exchange("kraken", config, nonce_file(info.leader_api_key))

    async def market(self, side: str, amount: float, symbol: str = ETH) -> None:
        await self.client.create_order(symbol, "market", side, amount)

    async def close(self) -> None:
        await self.client.close()


@pytest.fixture
async def engine(make_engine: Callable[..., Engine]) -> AsyncIterator[Engine]:
    started_engine = await started(make_engine(settings()))
    yield started_engine
    await started_engine.stop()


async def test_leader_fills_are_mirrored_at_the_ratio_with_a_drift_report(engine: Engine) -> None:
    leader = Leader(engine)
    try:
        await leader.market("buy", 0.2)
        await wait_until(lambda: ours(engine) == Decimal("0.1"), what="the copied buy")
        drift = engine.snapshot().copy_drift[f"whale:{ETH}"]
        assert (drift.leader_amount, drift.target_amount, drift.our_amount) == (
            Decimal("0.2"),
            Decimal("0.1"),
            Decimal("0.1"),
        )
        assert drift.drift_amount == 0 and drift.copied == 1
        await leader.market("sell", 0.2)
        await wait_until(lambda: ours(engine) == 0, what="the copied sell")
        assert engine.snapshot().copy_drift[f"whale:{ETH}"].copied == 2
    finally:
        await leader.close()
        await engine.stop()
    audit = rows(engine, "SELECT strategy, side, amount_allowed, verdict FROM audit")
    assert [(s, side, Decimal(a), v) for s, side, a, v in audit] == [
        ("copy:whale", "buy", Decimal("0.1"), "APPROVE"),
        ("copy:whale", "sell", Decimal("0.1"), "APPROVE"),
    ]


async def test_a_restart_copies_nothing_twice_and_follows_on(
    make_engine: Callable[..., Engine],
) -> None:
    first = await started(make_engine(settings()))
    leader = Leader(first)
    try:
        await leader.market("buy", 0.2)
        await wait_until(lambda: ours(first) == Decimal("0.1"), what="the copied buy")
    finally:
        await leader.close()
        await first.stop()
    second = await started(make_engine(settings()))
    leader = Leader(second)
    try:
        # The leader's history (the fill above included, well within max_delay_s) is read again.
        assert ours(second) == Decimal("0.1")
        await leader.market("buy", 0.1)
        await wait_until(lambda: ours(second) == Decimal("0.15"), what="the next copy")
    finally:
        await leader.close()
        await second.stop()
    assert rows(second, "SELECT COUNT(*) FROM audit WHERE strategy = 'copy:whale'") == [(2,)]


async def test_a_fill_older_than_max_delay_is_skipped_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tradetui.copy")
    # The engine's clock runs two minutes ahead of the venue's: every leader fill looks stale.
    engine = build_engine(
        settings(), DataPaths(tmp_path / "data").ensure(), clock=lambda: time.time() + 120
    )
    await started(engine)
    leader = Leader(engine)
    try:
        await leader.market("buy", 0.2)
        await wait_until(
            lambda: (
                engine.snapshot().copy_drift.get(f"whale:{ETH}") is not None
                and engine.snapshot().copy_drift[f"whale:{ETH}"].skipped == 1
            ),
            what="the skip",
        )
        assert ours(engine) == 0
    finally:
        await leader.close()
        await engine.stop()
    skips = [r.getMessage() for r in caplog.records if getattr(r, "event", "") == "copy_skipped"]
    assert len(skips) == 1 and "STALE" in skips[0] and "limit 30s" in skips[0]
    assert rows(engine, "SELECT COUNT(*) FROM audit") == [(0,)]


async def test_caps_clip_each_copy_and_the_position(make_engine: Callable[..., Engine]) -> None:
    engine = await started(
        make_engine(settings(max_notional_per_trade=100, max_position_notional=150))
    )
    leader = Leader(engine)
    try:
        mid = Decimal(repr(engine.snapshot().quotes[ETH].mid))
        await leader.market("buy", 0.2)  # half is ~300 USD: clipped to 100
        await wait_until(lambda: ours(engine) > 0, what="the first copy")
        assert Decimal(90) < ours(engine) * mid <= Decimal(101)
        first = ours(engine)
        await leader.market("buy", 0.2)  # only ~50 USD of room is left under 150
        await wait_until(lambda: ours(engine) > first, what="the second copy")
        assert Decimal(140) < ours(engine) * mid <= Decimal(152)
        await leader.market("buy", 0.2)  # no room at all
        await wait_until(
            lambda: engine.snapshot().copy_drift[f"whale:{ETH}"].skipped >= 1, what="the cap"
        )
        drift = engine.snapshot().copy_drift[f"whale:{ETH}"]
        assert drift.copied == 2 and drift.target_amount == Decimal("0.3")
        assert drift.drift_amount < 0, "capped copies leave us below the ratio's target"
    finally:
        await leader.close()
        await engine.stop()


@pytest.mark.parametrize(
    ("account", "message"),
    [
        ("sim-leader", "exists only on the embedded simulator"),
        ("nobody", "copy-trading leader: no credentials stored for account 'nobody'"),
    ],
)
async def test_a_leader_without_credentials_stops_the_start_with_one_line(
    make_engine: Callable[..., Engine], account: str, message: str
) -> None:
    server = SimServer(seed=3)
    sim = await server.start()
    venue = {
        "exchange": "sim-external",
        "rest_url": sim.rest,
        "ws_public_url": sim.ws_public,
        "ws_private_url": sim.ws_private,
        "account": "no-such-account",
    }
    rule = {"name": "whale", "account": account, "ratio": 0.5}
    engine = make_engine(quiet_settings(venue=venue, copy_trading={"leaders": [rule]}))
    try:
        with pytest.raises(EngineError, match=message) as caught:
            await engine.start()
        assert "\n" not in str(caught.value)
    finally:
        await engine.stop()
        await server.stop()
