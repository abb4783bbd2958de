"""Provides `tradetui attach`: the console on an engine already running (headless) on a data dir."""

from __future__ import annotations

import argparse
import sys

from tradetui.cli.options import add_common
from tradetui.config import ConfigError, load_settings
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
    return add_common(
        parser,
        config="TOML config file (theme, keys, refresh rate)",
        data_dir="the running engine's data dir",
    )


def main(argv: list[str] | None = None) -> int:
    """Run the console over a RemoteEngine until the operator quits; the engine keeps running."""
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)

    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    from tradetui.runtime import run_attached

    try:
        return run_attached(settings, data_paths(args.data_dir).root)
    except ControlError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
