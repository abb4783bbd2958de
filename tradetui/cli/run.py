"""Provides `tradetui` without a sub-command: the console, or the engine headless (`--no-ui`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import TYPE_CHECKING

from tradetui.cli.options import add_common

if TYPE_CHECKING:
    from tradetui.config import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tradetui",
        description="Terminal trading bot. Sub-commands: sim, setup, bench, serve, ctl, attach (see `tradetui CMD -h`).",
    )
    add_common(parser, debug=True)
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
        from tradetui import runtime

        if args.no_ui:
            summary: list[str] = []
            code = asyncio.run(runtime.run_headless(settings, paths, args.run_for, sink, summary))
            shutdown_logging()  # the summary table follows the last log line
            # JSON stdout stays JSON lines: there the `summary` record is the summary.
            if summary and (args.log_format or settings.ops.log_format) != "json":
                print("\n".join(summary), flush=True)
            return code
        return runtime.run_console(settings, paths, sink)
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
