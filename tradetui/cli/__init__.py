"""Provides the `tradetui` command line: one module per sub-command."""

from __future__ import annotations

import importlib
import sys

SUBCOMMANDS: dict[str, str] = {
    "sim": "tradetui.cli.sim",
    "setup": "tradetui.cli.setup",
    "bench": "tradetui.cli.bench",
    "serve": "tradetui.cli.serve",
    "ctl": "tradetui.cli.ctl",
    "attach": "tradetui.cli.attach",
}
"""Sub-command name -> the module whose ``main(argv)`` runs it (imported only when used)."""


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script: a sub-command, or the app itself."""
    args = sys.argv[1:] if argv is None else argv
    name = args[0] if args and args[0] in SUBCOMMANDS else "run"
    module = importlib.import_module(SUBCOMMANDS.get(name, "tradetui.cli.run"))
    return int(module.main(args[1:] if name != "run" else args))
