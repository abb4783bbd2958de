"""The listing monitor against the embedded simulator's listing schedule, over 127.0.0.1."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from tests.conftest import quiet_settings, wait_until
from tradetui.config import Settings
from tradetui.core.engine import Engine
from tradetui.core.model import OrderIntent, Side, Verdict
from tradetui.sim.schedule import ScheduleRunner

SYMBOLS = ["BTC/USD", "ETH/USD", "DOT/USD"]
DOT = "DOT/USD"


def settings(policy: str = "close", **venue: object) -> Settings:
    return quiet_settings(
        symbols=SYMBOLS, listing={"interval_s": 0.3, "on_delisting": policy}, venue=venue
    )


def rows(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(engine.paths.database) as db:
        return db.execute(sql).fetchall()


def skip_to(engine: Engine, elapsed_s: float) -> None:
    """Move the simulator's listing timetable to ``elapsed_s`` after its start."""
    runner: ScheduleRunner = engine.venue.sim.server.exchange.schedule  # type: ignore[union-attr]
    runner.skip_ahead(elapsed_s - (time.time() - runner.started_at))


def events(engine: Engine) -> list[tuple[str, str, str]]:
    return [(e.kind, e.symbol, e.status) for e in engine.snapshot().listing_events]


async def started(engine: Engine) -> Engine:
    await engine.start()
    await wait_until(lambda: len(engine.snapshot().quotes) == len(SYMBOLS), what="quotes")
    await wait_until(
        lambda: engine.services.listings is not None and engine.services.listings.reloads > 0
    )
    return engine


async def buy_dot(engine: Engine, amount: str = "20") -> Any:
    return await engine.submit(OrderIntent(DOT, Side.BUY, Decimal(amount), confidence=0.9))


async def test_listing_and_delisting_are_reported_and_the_guard_blocks_the_symbol(
    make_engine: Callable[..., Engine],
) -> None:
    engine = await started(make_engine(settings("close")))
    try:
        assert (await buy_dot(engine)).verdict is Verdict.APPROVE
        assert engine.snapshot().positions[DOT].amount == Decimal(20)
        assert events(engine) == [], "the first look at the venue is a baseline, not news"

        skip_to(engine, 181)
        await wait_until(lambda: ("listed", "LINK/USD", "active") in events(engine), what="LINK")
        assert "LINK/USD" in engine.signals.new_listings

        skip_to(engine, 211)
        reduce_only = ("status_changed", DOT, "reduce_only")
        await wait_until(lambda: reduce_only in events(engine), what="DOT reduce-only")
        # The close policy sells the position while the venue still takes sells.
        await wait_until(
            lambda: (
                DOT not in engine.snapshot().positions
                or not engine.snapshot().positions[DOT].amount
            ),
            what="DOT sold",
        )
        refused = await buy_dot(engine)
        assert refused.rejected_by is not None and refused.rejected_by.code == "REDUCE_ONLY"

        skip_to(engine, 241)
        cancel_only = ("status_changed", DOT, "cancel_only")
        await wait_until(lambda: cancel_only in events(engine), what="DOT cancel-only")
        refused = await buy_dot(engine)
        assert refused.rejected_by is not None and refused.rejected_by.code == "CANCEL_ONLY"

        skip_to(engine, 361)
        await wait_until(lambda: ("delisted", DOT, "removed") in events(engine), what="removal")
        refused = await buy_dot(engine)
        assert refused.rejected_by is not None
        assert (refused.rejected_by.gate, refused.rejected_by.code) == ("market_status", "DELISTED")
        assert [kind for kind, *_ in events(engine)] == [
            "listed",
            "status_changed",
            "status_changed",
            "delisted",
        ]
    finally:
        await engine.stop()
    audit = rows(engine, "SELECT strategy, side, verdict, code FROM audit ORDER BY id")
    assert audit == [
        ("manual", "buy", "APPROVE", None),
        ("delisting", "sell", "APPROVE", None),
        ("manual", "buy", "REJECT", "REDUCE_ONLY"),
        ("manual", "buy", "REJECT", "CANCEL_ONLY"),
        ("manual", "buy", "REJECT", "DELISTED"),
    ]
    registry = dict(rows(engine, "SELECT symbol, status FROM markets WHERE venue = 'sim'"))
    assert registry["LINK/USD"] == "active" and registry[DOT] == "removed"


async def test_hold_keeps_the_position_and_alerts_when_it_can_no_longer_be_sold(
    make_engine: Callable[..., Engine],
) -> None:
    engine = make_engine(settings("hold"))
    alerts: list[tuple[str, str]] = []
    engine.alerts.hook = lambda kind, subject, message, **fields: alerts.append((kind, subject))
    await started(engine)
    try:
        assert (await buy_dot(engine)).verdict is Verdict.APPROVE
        skip_to(engine, 211)
        await wait_until(lambda: ("status_changed", DOT, "reduce_only") in events(engine))
        reloads = engine.services.listings.reloads  # type: ignore[union-attr]
        await wait_until(lambda: engine.services.listings.reloads > reloads + 2)  # type: ignore[union-attr]
        assert engine.snapshot().positions[DOT].amount == Decimal(20), "hold does not sell"
        skip_to(engine, 241)
        await wait_until(lambda: ("delisting_stuck", DOT) in alerts, what="stuck alert")
        assert ("market_status", "DOT/USD reduce_only") in alerts
        assert ("market_status", "DOT/USD cancel_only") in alerts
    finally:
        await engine.stop()
    assert rows(engine, "SELECT COUNT(*) FROM audit WHERE strategy = 'delisting'") == [(0,)]


async def test_a_restart_announces_what_changed_meanwhile_and_nothing_it_knew(
    make_engine: Callable[..., Engine],
) -> None:
    first = await started(make_engine(settings()))
    try:
        skip_to(first, 181)
        await wait_until(lambda: ("listed", "LINK/USD", "active") in events(first), what="LINK")
        assert first.services.listings is not None
        # From here on nobody watches, as if the engine were down.
        await first.services.listings.stop()
        skip_to(first, 211)
        instruments = first.venue.sim.server.exchange.instruments  # type: ignore[union-attr]
        await wait_until(lambda: instruments.status.get("DOTUSD") == "reduce_only")
    finally:
        await first.stop()
    second = await started(make_engine(settings()))  # same data dir: registry and venue state
    try:
        await wait_until(lambda: second.services.listings.reloads >= 3)  # type: ignore[union-attr]
        assert events(second) == [("status_changed", DOT, "reduce_only")]
    finally:
        await second.stop()


async def test_a_compressed_schedule_is_followed_by_the_monitor_on_its_own(
    make_engine: Callable[..., Engine],
) -> None:
    """The simulator's whole timetable (scaled to seconds) seen by the interval reloads alone."""
    # 0.02: LINK/USD listed 3.6 s after start, well after the monitor's first (baseline) look.
    engine = await started(make_engine(settings(sim_schedule_scale=0.02)))
    try:
        await wait_until(
            lambda: ("delisted", DOT, "removed") in events(engine), within_s=30, what="removal"
        )
        seen = events(engine)
        assert ("listed", "LINK/USD", "active") in seen
        # Steps under a second apart may fall into one reload: the last one still shows.
        assert [e for e in seen if e[1] == DOT][-1] == ("delisted", DOT, "removed")
        assert {e[2] for e in seen if e[1] == DOT} <= {"reduce_only", "cancel_only", "removed"}
        refused = await buy_dot(engine)
        assert refused.rejected_by is not None and refused.rejected_by.code == "DELISTED"
    finally:
        await engine.stop()
