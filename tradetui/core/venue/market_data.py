"""Provides market data: ticker, book and trade streams per symbol, with a REST fallback."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable

from tradetui.core.metrics import EngineMetrics
from tradetui.core.model import OrderBook, PublicTrade, Quote
from tradetui.core.services.trend import TrendHistory
from tradetui.core.venue.breaker import CircuitBreaker
from tradetui.core.venue.client import VenueClient
from tradetui.core.venue.errors import VenueError
from tradetui.core.venue.streams import supervise

log = logging.getLogger("tradetui.market_data")

STREAM_QUIET_S = 2.0
"""A symbol whose ticker stream is silent this long is polled over REST until it speaks again."""
REST_POLL_S = 1.0


class MarketData:
    """Watches tickers and books; keeps the latest copies, stamped with the engine clock."""

    def __init__(
        self,
        client: VenueClient,
        symbols: list[str],
        clock: Callable[[], float],
        breaker: CircuitBreaker,
        on_trades: Callable[[list[PublicTrade]], Awaitable[None]],
        metrics: EngineMetrics | None = None,
    ) -> None:
        self._client = client
        self._symbols = symbols
        self._clock = clock
        self._breaker = breaker
        self._on_trades = on_trades
        self.quotes: dict[str, Quote] = {}
        self.books: dict[str, OrderBook] = {}
        self.trends = TrendHistory()
        """Recent mid prices per symbol (the Markets pane's sparklines)."""
        self.messages_received = 0
        self._stream_seen_at: dict[str, float] = {}
        self._ticker_failing: set[str] = set()
        self._polled: set[str] = set()
        self._metrics = metrics

    def tasks(self) -> list[asyncio.Task[None]]:
        """Start one ticker and one book stream per symbol."""
        tasks = []
        started = self._clock()
        for symbol in self._symbols:
            self._stream_seen_at[symbol] = started  # give the streams a moment before polling
            streams = (
                ("ticker", self._ticker_once),
                ("book", self._book_once),
                ("trades", self._trades_once),
            )
            for kind, receive in streams:
                label = f"{kind} {symbol}"
                health = (
                    functools.partial(self._ticker_health, symbol) if kind == "ticker" else None
                )
                receiving = functools.partial(receive, symbol)
                tasks.append(
                    asyncio.create_task(
                        supervise(label, receiving, health, self._metrics), name=label
                    )
                )
        tasks.append(asyncio.create_task(self._rest_fallback(), name="market data REST"))
        return tasks

    def down(self, symbol: str) -> bool:
        """True when nothing keeps ``symbol``'s quote current: its ticker stream is failing (or
        has been quiet past STREAM_QUIET_S, so REST stands in) and the REST calls have failed at
        the transport level since their last success. A quote can still be young then."""
        if not self._breaker.failing:
            return False
        quiet_s = self._clock() - self._stream_seen_at.get(symbol, float("-inf"))
        return symbol in self._ticker_failing or quiet_s > STREAM_QUIET_S

    def _ticker_health(self, symbol: str, healthy: bool) -> None:
        if healthy:
            self._ticker_failing.discard(symbol)
        else:
            self._ticker_failing.add(symbol)

    async def _rest_fallback(self) -> None:
        while True:
            await asyncio.sleep(REST_POLL_S)
            now = self._clock()
            # A symbol the venue delisted is silent for good: polling it would only fail.
            listed = self._client.markets
            quiet = [
                s
                for s in self._symbols
                if now - self._stream_seen_at.get(s, 0.0) > STREAM_QUIET_S
                and (not listed or s in listed)
            ]
            for symbol in self._polled - set(quiet):
                log.info("%s stream is back; REST polling stops", symbol)
            for symbol in set(quiet) - self._polled:
                log.warning("%s stream is quiet; polling REST", symbol)
            self._polled = set(quiet)
            if quiet and self._breaker.allow():
                try:
                    await self._poll(quiet)
                except Exception as exc:  # noqa: BLE001 - polled again next second
                    if isinstance(exc, VenueError) and exc.transport:
                        self._breaker.record_failure()
                    log.warning("REST market data failed: %s", exc)
                else:
                    self._breaker.record_success()

    async def _poll(self, symbols: list[str]) -> None:
        quotes = await self._client.fetch_quotes(symbols)
        for symbol in symbols:
            quote = quotes.get(symbol)
            if quote is not None:
                self._store_quote(quote)
            self.books[symbol] = await self._client.fetch_order_book(symbol)

    async def _trades_once(self, symbol: str) -> None:
        trades = await self._client.watch_trades(symbol)
        self.messages_received += 1
        await self._on_trades(trades)

    async def _ticker_once(self, symbol: str) -> None:
        quote = await self._client.watch_ticker(symbol)
        self.messages_received += 1
        self._stream_seen_at[symbol] = self._clock()
        if quote is None:
            log.warning("ignored a malformed ticker for %s", symbol)
            return
        self._store_quote(quote)

    def _store_quote(self, quote: Quote) -> None:
        self.quotes[quote.symbol] = quote
        self.trends.record(quote.symbol, quote.mid, quote.received_at)

    async def _book_once(self, symbol: str) -> None:
        self.books[symbol] = await self._client.watch_order_book(symbol)
        self.messages_received += 1
