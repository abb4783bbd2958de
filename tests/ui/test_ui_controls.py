"""Pilot tests of the console's bindings and panes against FrozenEngine (no network, fast)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses

import pytest
from rich.text import Text
from textual.widgets import RichLog

from tests.ui.frozen_engine import (
    FIXED_NOW,
    FrozenEngine,
    FrozenLogLine,
    FrozenLogSink,
    frozen_snapshot,
    stale_snapshot,
)
from tests.ui.test_cell_table import record_repaints
from tradetui.config import Settings
from tradetui.core.api import EngineError
from tradetui.core.model import EngineSnapshot, GateResult, Mode, Quote, TradingState
from tradetui.logs import register_secret
from tradetui.ui import format as fmt
from tradetui.ui.app import TradeTuiApp
from tradetui.ui.palette import Cell
from tradetui.ui.screens.choice import ChoiceScreen
from tradetui.ui.screens.confirm import ConfirmScreen
from tradetui.ui.widgets.header import StatusHeader
from tradetui.ui.widgets.logs import LogsPane
from tradetui.ui.widgets.markets import MarketsPane
from tradetui.ui.widgets.positions import PositionsPane
from tradetui.ui.widgets.risk import RiskPane
from tradetui.ui.widgets.table_pane import TablePane

PANE_TITLES = {"Markets", "Balances", "Positions", "Orders", "Risk", "Circuit breaker", "Logs"}
SIZE = (120, 40)


def make_app(engine: FrozenEngine | None = None) -> TradeTuiApp:
    return TradeTuiApp(engine or FrozenEngine(), Settings(), FrozenLogSink())


def log_text(app: TradeTuiApp) -> str:
    """The Logs pane's text with wrapping undone."""
    lines = app.query_one(LogsPane).query_one(RichLog).lines
    return " ".join(" ".join(strip.text for strip in lines).split())


async def test_all_seven_panes_are_titled() -> None:
    app = make_app()
    async with app.run_test(size=SIZE):
        titles = {str(pane.border_title) for pane in app.query("TablePane, LogsPane")}
        assert titles == PANE_TITLES


async def test_kill_halts_without_confirmation_and_header_says_halted() -> None:
    engine = FrozenEngine()
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("k")
        await pilot.pause()
        assert engine.commands == ["kill"]
        assert not isinstance(app.screen, ConfirmScreen)
        assert engine.snapshot().state is TradingState.HALTED
        header = app.query_one(StatusHeader)
        assert header.state_text == "HALTED"
        assert header.query_one("#state").has_class("-halted")
        assert app.query_one("#orders", TablePane).row_keys == []


async def test_pause_toggles_active_and_paused() -> None:
    engine = FrozenEngine()
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        assert engine.snapshot().state is TradingState.PAUSED
        assert app.query_one(StatusHeader).state_text == "PAUSED"
        await pilot.press("p")
        assert engine.snapshot().state is TradingState.ACTIVE
        assert app.query_one(StatusHeader).state_text == "ACTIVE"


async def test_pause_while_halted_shows_the_engines_refusal_and_stays_halted() -> None:
    """Guards against `p` un-halting: the console asks, the engine refuses, the console reports."""
    engine = FrozenEngine(dataclasses.replace(frozen_snapshot(), state=TradingState.HALTED))
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        await pilot.pause()
        assert engine.snapshot().state is TradingState.HALTED
        notices = [str(n.message) for n in app._notifications]
        assert any("release the kill switch first" in notice for notice in notices)


async def test_going_live_asks_and_names_the_target() -> None:
    engine = FrozenEngine()
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert engine.live_target() in app.screen.question
        assert engine.snapshot().mode is Mode.PAPER
        await pilot.press("y")
        await pilot.pause()
        assert engine.snapshot().mode is Mode.LIVE
        assert app.query_one(StatusHeader).query_one("#mode").has_class("-live")


async def test_declining_or_enter_keeps_paper() -> None:
    """Guards the modal's default: Enter lands on Cancel, never on going live."""
    engine = FrozenEngine()
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("t")
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert engine.commands == []
        assert engine.snapshot().mode is Mode.PAPER


async def test_back_to_paper_with_nothing_left_live_needs_no_confirmation() -> None:
    live = dataclasses.replace(frozen_snapshot(), mode=Mode.LIVE, open_orders=(), positions={})
    engine = FrozenEngine(live)
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t")
        await pilot.pause()
        assert not isinstance(app.screen, ChoiceScreen | ConfirmScreen)
        assert engine.snapshot().mode is Mode.PAPER


@pytest.mark.parametrize(
    ("key", "mode", "cancels"),
    [("c", Mode.PAPER, True), ("p", Mode.PAPER, False), ("n", Mode.LIVE, False)],
    ids=["cancel-then-paper", "leave-them", "stay-live"],
)
async def test_back_to_paper_names_what_stays_live_and_offers_to_cancel_it(
    key: str, mode: Mode, cancels: bool
) -> None:
    engine = FrozenEngine(dataclasses.replace(frozen_snapshot(), mode=Mode.LIVE))
    live_orders = [o.client_id for o in engine.snapshot().open_orders]
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        assert f"{len(live_orders)} live order(s)" in app.screen.question
        assert "live positions: " in app.screen.question
        await pilot.press(key)
        await pilot.pause()
        await pilot.pause()
        assert engine.snapshot().mode is mode
        cancelled = [c.removeprefix("cancel_order ") for c in engine.commands if "cancel" in c]
        assert cancelled == (live_orders if cancels else [])


async def test_release_asks_then_pauses() -> None:
    engine = FrozenEngine(dataclasses.replace(frozen_snapshot(), state=TradingState.HALTED))
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
        assert engine.snapshot().state is TradingState.PAUSED


async def test_failed_mode_switch_is_reported_not_raised() -> None:
    class NoCredentialsEngine(FrozenEngine):
        async def set_mode(self, mode: Mode) -> None:
            raise EngineError("no credentials stored; run `tradetui setup` first")

    app = make_app(NoCredentialsEngine())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t", "y")
        await pilot.pause()
        assert app.is_running
        assert "run `tradetui setup` first" in log_text(app)
        assert any("setup" in str(n.message) for n in app._notifications)


async def test_start_failure_is_shown_in_logs_and_panes() -> None:
    class UnreachableEngine(FrozenEngine):
        async def start(self) -> None:
            raise EngineError("venue sim did not answer within 30s")

    engine = UnreachableEngine(dataclasses.replace(frozen_snapshot(), connected=False))
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        assert app.is_running
        assert app.start_error == "venue sim did not answer within 30s"
        assert "did not answer within 30s" in log_text(app)
        placeholder = app.query_one("#markets").query_one(".placeholder")
        assert "engine failed to start" in str(placeholder.render())


async def test_panes_say_connecting_until_connected() -> None:
    engine = FrozenEngine(dataclasses.replace(frozen_snapshot(), connected=False))
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        markets = app.query_one("#markets", TablePane)
        assert str(markets.query_one(".placeholder").render()) == "connecting…"
        assert not markets.table.display
        engine.current = frozen_snapshot()
        app.refresh_snapshot()
        await pilot.pause()
        assert markets.table.display
        assert markets.row_keys == ["BTC/USD", "ETH/USD", "SOL/USD"]


async def test_stale_quote_is_dimmed_and_fresh_ones_are_not() -> None:
    app = make_app()
    async with app.run_test(size=SIZE):
        markets = app.query_one(MarketsPane)
        fresh = markets.build_rows(frozen_snapshot())
        assert fresh["BTC/USD"][1].tone == "bid"
        assert fresh["BTC/USD"][2].tone == "ask"
        stale = markets.build_rows(stale_snapshot())
        assert {cell.tone for cell in stale["SOL/USD"]} == {"stale"}
        assert stale["SOL/USD"][5].text == "41.0"  # the age is shown, not hidden


async def test_a_changed_quote_repaints_only_its_row() -> None:
    """Guards the keyed-row diff: a tick repaints the rows that changed, and only those."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        markets = app.query_one(MarketsPane)
        assert markets.row_keys == ["BTC/USD", "ETH/USD", "SOL/USD"]
        table = markets.table
        repainted = record_repaints(table)
        before = frozen_snapshot()
        btc = before.quotes["BTC/USD"]
        moved = Quote(btc.symbol, btc.bid + 1, btc.ask + 1, btc.last, 1.0, 1.0, btc.received_at)
        markets.show_snapshot(
            dataclasses.replace(before, quotes={**before.quotes, "BTC/USD": moved})
        )
        assert repainted == [1]  # line 0 is the header, line 1 the BTC/USD row
        assert fmt.price(moved.bid) in table.render_line(1).text
        assert table.row_count == 3


def no_open_orders() -> FrozenEngine:
    return FrozenEngine(dataclasses.replace(frozen_snapshot(), open_orders=()))


async def test_quit_stops_the_engine() -> None:
    engine = no_open_orders()
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert engine.stopped


async def test_quit_asks_first_while_orders_are_open() -> None:
    engine = FrozenEngine()
    assert engine.snapshot().open_orders
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert not engine.stopped and not isinstance(app.screen, ConfirmScreen)
        await pilot.press("q")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause(0.3)
    assert engine.stopped


async def test_c_cancels_the_order_under_the_cursor_only() -> None:
    engine = FrozenEngine()
    first, second = sorted(engine.snapshot().open_orders, key=lambda o: (o.created_at, o.client_id))
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.orders_pane.table.move_cursor(1)
        await pilot.press("c")
        await pilot.pause()
    assert engine.commands == [f"cancel_order {second.client_id}"]
    assert [o.client_id for o in engine.snapshot().open_orders] == [first.client_id]


async def test_bindings_have_ids() -> None:
    app = make_app()
    async with app.run_test(size=SIZE):
        ids = {binding.id for binding in app.BINDINGS if hasattr(binding, "id")}
        assert {"pause", "mode", "kill", "quit"} <= ids


async def test_quitting_twice_stops_the_engine_once_and_waits_for_it() -> None:
    """Guards against a second `q` exiting before the first stop has finished."""

    class SlowStopEngine(FrozenEngine):
        stop_calls = 0

        async def stop(self) -> None:
            SlowStopEngine.stop_calls += 1
            await asyncio.sleep(0.2)
            self.stopped = True

    engine = SlowStopEngine(dataclasses.replace(frozen_snapshot(), open_orders=()))
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q", "q")
    assert engine.stopped
    assert SlowStopEngine.stop_calls == 1


async def test_logs_pane_appends_only_new_lines() -> None:
    sink = FrozenLogSink()
    app = TradeTuiApp(FrozenEngine(), Settings(), sink)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.refresh_snapshot()
        assert log_text(app).count("engine started") == 1
        sink._lines.append(FrozenLogLine(4, FIXED_NOW, "INFO", "tradetui.orders", "order filled"))
        app.refresh_snapshot()
        app.refresh_snapshot()
        await pilot.pause()
        assert log_text(app).count("order filled") == 1
        assert log_text(app).count("engine started") == 1
        assert app.logs_pane.last_seq == 4


async def test_kill_works_while_the_go_live_modal_is_open() -> None:
    """Guards the kill switch against being swallowed by a modal screen."""
    engine = FrozenEngine()
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("k")
        await pilot.pause()
        assert engine.snapshot().state is TradingState.HALTED


async def test_positions_show_copy_drift_against_the_leader_and_flag_a_large_one() -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)):
        rows = app.query_one(PositionsPane).build_rows(frozen_snapshot())
        assert rows["BTC/USD"][-1] == Cell("whale -25%", "warning")  # 0.015 held, 0.02 called for
        assert rows["ETH/USD"][-1].text == "-"  # no leader trades ETH


async def test_the_copy_drift_column_shows_only_while_copy_trading_has_something_to_say() -> None:
    engine = FrozenEngine(dataclasses.replace(frozen_snapshot(), copy_drift={}))
    app = make_app(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        positions = app.query_one(PositionsPane)
        assert "drift" not in positions.visible_columns
        assert "copy drift" not in positions.table.render_line(0).text
        engine.current = frozen_snapshot()
        app.refresh_snapshot()
        await pilot.pause()
        assert positions.visible_columns[-1] == "drift"
        assert "whale -25%" in positions.table.render_line(1).text


class CrashingEngine(FrozenEngine):
    """Its snapshot raises with a secret in the message, as a broken component might."""

    def snapshot(self) -> EngineSnapshot:
        if self.started:
            raise RuntimeError(f"signing with {CRASH_SECRET} went wrong")
        return super().snapshot()


CRASH_SECRET = "kZ3vN8qT1xW5yB7mR2pL9sD4fG6hJ0aQcE8uI3oP5tY7wX1nM"


async def test_a_console_crash_report_masks_secrets_and_shows_no_local_variables() -> None:
    register_secret(CRASH_SECRET)
    app = TradeTuiApp(CrashingEngine(), Settings(), FrozenLogSink())
    printed: list[object] = []
    print_reports = app._print_error_renderables

    def keep_reports() -> None:  # the app prints its crash reports to stderr, then drops them
        printed.extend(app._exit_renderables)
        print_reports()

    app._print_error_renderables = keep_reports  # type: ignore[method-assign]
    with contextlib.suppress(RuntimeError):  # run_test re-raises the crash itself
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause(1.0)
    [report] = printed
    assert isinstance(report, Text)
    assert "signing with *** went wrong" in report.plain
    assert CRASH_SECRET not in report.plain


def test_slow_panes_take_turns_so_that_no_tick_redraws_them_all() -> None:
    slow = [pane for pane in make_app().table_panes if pane.EVERY_NTH_SNAPSHOT > 1]
    ticks = range(12)
    assert len(slow) == 4
    assert all(any(pane.due(t) for t in range(pane.EVERY_NTH_SNAPSHOT)) for pane in slow)
    assert max(sum(pane.due(t) for pane in slow) for t in ticks) < len(slow)


async def test_unknown_equity_and_gate_values_show_as_unknown_never_zero() -> None:
    """Guards "the UI shows unknown as unknown": equity, day PnL and a gate's value the engine
    cannot know read as unknown (a dash in the Risk pane), with the gate's own code."""
    unknown_start = GateResult("daily_loss", False, "DAY_START_UNKNOWN", None, 5.0)
    snapshot = dataclasses.replace(
        frozen_snapshot(),
        equity=None,
        day_pnl=None,
        peak_equity=None,
        gates=(*frozen_snapshot().gates, unknown_start),
        last_rejections={"daily_loss": unknown_start},
    )
    app = make_app(FrozenEngine(snapshot))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        header = app.query_one(StatusHeader)
        assert (header.shown("equity"), header.shown("day-pnl")) == (
            "equity unknown USD",
            "day unknown",
        )
        row = app.query_one(RiskPane).build_rows(snapshot)["daily_loss"]
        assert [cell.text for cell in row] == [
            "daily_loss",
            "FAIL",
            fmt.DASH,
            "5",
            fmt.DASH,
            "DAY_START_UNKNOWN",
        ]
