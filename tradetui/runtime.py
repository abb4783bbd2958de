"""Provides the runtime: the one place that builds the application (the engine with its venue access,
alerts, control socket, SIGUSR1 kill switch and /health + /metrics), starts it, and stops it in
reverse, for the headless bot, the console, ``tradetui attach`` and ``tradetui serve``'s tabs.

Importing this module is cheap: the console imports it before its first paint and builds the
Runtime after, importing ENGINE_MODULES in a thread meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tradetui.config import Settings, VenueSettings
from tradetui.core.api import EngineError
from tradetui.core.model import CancelReport, EngineSnapshot, Mode
from tradetui.paths import DataPaths

if TYPE_CHECKING:
    from tradetui.core.engine import Engine
    from tradetui.core.venue.connect import ApiKey, EmbeddedSim, VenueAccess
    from tradetui.logs import LogSink
    from tradetui.ops.http import OpsServer
    from tradetui.ops.remote import ControlClient

ENGINE_MODULES = (
    "tradetui.core.engine",
    "tradetui.ops.alerts",
    "tradetui.ops.control",
    "tradetui.ops.http",
)
"""What building a Runtime imports (a few hundred milliseconds on a small machine)."""

log = logging.getLogger("tradetui")


def venue_access() -> VenueAccess:
    """What the engine needs from outside core to open a venue: the credential stores and the
    embedded simulator."""
    from tradetui.core.venue.connect import VenueAccess
    from tradetui.credentials.stores import missing_credentials_message

    return VenueAccess(_lookup_credentials, missing_credentials_message, _start_simulator)


def _lookup_credentials(account: str, exchange: str) -> ApiKey | str:
    from tradetui.core.venue.connect import ApiKey
    from tradetui.credentials.stores import lookup_credentials

    found = lookup_credentials(account, exchange)
    if found.credentials is None:
        return found.problem
    credentials = found.credentials
    return ApiKey(
        credentials.api_key, credentials.secret, credentials.passphrase or "", found.sandbox
    )


async def _start_simulator(settings: VenueSettings, data_dir: Path) -> EmbeddedSim:
    from tradetui.core.venue.connect import ApiKey, EmbeddedSim
    from tradetui.core.venue.errors import VenueSetupError
    from tradetui.sim.persist import SimStateError
    from tradetui.sim.schedule import ListingSchedule
    from tradetui.sim.server import SimServer

    sim = SimServer(
        host="127.0.0.1",
        port=0,
        seed=settings.sim_seed,
        state_file=data_dir / "sim-state.json",
        schedule=ListingSchedule().scaled(settings.sim_schedule_scale),
    )
    try:
        info = await sim.start()
    except SimStateError as exc:
        raise VenueSetupError(str(exc)) from None
    leader = None
    if info.leader_api_key and info.leader_secret:
        leader = ApiKey(info.leader_api_key, info.leader_secret)
    address = info.rest.removeprefix("http://")
    return EmbeddedSim(info.ccxt_config(), address, leader, sim.stop, sim)


def build_engine(
    settings: Settings, paths: DataPaths, clock: Callable[[], float] = time.time
) -> Engine:
    """An engine (not started) with the real venue access; everything else is Runtime's."""
    from tradetui.core.engine import Engine

    return Engine(settings, paths, venue_access(), clock)


class Runtime:
    """The application around one engine: alerts, the control socket, SIGUSR1 and, when asked,
    /health and /metrics. It implements the engine contract, forwarding commands to the engine."""

    def __init__(
        self,
        settings: Settings,
        paths: DataPaths,
        log_sink: LogSink | None = None,
        *,
        http: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        from tradetui.ops.alerts import Alerter
        from tradetui.ops.control import ControlServer, SignalKillSwitch

        self.settings = settings
        self.engine = build_engine(settings, paths, clock)
        """The engine this runtime serves."""
        self._alerter = Alerter(settings.ops)
        self.engine.alerts.hook = self._alerter.alert
        self._control = ControlServer(self.engine, paths.root, log_sink)
        self._kill_switch = SignalKillSwitch(self.engine)
        self._http = http
        self.ops_server: OpsServer | None = None
        """The /health and /metrics listener, once started (None when not asked for)."""

    async def start(self) -> None:
        """SIGUSR1 first (its default action would end the process), then the engine's data dir,
        the control socket and the HTTP listener, then the engine's connection to the venue;
        raises EngineError (one line)."""
        self._kill_switch.install()
        await self.engine.open()  # the data-dir lock is ours from here: a socket file is stale
        # ctl, attach, /health and /metrics answer while the engine connects and reconciles.
        await self._control.start_logged()
        if self._http:
            from tradetui.ops.http import start_ops_server

            self.ops_server = await start_ops_server(self.engine)
        await self.engine.start()

    async def close_front(self) -> None:
        """Stop taking commands: SIGUSR1 only halts from now on (its running cancels finish),
        the control socket closes (its running commands finish), the HTTP listener stops."""
        await self._kill_switch.drain()
        await self._control.close()
        if self.ops_server is not None:
            await self.ops_server.stop()
            self.ops_server = None

    async def stop(self) -> None:
        """Stop in reverse: what takes commands (``close_front``), the engine, then the alerts
        still to be delivered."""
        await self.close_front()
        await self.engine.stop()
        await self._alerter.aclose()  # the engine-stopped alert goes out before the loop ends

    def snapshot(self) -> EngineSnapshot:
        """The engine's snapshot."""
        return self.engine.snapshot()

    def halt(self) -> None:
        """The engine's halt."""
        self.engine.halt()

    async def kill(self) -> None:
        """The engine's kill switch."""
        await self.engine.kill()

    async def pause(self) -> None:
        """The engine's pause."""
        await self.engine.pause()

    async def resume(self) -> None:
        """The engine's resume."""
        await self.engine.resume()

    async def toggle_pause(self) -> None:
        """The engine's pause toggle."""
        await self.engine.toggle_pause()

    async def release(self, confirmed: bool = False) -> None:
        """The engine's release of the kill switch."""
        await self.engine.release(confirmed)

    async def flatten(self, confirmed: bool = False) -> bool:
        """The engine's flatten."""
        return await self.engine.flatten(confirmed)

    async def cancel_order(self, client_id: str) -> bool:
        """The engine's cancel of one order."""
        return await self.engine.cancel_order(client_id)

    async def cancel_all(self) -> CancelReport:
        """The engine's cancel of every known order."""
        return await self.engine.cancel_all()

    async def set_mode(self, mode: Mode) -> None:
        """The engine's paper/live switch."""
        await self.engine.set_mode(mode)

    def live_target(self) -> str:
        """Where the engine's live orders would go."""
        return self.engine.live_target()


async def run_headless(
    settings: Settings,
    paths: DataPaths,
    run_for: float | None,
    log_sink: LogSink | None = None,
    summary: list[str] | None = None,
) -> int:
    """Run the engine without the console until SIGINT/SIGTERM (or ``run_for`` seconds); SIGHUP
    reopens the log files. Returns the exit code; appends the session summary to ``summary``."""
    from tradetui.logs import redact

    runtime = Runtime(settings, paths, log_sink, http=settings.ops.http_enabled)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    # A server's SIGHUP (an SSH session closing, logrotate) must not stop a headless bot.
    loop.add_signal_handler(signal.SIGHUP, _reopen_log_files)
    started_at: float | None = None
    # Whatever happens, stop the engine: its store thread would otherwise keep the process alive.
    try:
        try:
            await runtime.start()
        except EngineError as exc:
            print(f"tradetui: {redact(str(exc))}", file=sys.stderr)
            return 2
        started_at = runtime.snapshot().taken_at
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), run_for)
        return 0
    finally:
        await runtime.close_front()  # a command still running finishes before the summary
        final = runtime.snapshot() if started_at is not None else None
        await runtime.stop()
        if final is not None and started_at is not None and summary is not None:
            from tradetui.core.summary import report_session

            refusals = runtime.engine.strategy_refusals()
            summary += report_session(paths.database, final, started_at, refusals)


def _reopen_log_files() -> None:
    """SIGHUP, headless: keep trading and reopen the log files (after an external rotation)."""
    from tradetui.logs import reopen_log_files

    reopen_log_files()
    log.info("SIGHUP: log files reopened", extra={"event": "logs_reopened"})


def run_console(settings: Settings, paths: DataPaths, log_sink: LogSink | None) -> int:
    """Run the console on a Runtime built after the first paint; returns the exit code."""
    from tradetui.ui.app import run_app
    from tradetui.ui.deferred_engine import DeferredEngine

    def build() -> Runtime:
        return Runtime(settings, paths, log_sink, http=settings.ops.http_in_ui)

    return run_app(DeferredEngine(build, settings, modules=ENGINE_MODULES), settings, log_sink)


def run_attached(settings: Settings, data_dir: Path) -> int:
    """Run the console on the engine already running on ``data_dir`` (through its control
    socket); quitting leaves the engine running. Raises ControlError when none answers."""
    from tradetui.ops.remote import ControlClient, RemoteEngine

    asyncio.run(_probe(ControlClient(data_dir)))
    # Textual loads only once an engine has answered.
    from tradetui.ui.app import MAX_REFRESH_HZ, MIN_REFRESH_HZ, run_app

    refresh_hz = min(MAX_REFRESH_HZ, max(MIN_REFRESH_HZ, settings.ui.refresh_hz))
    engine = RemoteEngine(data_dir, refresh_hz)
    return run_app(engine, settings, engine.log_source)


async def _probe(client: ControlClient) -> None:
    """Fail with one line before the console opens when no engine answers."""
    await client.connect()
    try:
        await client.request("live-target")
    finally:
        await client.close()
