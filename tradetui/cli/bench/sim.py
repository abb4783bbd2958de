"""Provides the simulator benchmarks of `tradetui bench`: WS messages/s and signed REST requests/s.

Both start an embedded SimServer on 127.0.0.1 in a child process (the machine has two cores:
the simulator gets one, the ccxt.pro client under test the other) and drive it with an
unmodified ccxt.pro kraken client.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import queue
import time
from multiprocessing.queues import Queue
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tradetui.cli.bench.figures import Figure

WS_SECONDS = 2.5
WS_WARMUP_S = 1.0
WS_TICK_S = 0.0
"""0: the simulator ticks as fast as the client takes the stream (it holds the next tick while
the client has over 256 KiB unsent), so neither a tick rate nor a dropped slow client caps
the figure. A fixed 0.5 ms tick left both processes idle half the time, measuring the tick."""
REST_SECONDS = 3.0
REST_CLIENTS = 4
START_TIMEOUT_S = 60.0


def _serve(options: dict[str, Any], extra_accounts: int, out: Queue[Any], stop: Any) -> None:
    """Child process: run a SimServer until `stop` is set; report its SimInfo and extra keys."""
    from tradetui.sim.server import SimServer

    async def main() -> None:
        server = SimServer(host="127.0.0.1", port=0, **options)
        keys = []
        for index in range(extra_accounts):
            account = server.exchange.accounts.create(f"bench-{index}")
            keys.append((account.api_key, account.secret))
        info = await server.start()
        out.put((info, keys))
        await asyncio.to_thread(stop.wait)
        await server.stop()

    asyncio.run(main())


class _ChildSim:
    """A simulator in a spawned child process, stopped and joined on exit."""

    def __init__(self, options: dict[str, Any], extra_accounts: int = 0) -> None:
        context = multiprocessing.get_context("spawn")
        self._queue: Queue[Any] = context.Queue()
        self._stop = context.Event()
        self._process = context.Process(
            target=_serve, args=(options, extra_accounts, self._queue, self._stop), daemon=True
        )

    def __enter__(self) -> tuple[Any, list[tuple[str, str]]]:
        self._process.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                info, keys = self._queue.get(timeout=0.2)
                return info, keys
            except queue.Empty:
                # Fail fast (instead of after the whole timeout) when the child died.
                if not self._process.is_alive():
                    break
        self.__exit__()
        raise RuntimeError(
            f"the simulator process did not start (exit code {self._process.exitcode})"
        )

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


def bench_sim_ws(
    seconds: float = WS_SECONDS, warmup_s: float = WS_WARMUP_S, tick_s: float = WS_TICK_S
) -> list[Figure]:
    """WS v2 messages per second that one ccxt.pro client receives and parses.

    `sim_ws.rate`: the client subscribes to `book` (depth 10) for every pair with
    watch_order_book_for_symbols while the simulator ticks every ``tick_s`` (0: as fast as
    the client takes the stream); the book streams one message per changed level, as
    Kraken's does. `sim_ws.mixed_rate`: the same client then adds `ticker` and `trade` for
    every pair (watch_tickers, watch_trades_for_symbols), whose messages cost ccxt more to
    parse than a book update.
    Counted: every message ccxt.pro's `handle_message` is called with, i.e. received
    over loopback, JSON-decoded and applied by ccxt, after a ``warmup_s`` warm-up. The
    simulator and the client each have a core; the slower of the two sets the figure.
    """
    from tradetui.cli.bench.figures import Figure

    with _ChildSim({"tick_interval": tick_s, "seed": 7}) as (info, _):
        book_rate, mixed_rate = asyncio.run(_drive_ws(info.ccxt_config(), seconds, warmup_s))
    return [
        Figure("sim_ws.rate", book_rate, "msgs/s"),
        Figure("sim_ws.mixed_rate", mixed_rate, "msgs/s"),
    ]


async def _drive_ws(config: dict[str, Any], seconds: float, warmup_s: float) -> tuple[float, float]:
    import ccxt.pro

    client = ccxt.pro.kraken(config)
    count = 0

    async def rate_over(window: float) -> float:
        await asyncio.sleep(warmup_s)
        start_count, started = count, time.perf_counter()
        await asyncio.sleep(window)
        return (count - start_count) / (time.perf_counter() - started)

    try:
        await asyncio.wait_for(client.load_markets(), 30)
        handle = client.handle_message

        def counting(connection: Any, message: Any) -> Any:
            nonlocal count
            count += 1
            return handle(connection, message)

        # ccxt binds handle_message when it opens the socket, so wrap it before the first watch.
        client.handle_message = counting
        symbols = [s for s, m in client.markets.items() if m.get("active", True)]
        await asyncio.wait_for(client.watch_order_book_for_symbols(symbols, 10), 30)
        book_rate = await rate_over(seconds)
        await asyncio.wait_for(client.watch_tickers(symbols), 30)
        await asyncio.wait_for(client.watch_trades_for_symbols(symbols), 30)
        return book_rate, await rate_over(seconds)
    finally:
        await client.close()


def bench_sim_rest(seconds: float = REST_SECONDS) -> list[Figure]:
    """Signed private REST requests per second the simulator answers.

    Four ccxt.pro kraken clients, each with its own API key (so nonces never collide),
    send BalanceEx back to back, concurrently, for `seconds`; counted: successful responses.
    Each request is the one fetch_balance makes (signed by ccxt, checked by the simulator
    for key, HMAC-SHA512 signature and nonce), sent with ccxt's implicit
    `private_post_balanceex` so ccxt's balance parsing on the client does not eat the
    CPU the two share on a small machine.
    """
    from tradetui.cli.bench.figures import Figure

    with _ChildSim({"tick_interval": 0.25, "seed": 7}, REST_CLIENTS) as (info, keys):
        rate = asyncio.run(_drive_rest(info.ccxt_config(), keys, seconds))
    return [Figure("sim_rest.rate", rate, "req/s")]


async def _drive_rest(base: dict[str, Any], keys: list[tuple[str, str]], seconds: float) -> float:
    import ccxt.pro

    clients = [ccxt.pro.kraken({**base, "apiKey": key, "secret": secret}) for key, secret in keys]
    try:
        await asyncio.wait_for(asyncio.gather(*(c.load_markets() for c in clients)), 30)
        # One full fetch_balance each first: the simulator must answer what ccxt parses.
        await asyncio.wait_for(asyncio.gather(*(c.fetch_balance() for c in clients)), 30)
        deadline = time.perf_counter() + seconds
        started = time.perf_counter()

        async def hammer(client: Any) -> int:
            done = 0
            while time.perf_counter() < deadline:
                response = await client.private_post_balanceex()
                done += "ZUSD" in response["result"]
            return done

        counts = await asyncio.wait_for(asyncio.gather(*(hammer(c) for c in clients)), seconds + 30)
        return sum(counts) / (time.perf_counter() - started)
    finally:
        await asyncio.gather(*(c.close() for c in clients))
