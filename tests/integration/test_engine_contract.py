"""The engine contract (``tradetui.core.api.EngineControls``): every implementation answers the same
operator scenario with the same states and the same refusals, because the rules are decided once
(the engine's trading-state machine), never by the console, the control socket or a stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest

from tests.conftest import quiet_settings
from tests.ui.frozen_engine import FrozenEngine
from tradetui.core.api import CommandRefused, EngineControls, EngineError
from tradetui.ops.remote import RemoteEngine
from tradetui.paths import DataPaths
from tradetui.runtime import Runtime, build_engine
from tradetui.ui.deferred_engine import DeferredEngine

Step = tuple[str, Callable[[EngineControls], Awaitable[object]]]


async def _halt(engine: EngineControls) -> None:
    engine.halt()


SCENARIO: list[Step] = [
    ("pause", lambda e: e.pause()),
    ("pause again", lambda e: e.pause()),
    ("resume", lambda e: e.resume()),
    ("toggle", lambda e: e.toggle_pause()),
    ("toggle back", lambda e: e.toggle_pause()),
    ("release while trading", lambda e: e.release(confirmed=True)),
    ("halt", _halt),
    ("pause while halted", lambda e: e.pause()),
    ("resume while halted", lambda e: e.resume()),
    ("toggle while halted", lambda e: e.toggle_pause()),
    ("release unconfirmed", lambda e: e.release()),
    ("release", lambda e: e.release(confirmed=True)),
    ("flatten unconfirmed", lambda e: e.flatten()),
    ("resume after release", lambda e: e.resume()),
    ("kill", lambda e: e.kill()),
]

HALTED_REFUSAL = "trading is HALTED; release the kill switch first"
EXPECTED = [
    ("pause", "PAUSED", ""),
    ("pause again", "PAUSED", ""),
    ("resume", "ACTIVE", ""),
    ("toggle", "PAUSED", ""),
    ("toggle back", "ACTIVE", ""),
    ("release while trading", "ACTIVE", "the kill switch is not engaged (trading is ACTIVE)"),
    ("halt", "HALTED", ""),
    ("pause while halted", "HALTED", f"cannot pause: {HALTED_REFUSAL}"),
    ("resume while halted", "HALTED", f"cannot resume: {HALTED_REFUSAL}"),
    ("toggle while halted", "HALTED", f"cannot pause: {HALTED_REFUSAL}"),
    (
        "release unconfirmed",
        "HALTED",
        "releasing the kill switch lets trading resume: confirm it first",
    ),
    ("release", "PAUSED", ""),
    ("flatten unconfirmed", "PAUSED", "flatten sells every position at market: confirm it first"),
    ("resume after release", "ACTIVE", ""),
    ("kill", "HALTED", ""),
]
"""What every implementation answers: (step, trading state after it, the refusal or "");
a refusal is a CommandRefused everywhere, across the control socket too."""


async def run_scenario(engine: EngineControls) -> list[tuple[str, str, str]]:
    transcript = []
    for name, step in SCENARIO:
        try:
            await step(engine)
            refusal = ""
        except CommandRefused as exc:  # an operator rule said no
            refusal = str(exc)
        except EngineError as exc:  # a failure is not a refusal: it shows as one here
            refusal = f"FAILED: {exc}"
        transcript.append((name, engine.snapshot().state.value, refusal))
    return transcript


Implementation = Callable[[Path], AbstractAsyncContextManager[EngineControls]]


@asynccontextmanager
async def the_engine(tmp_path: Path) -> AsyncIterator[EngineControls]:
    engine = build_engine(quiet_settings(), DataPaths(tmp_path / "d").ensure())
    await engine.start()
    try:
        yield engine
    finally:
        await engine.stop()


@asynccontextmanager
async def the_runtime(tmp_path: Path) -> AsyncIterator[EngineControls]:
    runtime = Runtime(quiet_settings(), DataPaths(tmp_path / "d").ensure())
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


@asynccontextmanager
async def the_console_stand_in_started(tmp_path: Path) -> AsyncIterator[EngineControls]:
    settings = quiet_settings()
    paths = DataPaths(tmp_path / "d").ensure()
    deferred = DeferredEngine(lambda: Runtime(settings, paths), settings)
    await deferred.start()
    try:
        yield deferred
    finally:
        await deferred.stop()


@asynccontextmanager
async def the_console_stand_in_before_start(tmp_path: Path) -> AsyncIterator[EngineControls]:
    settings = quiet_settings()
    paths = DataPaths(tmp_path / "d").ensure()
    yield DeferredEngine(lambda: Runtime(settings, paths), settings)


@asynccontextmanager
async def the_remote_engine(tmp_path: Path) -> AsyncIterator[EngineControls]:
    paths = DataPaths(tmp_path / "d").ensure()
    runtime = Runtime(quiet_settings(), paths)
    await runtime.start()
    remote = RemoteEngine(paths.root)
    try:
        await remote.start()
        yield remote
    finally:
        await remote.stop()
        await runtime.stop()


@asynccontextmanager
async def the_test_fake(tmp_path: Path) -> AsyncIterator[EngineControls]:
    yield FrozenEngine()


IMPLEMENTATIONS: dict[str, Implementation] = {
    "engine": the_engine,
    "runtime": the_runtime,
    "deferred-started": the_console_stand_in_started,
    "deferred-before-start": the_console_stand_in_before_start,
    "remote": the_remote_engine,
    "test-fake": the_test_fake,
}


@pytest.mark.parametrize("name", IMPLEMENTATIONS)
async def test_every_implementation_answers_the_operator_scenario_alike(
    name: str, tmp_path: Path
) -> None:
    async with IMPLEMENTATIONS[name](tmp_path) as engine:
        assert engine.snapshot().state.value == "ACTIVE"
        assert await run_scenario(engine) == EXPECTED
