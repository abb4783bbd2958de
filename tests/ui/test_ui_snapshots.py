"""SVG snapshot tests of the console at 80x24 and 160x48, fed by FrozenEngine (fixed clock)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot

from tests.ui.frozen_engine import (
    FrozenEngine,
    FrozenLogSink,
    breaker_open_snapshot,
    frozen_snapshot,
    paused_snapshot,
    stale_snapshot,
)
from tradetui.config import Settings
from tradetui.core.model import EngineSnapshot
from tradetui.ui.app import TradeTuiApp

SIZES = {"80x24": (80, 24), "160x48": (160, 48)}
"""A plain SSH terminal, and a large one."""

STATES: dict[str, tuple[Callable[[], EngineSnapshot], tuple[str, ...]]] = {
    "trading": (frozen_snapshot, ()),
    "paused": (paused_snapshot, ()),
    "halted": (frozen_snapshot, ("k",)),
    "breaker_open": (breaker_open_snapshot, ()),
    "stale_data": (stale_snapshot, ()),
    "live_confirmation": (frozen_snapshot, ("t",)),
    "help": (frozen_snapshot, ("question_mark",)),
}
"""Each screen: the snapshot it shows and the keys pressed once it is up."""


def pressing(keys: tuple[str, ...]) -> Callable[[Pilot], Awaitable[None]]:
    """Wait (at most 5 s) for the first snapshot, then press ``keys``: renders never race it."""

    async def run_before(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, TradeTuiApp)
        for _ in range(100):
            if app.snapshots_shown:
                break
            await pilot.pause(0.05)
        else:
            raise AssertionError("the app showed no snapshot within 5 s")
        if keys:
            await pilot.press(*keys)
            # A command (the kill switch's cancel-all) runs in a worker: render after it is done.
            await app.workers.wait_for_complete()
            await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize("state", list(STATES))
def test_console(snap_compare, state: str, size: str) -> None:  # noqa: ANN001 - plugin fixture
    snapshot, keys = STATES[state]
    app = TradeTuiApp(FrozenEngine(snapshot()), Settings(), FrozenLogSink())
    assert snap_compare(app, terminal_size=SIZES[size], run_before=pressing(keys))
