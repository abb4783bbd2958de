"""SVG snapshot tests of the console, fed by FrozenEngine so every render is identical."""

from __future__ import annotations

from textual.pilot import Pilot

from tests.ui.frozen_engine import FrozenEngine, FrozenLogSink
from tradetui.config import Settings
from tradetui.ui.app import TradeTuiApp


def make_app() -> TradeTuiApp:
    return TradeTuiApp(FrozenEngine(), Settings(), FrozenLogSink())


async def first_snapshot_shown(pilot: Pilot) -> None:
    """Wait (at most 5 s) until the panes show the first snapshot, so renders never race it."""
    app = pilot.app
    assert isinstance(app, TradeTuiApp)
    for _ in range(100):
        if app.snapshots_shown:
            return
        await pilot.pause(0.05)
    raise AssertionError("the app showed no snapshot within 5 s")


def test_console_120x40(snap_compare) -> None:  # noqa: ANN001 - plugin fixture
    """The whole console at its intended size: seven panes, stale SOL/USD dimmed."""
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=first_snapshot_shown)


def test_console_80x24(snap_compare) -> None:  # noqa: ANN001
    """The narrow layout: every pane still visible and titled."""
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=first_snapshot_shown)


def test_console_halted(snap_compare) -> None:  # noqa: ANN001
    """After the kill switch: HALTED badge, no open orders."""
    assert snap_compare(
        make_app(), press=["k"], terminal_size=(120, 40), run_before=first_snapshot_shown
    )


def test_go_live_confirmation(snap_compare) -> None:  # noqa: ANN001
    """The modal that names the live target before any real order can be sent."""

    async def open_modal(pilot: Pilot) -> None:
        await first_snapshot_shown(pilot)
        await pilot.press("t")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=open_modal)
