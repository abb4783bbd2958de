"""Provides `tradetui attach`: the console on an engine already running (headless) on a data dir."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from tradetui.config import ConfigError, load_settings
from tradetui.ops.remote import ControlClient, RemoteEngine
from tradetui.ops.wire import ControlError
from tradetui.paths import data_paths

PROG = "tradetui attach"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Open the console on the engine running on a data dir, through its control socket. "
            "Quitting the console (or losing the terminal) leaves the engine running."
        ),
    )
    parser.add_argument("--config", type=Path, help="TOML config file (theme, keys, refresh rate)")
    parser.add_argument("--data-dir", type=Path, help="the running engine's data dir")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the console over a RemoteEngine until the operator quits; the engine keeps running."""
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)

    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    data_dir = data_paths(args.data_dir).root
    try:
        asyncio.run(_probe(ControlClient(data_dir)))
    except ControlError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1

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
