"""Tests of DeferredEngine: the console's stand-in until the real engine is imported and built."""

from __future__ import annotations

import pytest

from tests.ui.frozen_engine import FrozenEngine
from tradetui.config import Settings
from tradetui.core.api import EngineError
from tradetui.core.model import Mode, TradingState
from tradetui.ui.deferred_engine import DeferredEngine


def deferred(built: list[FrozenEngine]) -> DeferredEngine:
    def build() -> FrozenEngine:
        built.append(FrozenEngine())
        return built[-1]

    return DeferredEngine(build, Settings(symbols=["BTC/USD", "ETH/USD"]), modules=("json",))


async def test_before_start_it_says_connecting_and_builds_nothing() -> None:
    built: list[FrozenEngine] = []
    engine = deferred(built)
    snapshot = engine.snapshot()
    assert (snapshot.connected, snapshot.state, snapshot.mode) == (
        False,
        TradingState.ACTIVE,
        Mode.PAPER,
    )
    assert snapshot.symbols == ("BTC/USD", "ETH/USD")
    assert built == []
    await engine.stop()  # stopping what never started is a no-op
    assert built == []


async def test_start_builds_the_engine_and_forwards_everything_to_it() -> None:
    built: list[FrozenEngine] = []
    engine = deferred(built)
    await engine.start()
    (real,) = built
    assert real.started and engine.engine is real
    assert engine.snapshot() is real.snapshot()
    await engine.cancel_order(real.snapshot().open_orders[0].client_id)
    await engine.toggle_pause()
    await engine.stop()
    assert real.commands[-1] == "toggle_pause" and real.commands[0].startswith("cancel_order")
    assert real.stopped


async def test_a_kill_switch_pulled_before_the_engine_exists_halts_and_cancels_once_started() -> (
    None
):
    built: list[FrozenEngine] = []
    engine = deferred(built)
    await engine.kill()
    assert engine.snapshot().state is TradingState.HALTED
    with pytest.raises(EngineError, match="trading is HALTED"):  # refused, as by the engine
        await engine.toggle_pause()
    assert engine.snapshot().state is TradingState.HALTED
    await engine.start()
    (real,) = built
    assert real.snapshot().state is TradingState.HALTED
    assert real.commands == ["kill"]  # after start: the orders an earlier session left are known
    assert real.snapshot().open_orders == ()


async def test_a_pause_before_the_engine_exists_carries_over() -> None:
    built: list[FrozenEngine] = []
    engine = deferred(built)
    await engine.toggle_pause()
    assert engine.snapshot().state is TradingState.PAUSED
    await engine.start()
    assert built[0].snapshot().state is TradingState.PAUSED
    assert built[0].commands == ["pause"]  # handed over before start


@pytest.mark.parametrize("command", ["flatten", "cancel_all", "set_mode", "cancel_order"])
async def test_commands_that_need_the_engine_say_it_is_still_starting(command: str) -> None:
    engine = deferred([])
    calls = {
        "flatten": lambda: engine.flatten(confirmed=True),
        "cancel_all": engine.cancel_all,
        "set_mode": lambda: engine.set_mode(Mode.LIVE),
        "cancel_order": lambda: engine.cancel_order("x"),
    }
    with pytest.raises(EngineError, match="still starting"):
        await calls[command]()
