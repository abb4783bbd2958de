"""Provides `tradetui` without a sub-command: the console, or the engine headless (`--no-ui`)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tradetui.config import Settings
    from tradetui.logs import LogSink
    from tradetui.paths import DataPaths
    from tradetui.ui.bridge import EngineControls


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tradetui",
        description="Terminal trading bot. Sub-commands: sim, setup, bench, serve, ctl, attach (see `tradetui CMD -h`).",
    )
    parser.add_argument("--config", type=Path, help="TOML config file")
    parser.add_argument("--data-dir", type=Path, help="where the database and logs live")
    parser.add_argument(
        "--no-ui", action="store_true", help="run the engine headless, logging to stdout"
    )
    parser.add_argument(
        "--run-for", type=float, metavar="SECONDS", help="stop after this many seconds"
    )
    parser.add_argument(
        "--live", action="store_true", help="start in live mode (needs stored credentials)"
    )
    parser.add_argument(
        "--log-format",
        choices=("human", "json"),
        help="headless stdout logs: one readable line per record (default) or JSON lines; "
        "overrides ops.log_format (the log file is always JSON lines)",
    )
    parser.add_argument(
        "--strategy",
        metavar="NAME",
        help="run only this built-in strategy (pulse, intel, crossover, grid), overriding the config",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="log at DEBUG, ccxt's requests included (secrets masked), and print the full "
        "(masked) traceback of an unexpected error",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)

    from tradetui.config import ConfigError, load_settings
    from tradetui.logs import setup_logging, shutdown_logging
    from tradetui.paths import data_paths

    try:
        settings = load_settings(args.config, mode="live" if args.live else None)
        settings = _checked_strategies(settings, args.strategy)
    except ConfigError as exc:
        print(f"tradetui: {exc}", file=sys.stderr)
        return 2
    if args.live and sys.stdin.isatty():
        from tradetui.credentials.stores import needs_file_passphrase, remember_file_passphrase

        if needs_file_passphrase(settings.venue.account):
            import getpass

            try:
                passphrase = getpass.getpass("Passphrase of the encrypted credentials file: ")
            except (EOFError, KeyboardInterrupt):
                print("\ntradetui: no passphrase given, not started", file=sys.stderr)
                return 130
            remember_file_passphrase(passphrase)
    paths = data_paths(args.data_dir).ensure()
    sink = setup_logging(
        paths.logs,
        "DEBUG" if args.debug else settings.log_level,
        stdout=args.no_ui,
        stdout_format=args.log_format or settings.ops.log_format,
    )
    if args.debug:
        # ccxt logs each request and response (signed headers included) at DEBUG; the writer masks them.
        logging.getLogger("ccxt").setLevel(logging.DEBUG)
    try:
        if args.no_ui:
            summary: list[str] = []
            code = asyncio.run(_run_headless(settings, paths, args.run_for, sink, summary))
            shutdown_logging()  # the summary table follows the last log line
            # JSON stdout stays JSON lines: there the `summary` record is the summary.
            if summary and (args.log_format or settings.ops.log_format) != "json":
                print("\n".join(summary), flush=True)
            return code
        from tradetui.ui.app import run_app
        from tradetui.ui.deferred_engine import DeferredEngine

        def build_engine() -> EngineControls:
            from tradetui.ops.control import ServedEngine

            return ServedEngine(settings, paths, sink)

        # The engine's modules are imported after the first paint, off the event loop.
        engine = DeferredEngine(build_engine, settings, modules=("tradetui.ops.control",))
        return run_app(engine, settings, sink)
    except Exception as exc:  # noqa: BLE001 - the crash report, redacted, instead of a raw traceback
        _report_crash(exc, full=args.debug)
        return 1
    finally:
        shutdown_logging()


def _report_crash(exc: Exception, *, full: bool) -> None:
    """Log an unexpected error with its traceback and tell the user, every secret masked.

    Python's own report would print the exception's message (and the traceback's source lines)
    unmasked; this one goes through the same redaction as the logs."""
    import traceback

    from tradetui.logs import flush_logging, redact

    logging.getLogger("tradetui").critical("unexpected error", exc_info=exc)
    flush_logging()
    if full:
        report = "".join(traceback.format_exception(exc)).rstrip("\n")
        print(redact(report), file=sys.stderr)
    else:
        line = "".join(traceback.format_exception_only(exc)).strip()
        print(
            f"tradetui: unexpected error: {redact(line)} (the traceback is in the log; "
            "--debug prints it)",
            file=sys.stderr,
        )


def _checked_strategies(settings: Settings, name: str | None) -> Settings:
    """Apply ``--strategy`` and check every strategy now: a bad one is one line and exit 2."""
    from tradetui.core.strategies import resolve_strategies, select_strategy

    if name:
        settings = select_strategy(settings, name)
    resolve_strategies(settings)
    return settings


def _reopen_log_files() -> None:
    """SIGHUP, headless: keep trading and reopen the log files (after an external rotation)."""
    from tradetui.logs import reopen_log_files

    reopen_log_files()
    logging.getLogger("tradetui").info(
        "SIGHUP: log files reopened", extra={"event": "logs_reopened"}
    )


async def _run_headless(
    settings: Settings,
    paths: DataPaths,
    run_for: float | None,
    sink: LogSink | None = None,
    summary: list[str] | None = None,
) -> int:
    from tradetui.core.api import EngineError
    from tradetui.core.engine import Engine
    from tradetui.logs import redact
    from tradetui.ops.alerts import Alerter
    from tradetui.ops.control import ControlServer, SignalKillSwitch
    from tradetui.ops.http import OpsServer, start_ops_server

    engine = Engine(settings, paths)
    alerter = Alerter(settings.ops)
    engine.on_alert = alerter.alert
    ops_server: OpsServer | None = None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    # A server's SIGHUP (an SSH session closing, logrotate) must not stop a headless bot.
    loop.add_signal_handler(signal.SIGHUP, _reopen_log_files)
    kill_switch = SignalKillSwitch(engine)  # SIGUSR1; installed before start, or it would kill us
    kill_switch.install()
    control = ControlServer(engine, paths.root, sink)
    started_at: float | None = None
    # Whatever happens, stop the engine: its store thread would otherwise keep the process alive.
    try:
        try:
            await engine.start()
        except EngineError as exc:
            print(f"tradetui: {redact(str(exc))}", file=sys.stderr)
            return 2
        started_at = engine.snapshot().taken_at
        kill_switch.ready()
        await control.start_logged()  # after start: the data-dir lock is ours, a socket file stale
        if settings.ops.http_enabled:
            ops_server = await start_ops_server(engine)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), run_for)
        return 0
    finally:
        await control.close()
        await kill_switch.drain()
        if ops_server is not None:
            await ops_server.stop()
        final = engine.snapshot() if started_at is not None else None
        await engine.stop()
        await alerter.aclose()  # the engine-stopped alert goes out before the loop ends
        if final is not None and started_at is not None and summary is not None:
            from tradetui.core.summary import report_session

            summary += report_session(paths.database, final, started_at, engine.strategy_refusals())
