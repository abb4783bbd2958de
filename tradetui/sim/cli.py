"""Runs the simulator standalone: prints one JSON line of endpoints, serves until signalled."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import signal
import sys

from tradetui.sim.server import SimServer


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="tradetui sim", description="Kraken-protocol exchange simulator on 127.0.0.1."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (0 picks a free one)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the synthetic market")
    parser.add_argument(
        "--tick-interval", type=float, default=0.25, help="seconds between market ticks"
    )
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    server = SimServer(
        host=args.host, port=args.port, seed=args.seed, tick_interval=args.tick_interval
    )
    info = await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    sys.stdout.write(json.dumps(dataclasses.asdict(info)) + "\n")
    sys.stdout.flush()
    try:
        await stop.wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> int:
    """Entry point of `tradetui sim` and `python -m tradetui.sim`; returns the exit code."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(args))
    except OSError as exc:
        print(
            f"tradetui sim: cannot listen on {args.host}:{args.port} ({exc.strerror}); "
            "choose another --port, or 0 for a free one.",
            file=sys.stderr,
        )
        return 2
    return 0
