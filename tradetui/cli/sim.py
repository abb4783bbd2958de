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
from pathlib import Path

from tradetui.sim.faults import FaultsError, parse_faults
from tradetui.sim.persist import SimStateError
from tradetui.sim.scenario import FlashCrash
from tradetui.sim.schedule import ListingSchedule
from tradetui.sim.server import SimServer


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="tradetui sim", description="Kraken-protocol exchange simulator on 127.0.0.1."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=0, help="REST (and /admin) port to bind (0 picks a free one)"
    )
    parser.add_argument(
        "--ws-port", type=int, default=0, help="WebSocket v2 port to bind (0 picks a free one)"
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the synthetic market")
    parser.add_argument(
        "--tick-interval",
        type=float,
        default=0.25,
        help="seconds between market ticks (0: as fast as the WebSocket clients take them)",
    )
    parser.add_argument(
        "--faults",
        default="",
        metavar="SPEC",
        help="faults to inject, e.g. latency=50,error_rate=0.1,rate_limit=20,ws_disconnect=30,"
        "lose_acks=1,cancel_only=XXBTZUSD (change them later with POST /admin/faults)",
    )
    parser.add_argument(
        "--state-file",
        type=Path,
        default=None,
        help="JSON file that keeps accounts, orders and trades across restarts",
    )
    parser.add_argument(
        "--pairs",
        default="",
        metavar="LIST",
        help="comma-separated pairs to list, e.g. BTC/USD,ETH/USD (default: all seven)",
    )
    parser.add_argument(
        "--flash-crash",
        action="store_true",
        help="run the scripted flash crash (every pair falls ~9%% about 30 s in, then recovers)",
    )
    parser.add_argument(
        "--schedule-scale",
        type=float,
        default=1.0,
        metavar="FACTOR",
        help="run the listing schedule FACTOR times as long (LINK/USD listed at 180 s; DOT/USD "
        "reduce-only at 210 s, cancel-only at 240 s, removed at 360 s); 0.05 runs it in seconds",
    )
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    if not args.schedule_scale > 0:
        raise ValueError(f"--schedule-scale must be above 0, not {args.schedule_scale}")
    server = SimServer(
        host=args.host,
        port=args.port,
        ws_port=args.ws_port,
        seed=args.seed,
        tick_interval=args.tick_interval,
        faults=parse_faults(args.faults),
        state_file=args.state_file,
        flash_crash=FlashCrash() if args.flash_crash else None,
        schedule=ListingSchedule().scaled(args.schedule_scale),
        pairs=[name.strip() for name in args.pairs.split(",") if name.strip()] or None,
    )
    info = await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    endpoints = dataclasses.asdict(info)
    endpoints["leader"] = {
        "api_key": endpoints.pop("leader_api_key"),
        "secret": endpoints.pop("leader_secret"),
    }
    sys.stdout.write(json.dumps(endpoints) + "\n")
    sys.stdout.flush()
    try:
        await stop.wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> int:
    """Entry point of `tradetui sim`; returns the exit code."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(args))
    except (FaultsError, SimStateError, ValueError) as exc:
        print(f"tradetui sim: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(
            f"tradetui sim: cannot listen on {args.host} (--port {args.port}, --ws-port "
            f"{args.ws_port}): {exc.strerror}; choose other ports, or 0 for free ones.",
            file=sys.stderr,
        )
        return 2
    return 0
