"""Pilot tests of help, log search and level filter, the command palette and key remapping."""

from __future__ import annotations

from textual.command import CommandPalette
from textual.widgets import DataTable, Input

from tests.ui.frozen_engine import FrozenEngine, FrozenLogSink
from tradetui.config import Settings, UiSettings
from tradetui.core.model import TradingState
from tradetui.ui.app import TradeTuiApp
from tradetui.ui.screens.help import HelpScreen
from tradetui.ui.widgets.table_pane import TablePane

SIZE = (120, 40)


def make_app(engine: FrozenEngine, keys: dict[str, str] | None = None) -> TradeTuiApp:
    return TradeTuiApp(engine, Settings(ui=UiSettings(keys=keys or {})), FrozenLogSink())


async def test_question_mark_lists_every_binding_by_id_and_escape_closes_it() -> None:
    app = make_app(FrozenEngine())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        listed = {row.binding_id for row in app.screen.rows}
        assert {"pause", "mode", "kill", "flatten", "release", "cancel", "search", "help"} <= listed
        assert app.screen.query_one(DataTable).row_count == len(app.screen.rows)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_a_remapped_kill_key_halts_the_engine_and_the_old_key_does_nothing() -> None:
    engine = FrozenEngine()
    app = make_app(engine, keys={"kill": "x", "pause": "ctrl+s"})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("k")
        await pilot.pause()
        assert engine.snapshot().state is TradingState.ACTIVE
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert engine.snapshot().state is TradingState.PAUSED
        await pilot.press("x")
        await pilot.pause()
        assert engine.snapshot().state is TradingState.HALTED
        assert "kill" in engine.commands
        assert {row.keys for row in app.key_help() if row.binding_id == "kill"} == {"x"}


async def test_an_unknown_binding_id_in_the_config_is_reported_not_fatal() -> None:
    app = make_app(FrozenEngine(), keys={"kil": "x"})
    async with app.run_test(size=SIZE):
        notices = [str(n.message) for n in app._notifications]
        assert any("unknown binding id(s) kil" in notice for notice in notices)


async def test_slash_filters_the_logs_and_typing_k_there_is_not_the_kill_switch() -> None:
    engine = FrozenEngine()
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        logs = app.logs_pane
        assert logs.shown == 3
        await pilot.press("slash")
        await pilot.pause()
        assert isinstance(app.focused, Input)
        await pilot.press(*"stale")
        await pilot.pause()
        assert logs.search == "stale"
        assert logs.shown == 1
        assert "1 of 3" in str(logs.border_subtitle)
        await pilot.press("k")  # a search for "stalek": text, not the kill switch
        await pilot.pause()
        assert engine.snapshot().state is TradingState.ACTIVE
        assert logs.shown == 0
        await pilot.press("ctrl+k")  # the kill switch's second key works from the search field
        await pilot.pause()
        assert engine.snapshot().state is TradingState.HALTED
        await pilot.press("escape")
        await pilot.pause()
        assert logs.search == ""
        assert logs.shown == 3
        assert app.focused is None


async def test_enter_keeps_the_search_and_hands_the_keys_back() -> None:
    engine = FrozenEngine()
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"orders", "enter")
        await pilot.pause()
        assert app.logs_pane.search == "orders"
        assert app.logs_pane.shown == 1
        await pilot.press("p")
        await pilot.pause()
        assert engine.snapshot().state is TradingState.PAUSED


async def test_l_raises_the_minimum_log_level_and_wraps_around() -> None:
    app = make_app(FrozenEngine())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        logs = app.logs_pane
        levels_and_counts = []
        for _ in range(4):
            await pilot.press("l")
            await pilot.pause()
            levels_and_counts.append((logs.min_level, logs.shown))
        # The frozen sink holds one INFO, one WARNING and one ERROR line.
        assert levels_and_counts == [("INFO", 3), ("WARNING", 2), ("ERROR", 1), ("DEBUG", 3)]


async def test_the_command_palette_runs_console_actions_on_the_engine() -> None:
    engine = FrozenEngine()
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert {"Pause", "Paper/live", "KILL", "Flatten", "Release", "Help"} <= titles
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"KILL")
        await pilot.pause(0.5)
        await pilot.press("enter")
        for _ in range(20):
            if engine.snapshot().state is TradingState.HALTED:
                break
            await pilot.pause(0.05)
        assert engine.snapshot().state is TradingState.HALTED
        assert "kill" in engine.commands


async def test_z_zooms_the_focused_pane_and_z_again_restores_the_layout() -> None:
    app = make_app(FrozenEngine())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("z")
        await pilot.pause()
        assert app.screen.maximized is app.orders_pane  # Orders has the keyboard at start
        assert "id" in app.orders_pane.visible_columns  # zoomed: every column, even at 80x24
        await pilot.press("z")
        await pilot.pause()
        assert app.screen.maximized is None
        assert app.orders_pane.visible_columns == ["symbol", "side", "price", "filled", "status"]


async def test_a_wide_terminal_shows_every_column_and_a_narrow_one_the_essentials() -> None:
    app = make_app(FrozenEngine())
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert "trend" in app.query_one("#markets", TablePane).visible_columns
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        markets = app.query_one("#markets", TablePane)
        assert markets.visible_columns == ["symbol", "bid", "ask", "spread", "age"]
        assert markets.table.row_count == 3  # rows re-rendered, not lost
