"""Provides the options every sub-command that runs on a data dir shares, defined once:
``--config``, ``--data-dir`` and ``--debug``."""

from __future__ import annotations

import argparse
from pathlib import Path

CONFIG_HELP = "TOML config file"
DATA_DIR_HELP = "where the database, logs and control socket live (default: the platform's)"
DEBUG_HELP = (
    "log at DEBUG, ccxt's requests included (secrets masked), and print the full (masked) "
    "traceback of an unexpected error"
)


def add_common(
    parser: argparse.ArgumentParser,
    *,
    config: str | None = CONFIG_HELP,
    data_dir: str | None = DATA_DIR_HELP,
    debug: bool = False,
    suppress_defaults: bool = False,
) -> argparse.ArgumentParser:
    """Add the shared options to ``parser`` (each with its own help where the sub-command reads
    it differently; None leaves an option out). ``suppress_defaults`` lets a parent parser and
    a sub-parser both carry an option without the sub-parser's default hiding the parent's."""
    default = argparse.SUPPRESS if suppress_defaults else None
    if config is not None:
        parser.add_argument("--config", type=Path, default=default, help=config)
    if data_dir is not None:
        parser.add_argument("--data-dir", type=Path, default=default, help=data_dir)
    if debug:
        parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    return parser
