"""Provides TradeTuiApp: composes the panes, owns the bindings and reads engine snapshots on a timer."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import traceback
from collections.abc import Awaitable, Callable, Iterable

from rich.text import Text
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Grid
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import Worker

from tradetui.config import Settings
from tradetui.core.api import CommandRefused, EngineControls, EngineError
from tradetui.core.model import EngineSnapshot, Mode, TradingState
from tradetui.logs import redact
from tradetui.ui.bindings import CONSOLE_BINDINGS, console_keymap, key_help
from tradetui.ui.bridge import EngineCommandFailed, EngineStartFailed, LogSource
from tradetui.ui.screens.choice import back_to_paper_screen
from tradetui.ui.screens.confirm import ConfirmScreen
from tradetui.ui.screens.help import HelpScreen, KeyHelp
from tradetui.ui.themes import fallback_variables, install_themes
from tradetui.ui.widgets.balances import BalancesPane
from tradetui.ui.widgets.breakers import BreakersPane
from tradetui.ui.widgets.header import StatusHeader
from tradetui.ui.widgets.logs import LogsPane
from tradetui.ui.widgets.markets import MarketsPane
from tradetui.ui.widgets.orders import OrdersPane
from tradetui.ui.widgets.positions import PositionsPane
from tradetui.ui.widgets.risk import RiskPane
from tradetui.ui.widgets.table_pane import NARROW_BELOW, TablePane

MIN_REFRESH_HZ = 4.0
MAX_REFRESH_HZ = 10.0
MARKETS_MIN_ROWS = 7
"""Markets row height in a wide terminal with few symbols (app.tcss says the same)."""


class TradeTuiApp(App[int]):
    """The operator's console: seven panes over one engine, refreshed from snapshots."""

    TITLE = "tradetui"
    CSS_PATH = "app.tcss"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (NARROW_BELOW, "-wide")]
    # Arrow keys move through open orders from the start (c cancels the one selected).
    AUTO_FOCUS = "#orders CellTable"
    BINDINGS = CONSOLE_BINDINGS

    def __init__(
        self, engine: EngineControls, settings: Settings, log_sink: LogSource | None = None
    ) -> None:
        super().__init__()
        self.engine = engine
        """The engine this console reads and commands."""
        self.settings = settings
        """Settings the app was started with (theme, refresh rate, risk limits)."""
        self.log_sink = log_sink
        """Source of the Logs pane, or None."""
        self.refresh_hz = min(MAX_REFRESH_HZ, max(MIN_REFRESH_HZ, settings.ui.refresh_hz))
        """How often panes re-read the engine snapshot."""
        self.ever_connected = False
        """True once a snapshot said connected; before that the panes say "connecting…"."""
        self.start_error = ""
        """Why the engine failed to start (empty while it has not failed)."""
        self.attached = bool(getattr(engine, "keeps_engine_running", False))
        """True when this console is attached to an engine that outlives it (``tradetui attach``)."""
        self.snapshots_shown = 0
        """How many snapshots the panes have shown (tests wait on the first)."""
        self._markets_rows: int | None = None
        """Height given to the Markets row in a wide terminal (None: the stylesheet's)."""
        self._engine_stop: asyncio.Future[None] | None = None
        self._start_worker: Worker[None] | None = None
        self._notices = [install_themes(self, settings.ui.theme), self._install_keymap(settings)]
        # Kept as attributes: while a modal is up, query_one() searches the modal, not these.
        self.header = StatusHeader(id="header")
        """Mode, state, venue, equity, day PnL and clock."""
        self.orders_pane = OrdersPane(id="orders")
        """Open orders; its row cursor selects the order `c` cancels."""
        self.table_panes: tuple[TablePane, ...] = (
            MarketsPane(settings.risk.max_quote_age_s, id="markets"),
            BalancesPane(id="balances"),
            PositionsPane(id="positions"),
            self.orders_pane,
            RiskPane(id="risk"),
            BreakersPane(id="breakers"),
        )
        """Every pane that shows a table, in layout order."""
        self.logs_pane = LogsPane(log_sink, id="logs")
        """The tail of the log sink plus the UI's own notices."""

    def _install_keymap(self, settings: Settings) -> str:
        """Apply the config's key remaps by binding id; returns a notice naming unknown ids."""
        self.keymap, notice = console_keymap(settings.ui.keys)
        self.set_keymap(self.keymap)
        return notice

    def key_help(self) -> list[KeyHelp]:
        """Every console key as bound now (after the keymap), for the help screen."""
        return key_help(self.keymap, self.get_key_display)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        for binding in self.BINDINGS:
            if isinstance(binding, Binding) and binding.id is not None:
                help_text = binding.tooltip or binding.description
                yield SystemCommand(binding.description, help_text, self._palette_action(binding))
        for command in super().get_system_commands(screen):
            if command.title != "Quit":  # ours (above) asks first while orders are open
                yield command

    def _palette_action(self, binding: Binding) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await self.run_action(binding.action)

        return run

    def get_theme_variable_defaults(self) -> dict[str, str]:
        # Built-in Textual themes lack the app variables; derive them from the theme's own colours.
        return fallback_variables(self.current_theme.to_color_system().generate())

    def compose(self) -> ComposeResult:
        yield self.header
        with Grid(id="panes"):
            yield from self.table_panes
            yield self.logs_pane
        yield Footer(compact=True)

    def on_mount(self) -> None:
        for notice in filter(None, self._notices):
            self.notify(notice, severity="warning", timeout=10)
        # After the first paint every pane has composed its children, and the engine starts
        # while the operator already sees "connecting…".
        self.call_after_refresh(self._after_first_paint)

    def _after_first_paint(self) -> None:
        self.refresh_snapshot()
        self.set_interval(1 / self.refresh_hz, self._tick)
        self._start_worker = self.run_worker(self._run_start(), name="engine-start", group="engine")
        # Everything built so far lives as long as the app: keep the collector from walking it
        # on every full collection (a 100 ms pause in the middle of a frame otherwise).
        gc.freeze()

    async def _run_start(self) -> None:
        try:
            await self.engine.start()
        except EngineError as exc:
            self.post_message(EngineStartFailed(str(exc)))
            return
        gc.freeze()  # the engine, built after the first paint, lives as long as the app too

    def _tick(self) -> None:
        self.refresh_snapshot(every_pane=False)

    def refresh_snapshot(self, every_pane: bool = True) -> None:
        """Read one engine snapshot and hand it to the panes (slow-moving ones only on their tick
        unless ``every_pane``: after a command, every pane shows its effect at once)."""
        if not self.is_running:
            return  # shutting down: the panes may already be gone
        snapshot = self.engine.snapshot()
        first_connected = snapshot.connected and not self.ever_connected
        self.ever_connected = self.ever_connected or snapshot.connected
        with self.batch_update():
            self._show(snapshot, every_pane or first_connected)
        self.snapshots_shown += 1

    def _show(self, snapshot: EngineSnapshot, every_pane: bool) -> None:
        if self.ever_connected:
            self._fit_markets(len(snapshot.symbols))
            self.header.show_snapshot(snapshot)
            for pane in self.table_panes:
                if every_pane or pane.due(self.snapshots_shown):
                    pane.show_snapshot(snapshot)
        else:
            waiting = f"engine failed to start: {self.start_error}" if self.start_error else ""
            note = snapshot.starting_note() or "connecting…"
            self.header.show_snapshot(snapshot, "not started" if waiting else note)
            for pane in self.table_panes:
                pane.show_waiting(waiting or note)
        self.logs_pane.poll()

    def _fit_markets(self, symbols: int) -> None:
        """In a wide terminal, let the Markets row grow with the symbols (up to a third)."""
        if self.size.width < NARROW_BELOW:
            rows = None  # the narrow layout's fixed rows (app.tcss) apply
        else:
            rows = max(MARKETS_MIN_ROWS, min(symbols + 4, self.size.height // 3))
        if rows != self._markets_rows:
            self._markets_rows = rows
            grid = self.query_one("#panes", Grid)
            if rows is None:
                grid.styles.clear_rule("grid_rows")
            else:
                grid.set_styles(f"grid-rows: {rows} 8 7 1fr;")

    def on_engine_start_failed(self, message: EngineStartFailed) -> None:
        self.start_error = message.reason
        self.notify(message.reason, title="Engine did not start", severity="error", timeout=10)
        self._log_notice(message.reason)
        self.refresh_snapshot()

    def on_engine_command_failed(self, message: EngineCommandFailed) -> None:
        if message.refused:  # an operator rule said no: nothing failed
            self.notify(message.reason, title=f"{message.command}: not done", severity="warning")
            self._log_notice(f"{message.command}: {message.reason}", "WARNING")
        else:
            self.notify(message.reason, title=f"{message.command} failed", severity="error")
            self._log_notice(f"{message.command}: {message.reason}")
        self.refresh_snapshot()

    def _log_notice(self, text: str, level: str = "ERROR") -> None:
        """Write a line of the UI's own into the Logs pane, stamped with the engine's clock."""
        self.logs_pane.write_line(self.engine.snapshot().taken_at, level, "ui", text)

    def _command(self, name: str, command: Awaitable[object]) -> None:
        """Run an engine command in a worker; an EngineError becomes a notification."""

        async def run() -> None:
            try:
                await command
            except EngineError as exc:
                refused = isinstance(exc, CommandRefused)
                self.post_message(EngineCommandFailed(name, str(exc), refused))
            else:
                self.call_next(self.refresh_snapshot)

        self.run_worker(run(), name=name, group="commands")

    def action_pause(self) -> None:
        """Toggle ACTIVE <-> PAUSED (the engine refuses while HALTED)."""
        self._command("pause", self.engine.toggle_pause())

    def action_kill(self) -> None:
        """Pull the kill switch: no confirmation, the engine halts before anything else runs."""
        self.engine.halt()  # inside the key handler: no order can slip out before the cancel
        self._command("kill", self.engine.kill())
        self.refresh_snapshot()

    def action_flatten(self) -> None:
        """Ask, then pull the kill switch and close every position at market."""

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self.engine.halt()
                self._command("flatten", self.engine.flatten(confirmed=True))

        question = (
            "Flatten? Trading halts, every open order is cancelled and every position is "
            "sold at market."
        )
        self.push_screen(ConfirmScreen("Flatten", question, "Flatten"), answered)

    def action_release(self) -> None:
        """Ask, then release the kill switch (HALTED -> PAUSED)."""
        if self.engine.snapshot().state is not TradingState.HALTED:
            # Nothing to confirm: the engine says why there is nothing to release.
            self._command("release", self.engine.release())
            return

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self._command("release", self.engine.release(confirmed=True))

        question = "Release the kill switch? Trading resumes PAUSED; press p to go ACTIVE."
        self.push_screen(ConfirmScreen("Release kill switch", question, "Release"), answered)

    def action_toggle_mode(self) -> None:
        """Go back to paper (asking first when live orders or positions stay on the venue), or
        ask before going live."""
        snapshot = self.engine.snapshot()
        if snapshot.mode is Mode.LIVE:
            self._back_to_paper(snapshot)
            return

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self._command("live mode", self.engine.set_mode(Mode.LIVE))

        question = f"Send real orders to {self.engine.live_target()}?"
        self.push_screen(ConfirmScreen("Go LIVE", question, "Go live"), answered)

    def _back_to_paper(self, snapshot: EngineSnapshot) -> None:
        screen = back_to_paper_screen(snapshot)
        if screen is None:
            self._command("paper mode", self.engine.set_mode(Mode.PAPER))
            return

        async def cancel_then_paper() -> None:
            for order in snapshot.open_orders:
                await self.engine.cancel_order(order.client_id)
            await self.engine.set_mode(Mode.PAPER)

        def answered(answer: str | None) -> None:
            if answer == "cancel-orders":
                self._command("paper mode", cancel_then_paper())
            elif answer == "leave":
                self._command("paper mode", self.engine.set_mode(Mode.PAPER))

        self.push_screen(screen, answered)

    def action_cancel_order(self) -> None:
        """Cancel the order under the Orders pane's cursor (no confirmation: it only removes risk)."""
        client_id = self.orders_pane.selected_key()
        if client_id is None:
            self.notify("No open order is selected.")
            return
        self._command("cancel order", self.engine.cancel_order(client_id))

    def action_zoom(self) -> None:
        """Maximise the focused pane (the Orders pane when none has focus), or restore."""
        screen = self.screen
        if screen.maximized is not None:
            screen.minimize()
            return
        target = self.focused or self.orders_pane.table
        if not screen.maximize(target, container=True):
            self.notify("Nothing to zoom: press tab to focus a pane first.")

    def action_search_logs(self) -> None:
        """Open the Logs pane's search field."""
        self.logs_pane.open_search()

    def action_log_level(self) -> None:
        """Raise the Logs pane's minimum level one step (wrapping back to everything)."""
        level = self.logs_pane.cycle_level()
        self.notify(f"Logs pane shows {level} and above.", timeout=2)

    def action_help(self) -> None:
        """Show every key, as remapped by the config."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.key_help()))

    async def action_quit(self) -> None:
        """Stop the engine (attached: detach), then exit; asks first while orders are open."""
        if self.attached:
            await self._quit()  # the engine and its orders carry on without this console
            return
        open_orders = len(self.engine.snapshot().open_orders)
        if not open_orders:
            await self._quit()
            return

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self.run_worker(self._quit(), name="quit", group="quit")

        question = (
            f"{open_orders} order(s) are open and stay open after tradetui stops "
            "(press k first to cancel them). Quit anyway?"
        )
        self.push_screen(ConfirmScreen("Quit", question, "Quit"), answered)

    async def _quit(self) -> None:
        self.notify(
            "Detaching; the engine keeps running…" if self.attached else "Stopping the engine…",
            timeout=30,
        )
        await self.stop_engine()
        self.exit(0)

    async def on_unmount(self) -> None:
        # Covers every other way out (errors, ctrl+q, run_test's context ending).
        await self.stop_engine()

    def _fatal_error(self) -> None:
        # Textual's own report prints the raw message and every frame's local variables, where a
        # secret may sit; this one goes through the log's redaction, with no locals.
        error = sys.exc_info()[1]
        report = "".join(traceback.format_exception(error)) if error else "unexpected error"
        logging.getLogger("tradetui.ui").critical("the console crashed", exc_info=error)
        self.bell()
        self._exit_renderables.append(Text(redact(report.rstrip())))
        self._close_messages_no_wait()

    async def stop_engine(self) -> None:
        """Stop the engine exactly once; every caller waits for that one stop to finish."""
        if self._engine_stop is None:
            self._engine_stop = asyncio.ensure_future(self._stop_engine_once())
        await self._engine_stop

    async def _stop_engine_once(self) -> None:
        if self._start_worker is not None and self._start_worker.is_running:
            self._start_worker.cancel()
            await asyncio.sleep(0)
        await self.engine.stop()


def run_app(engine: EngineControls, settings: Settings, log_sink: LogSource | None) -> int:
    """Run the terminal UI until the operator quits; returns the process exit code."""
    app = TradeTuiApp(engine, settings, log_sink)
    app.run()
    return app.return_code or 0
