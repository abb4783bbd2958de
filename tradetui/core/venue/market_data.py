"""Provides market data: ccxt.pro ticker and book streams per symbol, copied into engine types."""

from __future__ import annotations

import asyncio
import functools
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

from tradetui.core.metrics import EngineMetrics
from tradetui.core.model import OrderBook, PublicTrade, Quote
from tradetui.core.services.trend import TrendHistory
from tradetui.core.venue.breaker import CircuitBreaker
from tradetui.core.venue.client import is_transport_error
from tradetui.core.venue.streams import supervise

log = logging.getLogger("tradetui.market_data")

BOOK_DEPTH = 10
STREAM_QUIET_S = 2.0
"""A symbol whose ticker stream is silent this long is polled over REST until it speaks again."""
REST_POLL_S = 1.0


class MarketData:
    """Watches tickers and books; keeps the latest copies, stamped with the engine clock."""

    def __init__(
        self,
        exchange: Any,
        symbols: list[str],
        clock: Callable[[], float],
        breaker: CircuitBreaker,
        on_trades: Callable[[list[PublicTrade]], Awaitable[None]],
        metrics: EngineMetrics | None = None,
    ) -> None:
        self._exchange = exchange
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
                tasks.append(
                    asyncio.create_task(
                        supervise(label, functools.partial(receive, symbol), None, self._metrics),
                        name=label,
                    )
                )
        tasks.append(asyncio.create_task(self._rest_fallback(), name="market data REST"))
        return tasks

    async def _rest_fallback(self) -> None:
        while True:
            await asyncio.sleep(REST_POLL_S)
            now = self._clock()
            # A symbol the venue delisted is silent for good: polling it would only fail.
            listed = getattr(self._exchange, "markets", None) or {}
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
                    if is_transport_error(exc):
                        self._breaker.record_failure()
                    log.warning("REST market data failed: %s", exc)
                else:
                    self._breaker.record_success()

    async def _poll(self, symbols: list[str]) -> None:
        tickers = await self._exchange.fetch_tickers(symbols)
        for symbol in symbols:
            quote = _quote_from_ticker(symbol, tickers.get(symbol) or {}, self._clock(), "rest")
            if quote is not None:
                self._store_quote(quote)
            book = await self._exchange.fetch_order_book(symbol, BOOK_DEPTH)
            self._store_book(symbol, book)

    async def _trades_once(self, symbol: str) -> None:
        trades = await self._exchange.watch_trades(symbol)
        self.messages_received += 1
        copies = [
            PublicTrade(symbol, float(t["price"]), float(t["amount"]))
            for t in trades
            if t.get("price") and t.get("amount")
        ]
        await self._on_trades(copies)

    async def _ticker_once(self, symbol: str) -> None:
        ticker = await self._exchange.watch_ticker(symbol)
        self.messages_received += 1
        self._stream_seen_at[symbol] = self._clock()
        quote = _quote_from_ticker(symbol, ticker, self._clock())
        if quote is None:
            log.warning("ignored a malformed ticker for %s", symbol)
            return
        self._store_quote(quote)

    def _store_quote(self, quote: Quote) -> None:
        self.quotes[quote.symbol] = quote
        self.trends.record(quote.symbol, quote.mid, quote.received_at)

    async def _book_once(self, symbol: str) -> None:
        book = await self._exchange.watch_order_book(symbol)
        self.messages_received += 1
        self._store_book(symbol, book)

    def _store_book(self, symbol: str, book: dict[str, Any]) -> None:
        # ccxt hands back its live, mutating book: copy the top levels out.
        copy = OrderBook(
            symbol,
            tuple((float(p), float(a)) for p, a, *_ in book["bids"][:BOOK_DEPTH]),
            tuple((float(p), float(a)) for p, a, *_ in book["asks"][:BOOK_DEPTH]),
            self._clock(),
        )
        self.books[symbol] = copy


def _quote_from_ticker(
    symbol: str, ticker: dict[str, Any], now: float, source: str = "ws"
) -> Quote | None:
    try:
        bid, ask = float(ticker["bid"]), float(ticker["ask"])
        last = float(ticker.get("last") or (bid + ask) / 2)
        bid_volume = float(ticker.get("bidVolume") or 0.0)
        ask_volume = float(ticker.get("askVolume") or 0.0)
    except (TypeError, ValueError, KeyError):
        return None
    if not all(math.isfinite(x) for x in (bid, ask, last)):
        return None
    return Quote(symbol, bid, ask, last, bid_volume, ask_volume, now, source)
