"""Pilot tests of the console driving the REAL engine on the embedded simulator (127.0.0.1)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import RichLog

from tradetui.config import Settings
from tradetui.core.engine import Engine
from tradetui.core.model import Mode, TradingState
from tradetui.logs import LogSink
from tradetui.paths import DataPaths
from tradetui.runtime import build_engine
from tradetui.ui.app import TradeTuiApp
from tradetui.ui.deferred_engine import DeferredEngine
from tradetui.ui.screens.choice import ChoiceScreen
from tradetui.ui.screens.confirm import ConfirmScreen
from tradetui.ui.widgets.header import StatusHeader
from tradetui.ui.widgets.logs import LogsPane
from tradetui.ui.widgets.table_pane import TablePane

SIZE = (120, 40)
PANE_TITLES = {"Markets", "Balances", "Positions", "Orders", "Risk", "Circuit breaker", "Logs"}


async def wait_for(pilot: Pilot, predicate: Callable[[], bool], within_s: float, what: str) -> None:
    """Let the app run until ``predicate`` holds; fail (never hang) after ``within_s`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not predicate():
        if loop.time() > deadline:
            pytest.fail(f"timed out after {within_s}s waiting for {what}")
        await pilot.pause(0.05)


async def settle(pilot: Pilot, predicate: Callable[[], bool], within_s: float) -> None:
    """Like wait_for, but carry on when time runs out (for conditions that are only nice to have)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not predicate() and loop.time() < deadline:
        await pilot.pause(0.05)


@pytest.fixture
def log_sink() -> Iterator[LogSink]:
    """A LogSink attached to the tradetui loggers for the length of one test."""
    sink = LogSink()
    logger = logging.getLogger("tradetui")
    previous_level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(sink)
    yield sink
    logger.removeHandler(sink)
    logger.setLevel(previous_level)


@pytest.fixture
def app(tmp_path: Path, log_sink: LogSink) -> TradeTuiApp:
    """The console over a real, not yet started engine with default settings (paper, embedded sim)."""
    settings = Settings()
    engine = build_engine(settings, DataPaths(tmp_path / "data").ensure())
    return TradeTuiApp(engine, settings, log_sink)


def engine_of(app: TradeTuiApp) -> Engine:
    assert isinstance(app.engine, Engine)
    return app.engine


async def test_kill_switch_halts_and_cancels_every_open_order(app: TradeTuiApp) -> None:
    engine = engine_of(app)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: engine.snapshot().connected, 30, "the engine to connect")
        await settle(pilot, lambda: bool(engine.snapshot().open_orders), 8)
        await pilot.press("k")
        assert engine.snapshot().state is TradingState.HALTED
        await wait_for(pilot, lambda: engine.snapshot().open_orders == (), 10, "cancel-all")
        assert engine.snapshot().state is TradingState.HALTED
        assert not isinstance(app.screen, ConfirmScreen)
        await wait_for(pilot, lambda: app.header.state_text == "HALTED", 2, "header refresh")
        assert app.query_one(StatusHeader).query_one("#state").has_class("-halted")
        orders = app.query_one("#orders", TablePane)
        await wait_for(pilot, lambda: orders.row_keys == [], 2, "the Orders pane to empty")


async def test_the_console_paints_before_the_engine_is_built_and_k_then_still_halts_it(
    tmp_path: Path, log_sink: LogSink
) -> None:
    """The CLI's path: the engine is built after the first paint (DeferredEngine)."""
    settings, paths = Settings(), DataPaths(tmp_path / "data").ensure()
    painted_before_build: list[bool] = []

    def build() -> Engine:
        markets = app.query_one("#markets", TablePane)
        painted_before_build.append(app.snapshots_shown > 0 and markets.row_keys == [])
        return build_engine(settings, paths)

    deferred = DeferredEngine(build, settings, modules=("tradetui.core.engine",))
    app = TradeTuiApp(deferred, settings, log_sink)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("k")  # most likely before the engine exists; halts either way
        await wait_for(pilot, lambda: deferred.snapshot().connected, 30, "the engine to connect")
        assert painted_before_build == [True]
        assert isinstance(deferred.engine, Engine)
        assert deferred.engine.snapshot().state is TradingState.HALTED
        await wait_for(pilot, lambda: app.header.state_text == "HALTED", 2, "header refresh")


async def test_panes_titles_and_live_data(app: TradeTuiApp) -> None:
    engine = engine_of(app)
    async with app.run_test(size=SIZE) as pilot:
        titles = {str(pane.border_title) for pane in app.query("TablePane, LogsPane")}
        assert titles == PANE_TITLES
        await wait_for(
            pilot,
            lambda: len(engine.snapshot().quotes) == len(engine.settings.symbols),
            30,
            "quotes for every symbol",
        )
        symbols = list(engine.settings.symbols)
        markets = app.query_one("#markets", TablePane)
        await wait_for(pilot, lambda: markets.row_keys == symbols, 2, "market rows")
        log_lines = app.query_one(LogsPane).query_one(RichLog).lines
        await wait_for(
            pilot,
            lambda: "engine started" in " ".join(s.text for s in log_lines),
            5,
            "the start-up log line in the Logs pane",
        )


async def test_pause_toggles_the_engine_state(app: TradeTuiApp) -> None:
    engine = engine_of(app)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: engine.snapshot().connected, 30, "the engine to connect")
        assert engine.snapshot().state is TradingState.ACTIVE
        await pilot.press("p")
        assert engine.snapshot().state is TradingState.PAUSED
        assert app.header.state_text == "PAUSED"
        await pilot.press("p")
        assert engine.snapshot().state is TradingState.ACTIVE


async def test_going_live_with_the_demo_strategy_is_refused_in_one_line(app: TradeTuiApp) -> None:
    engine = engine_of(app)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: engine.snapshot().connected, 30, "the engine to connect")
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert engine.live_target() in app.screen.question
        await pilot.press("y")
        await wait_for(
            pilot,
            lambda: any("demo strategy pulse" in str(n.message) for n in app._notifications),
            5,
            "the refusal",
        )
        assert engine.snapshot().mode is Mode.PAPER


async def test_confirmed_toggle_goes_live_paused_and_back_to_paper(
    tmp_path: Path, log_sink: LogSink
) -> None:
    settings = Settings(strategy={"enabled": False})
    engine = build_engine(settings, DataPaths(tmp_path / "data").ensure())
    app = TradeTuiApp(engine, settings, log_sink)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: engine.snapshot().connected, 30, "the engine to connect")
        await pilot.press("t")
        await pilot.pause()
        await pilot.press("y")
        await wait_for(pilot, lambda: engine.snapshot().mode is Mode.LIVE, 5, "LIVE mode")
        assert engine.snapshot().state is TradingState.PAUSED, "the first live trading pauses"
        await pilot.press("t")  # nothing left on the venue: back to paper without a question
        await wait_for(pilot, lambda: engine.snapshot().mode is Mode.PAPER, 5, "PAPER mode")
        assert not isinstance(app.screen, ChoiceScreen)


async def test_flatten_asks_then_halts_and_closes_every_position(app: TradeTuiApp) -> None:
    engine = engine_of(app)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: engine.snapshot().connected, 30, "the engine to connect")
        await wait_for(
            pilot,
            lambda: any(p.amount for p in engine.snapshot().positions.values()),
            15,
            "the strategy to open a position",
        )
        await pilot.press("K")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert engine.snapshot().state is TradingState.ACTIVE  # nothing before the answer
        await pilot.press("y")
        await wait_for(
            pilot,
            lambda: all(p.amount == 0 for p in engine.snapshot().positions.values()),
            15,
            "every position closed",
        )
        assert engine.snapshot().state is TradingState.HALTED
        assert engine.snapshot().open_orders == ()
