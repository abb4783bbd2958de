"""Provides `tradetui serve`: the same terminal UI in a browser tab, through textual-serve."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import shlex
import sys
from pathlib import Path
from typing import Any

from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server

from tradetui.cli.options import add_common

APP_TITLE = "tradetui"
TAB_STOP_TIMEOUT_S = 30.0
"""How long stopping the server waits for each tab's app to stop its engine."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tradetui serve",
        description=(
            "Serve the tradetui UI on a web page. Every browser tab runs its own tradetui "
            "process; the data dir's engine lock lets only the first run the engine, the "
            "others say which process holds it. Options not listed here (--live, --run-for) "
            "are passed on to each tab's tradetui."
        ),
        allow_abbrev=False,  # an abbreviation must not swallow a flag meant for the app
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host: anyone who reaches the port controls the bot",
    )
    parser.add_argument(
        "--public-url", help="the URL browsers reach this server at (proxies, remote hosts)"
    )
    return add_common(parser)


def is_loopback(host: str) -> bool:
    """True when ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # any other host name may resolve to a public address


def app_command(data_dir: Path, config: Path | None, passthrough: list[str]) -> str:
    """The shell command textual-serve runs per tab: this interpreter's tradetui, same data dir."""
    argv = [sys.executable, "-m", "tradetui", "--data-dir", str(data_dir)]
    if config is not None:
        argv += ["--config", str(config)]
    # exec: the shell textual-serve starts becomes the app, so stopping that process stops the app.
    return "exec " + shlex.join([*argv, *passthrough])


class TradeTuiServer(Server):
    """textual-serve's server, announcing its URL in one plain line, and stopping every tab's
    app (and so its engine) before it exits."""

    def __init__(self, command: str, **options: Any) -> None:
        super().__init__(command, **options)
        self._tabs: set[asyncio.Task[Any]] = set()
        """One websocket handler per open tab."""
        self._tab_apps: dict[asyncio.Task[Any], tuple[web.WebSocketResponse, AppService]] = {}
        """Each tab's websocket and app, once its app process runs."""

    async def on_startup(self, app: web.Application) -> None:
        print(f"tradetui serve: open {self.public_url}/ in a browser (Ctrl+C stops)", flush=True)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        tab = asyncio.current_task()
        # Type narrowing for mypy; the value is set on this path.
        assert tab is not None  # nosec B101
        self._tabs.add(tab)
        try:
            return await super().handle_websocket(request)
        finally:
            self._tabs.discard(tab)
            self._tab_apps.pop(tab, None)

    async def _process_messages(
        self, websocket: web.WebSocketResponse, app_service: AppService
    ) -> None:
        # The one hook textual-serve calls with both the tab's websocket and its app.
        tab = asyncio.current_task()
        # Type narrowing for mypy; the value is set on this path.
        assert tab is not None  # nosec B101
        self._tab_apps[tab] = (websocket, app_service)
        await super()._process_messages(websocket, app_service)

    async def on_shutdown(self, app: web.Application) -> None:
        # Left alone, aiohttp waits out its shutdown timeout on open websockets and then
        # abandons their apps. Closing a tab's websocket makes textual-serve tell its app to
        # quit, so every engine stops cleanly before the server exits.
        tab_apps = dict(self._tab_apps)
        for websocket, _ in tab_apps.values():
            await websocket.close()
        stuck: set[asyncio.Task[Any]] = set()
        if self._tabs:
            _, stuck = await asyncio.wait(set(self._tabs), timeout=TAB_STOP_TIMEOUT_S)
            for tab in stuck:
                tab.cancel()
        for tab, (_, app_service) in tab_apps.items():
            # textual-serve keeps no public handle on the app's process.
            process = app_service._process
            if process is None:
                continue
            if tab in stuck and process.returncode is None:
                process.kill()  # it ignored the quit for TAB_STOP_TIMEOUT_S
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), TAB_STOP_TIMEOUT_S)


def main(argv: list[str]) -> int:
    """Run `tradetui serve` until SIGINT or SIGTERM; returns the exit code."""
    args, passthrough = _parser().parse_known_args(argv)
    if "--no-ui" in passthrough:
        print("tradetui serve: --no-ui has no UI to serve; run `tradetui --no-ui`", file=sys.stderr)
        return 2
    from tradetui.cli.run import _parser as app_parser

    # Checked here: a typo would otherwise fail in every tab, out of the operator's sight.
    _, unknown = app_parser().parse_known_args(passthrough)
    if unknown:
        print(
            f"tradetui serve: unknown option {unknown[0]}; see `tradetui serve -h`",
            file=sys.stderr,
        )
        return 2
    if not is_loopback(args.host):
        if not args.allow_remote:
            print(
                f"tradetui serve: {args.host} is not a loopback address; add --allow-remote "
                "to serve the bot's controls to the network",
                file=sys.stderr,
            )
            return 2
        print(
            f"tradetui serve: WARNING: listening on {args.host} without authentication; "
            "anyone who reaches this port can trade",
            file=sys.stderr,
        )

    from tradetui.config import ConfigError, load_settings
    from tradetui.paths import data_paths

    config = args.config.expanduser().resolve() if args.config is not None else None
    try:
        load_settings(config)  # one clear line here, not the same error in every tab
    except ConfigError as exc:
        print(f"tradetui serve: {exc}", file=sys.stderr)
        return 2
    data_dir = data_paths(args.data_dir).root
    host_in_url = f"[{args.host}]" if ":" in args.host else args.host
    server = TradeTuiServer(
        app_command(data_dir, config, passthrough),
        host=args.host,
        port=args.port,
        title=APP_TITLE,
        public_url=(args.public_url or f"http://{host_in_url}:{args.port}").rstrip("/"),
    )
    try:
        server.serve()
    except OSError as exc:
        print(f"tradetui serve: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    return 0
