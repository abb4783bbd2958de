"""Provides the `tradetui` command: run (TUI or headless) and the sim, setup and bench sub-commands."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tradetui.config import Settings
    from tradetui.paths import DataPaths

SUBCOMMANDS: dict[str, str] = {
    "sim": "tradetui.sim.cli",
    "setup": "tradetui.setup_cli",
    "bench": "tradetui.bench",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tradetui",
        description="Terminal trading bot. Sub-commands: sim, setup, bench (see `tradetui CMD -h`).",
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
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args_list = sys.argv[1:] if argv is None else argv
    if args_list and args_list[0] in SUBCOMMANDS:
        import importlib

        module = importlib.import_module(SUBCOMMANDS[args_list[0]])
        return int(module.main(args_list[1:]))
    args = _parser().parse_args(args_list)

    from tradetui.config import ConfigError, load_settings
    from tradetui.logs import setup_logging, shutdown_logging
    from tradetui.paths import data_paths

    try:
        settings = load_settings(args.config, mode="live" if args.live else None)
    except ConfigError as exc:
        print(f"tradetui: {exc}", file=sys.stderr)
        return 2
    paths = data_paths(args.data_dir).ensure()
    sink = setup_logging(paths.logs, settings.log_level, stdout=args.no_ui)
    try:
        if args.no_ui:
            return asyncio.run(_run_headless(settings, paths, args.run_for))
        from tradetui.core.engine import Engine
        from tradetui.ui.app import run_app

        return run_app(Engine(settings, paths), settings, sink)
    finally:
        shutdown_logging()


async def _run_headless(settings: Settings, paths: DataPaths, run_for: float | None) -> int:
    from tradetui.core.engine import Engine, EngineError

    engine = Engine(settings, paths)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    # Whatever happens, stop the engine: its store thread would otherwise keep the process alive.
    try:
        try:
            await engine.start()
        except EngineError as exc:
            print(f"tradetui: {exc}", file=sys.stderr)
            return 2
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), run_for)
        return 0
    finally:
        await engine.stop()
