"""The standalone simulator (`python -m tradetui sim`) as a subprocess, traded with ccxt.pro."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import ccxt.pro

from tradetui.sim.server import SimInfo

T = TypeVar("T")


def within(awaitable: Awaitable[T], seconds: float = 10.0) -> Awaitable[T]:
    """Bound an await so that nothing in these tests can hang."""
    return asyncio.wait_for(awaitable, seconds)


async def test_standalone_simulator_prints_endpoints_trades_and_exits_cleanly(
    unused_tcp_port_factory: Callable[[], int],
) -> None:
    """Every URL of the JSON line works with ccxt.pro: REST, public WS and private WS, which
    listens on a port of its own."""
    rest_port, ws_port = unused_tcp_port_factory(), unused_tcp_port_factory()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tradetui", "sim", "--port", str(rest_port),
        "--ws-port", str(ws_port), "--seed", "11",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        first_line = await within(process.stdout.readline(), 30)
        endpoints = json.loads(first_line)
        assert set(endpoints) == {"rest", "ws_public", "ws_private", "api_key", "secret", "leader"}
        assert endpoints["rest"] == f"http://127.0.0.1:{rest_port}"
        assert endpoints["ws_public"] == f"ws://127.0.0.1:{ws_port}/v2"
        assert endpoints["ws_private"] == f"ws://127.0.0.1:{ws_port}/auth/v2"
        leader = endpoints.pop("leader")
        assert set(leader) == {"api_key", "secret"} and leader["api_key"] != endpoints["api_key"]
        info = SimInfo(**endpoints)

        ex = ccxt.pro.kraken(info.ccxt_config())
        try:
            await within(ex.load_markets())
            assert "BTC/USD" in ex.symbols
            balance = await within(ex.fetch_balance())
            assert balance["total"]["USD"] == 100_000
            order = await within(ex.create_order("BTC/USD", "limit", "buy", 0.001, 40_000))
            assert [o["id"] for o in await within(ex.fetch_open_orders())] == [order["id"]]
            await within(ex.cancel_order(order["id"]))
            assert await within(ex.fetch_open_orders()) == []
            ticker = await within(ex.watch_ticker("ETH/USD"))
            assert ticker["bid"] < ticker["ask"]
            placed = await within(ex.create_order_ws("BTC/USD", "limit", "buy", 0.001, 40_000))
            await within(ex.cancel_order_ws(placed["id"]))
            assert await within(ex.fetch_open_orders()) == []
        finally:
            await ex.close()

        process.send_signal(signal.SIGTERM)
        assert await within(process.wait(), 15) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_cli_help_exits_zero() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tradetui", "sim", "--help",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, _ = await within(process.communicate(), 30)
    assert process.returncode == 0
    assert b"--seed" in stdout


def test_flash_crash_flag_is_off_unless_asked_for() -> None:
    from tradetui.cli.sim import parse_args

    assert parse_args([]).flash_crash is False
    assert parse_args(["--flash-crash"]).flash_crash is True


def test_pairs_limits_the_listed_markets_and_an_unknown_pair_is_one_line() -> None:
    import asyncio
    import json
    import signal
    import subprocess
    import sys

    from tradetui.core.venue.loader import pro_exchange_class

    bad = subprocess.run(
        [sys.executable, "-m", "tradetui", "sim", "--pairs", "BTC/USD,NOPE/USD"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "tradetui sim: unknown pair 'NOPE/USD'; the simulator has BTC/USD, ETH/USD, SOL/USD, "
        "XRP/USD, ADA/USD, DOGE/USD, DOT/USD"
    ]
    sim = subprocess.Popen(
        [sys.executable, "-m", "tradetui", "sim", "--port", "0", "--pairs", "ETH/USD,XBTUSD"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sim.stdout is not None
        info = json.loads(sim.stdout.readline())

        async def symbols() -> list[str]:
            client = pro_exchange_class("kraken")({"urls": {"api": {"public": info["rest"]}}})
            try:
                return sorted(await client.load_markets())
            finally:
                await client.close()

        assert asyncio.run(symbols()) == ["BTC/USD", "ETH/USD"]
    finally:
        sim.send_signal(signal.SIGTERM)
        sim.wait(timeout=30)
