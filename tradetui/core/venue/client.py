"""Provides VenueClient, the engine's typed handle on one ccxt.pro client: typed calls in, typed
reports and VenueErrors out. It also builds the ccxt client with the nonce hook."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, ParamSpec, Protocol, TypeVar

from tradetui.core.model import (
    Balance,
    MarketInfo,
    OrderBook,
    OrderReport,
    OrderType,
    PublicTrade,
    Quote,
    Side,
    TradeReport,
)
from tradetui.core.venue import parse
from tradetui.core.venue.errors import (
    AuthenticationFailed,
    OrderNotFound,
    VenueError,
    VenueSetupError,
    VenueUnavailable,
)
from tradetui.core.venue.loader import ccxt_module, pro_exchange_class
from tradetui.core.venue.ws_frames import drop_malformed_frames

log = logging.getLogger("tradetui.venue")

NONCE_JUMP_MS = 1_000
"""How far past the clock nonces jump after the venue rejects one."""
BOOK_DEPTH = 10
"""Levels per side copied out of a venue's book."""
TRADE_PAGE_SIZE = {"kraken": 50}
"""Trades per page of the trade history of exchanges that page it by offset (Kraken's
TradesHistory: at most 50, newest first, ``ofs`` for the next page). Other exchanges' histories
are read in one call."""
MAX_TRADE_PAGES = 20
"""At most this many pages (1,000 Kraken trades) per read of the trade history. A window holding
more is read newest first up to the cap, with one warning: its oldest trades are not read."""

_P = ParamSpec("_P")
_R = TypeVar("_R")


class CcxtExchange(Protocol):
    """The part of a ccxt.pro exchange object VenueClient uses (ccxt ships no type hints)."""

    apiKey: str  # noqa: N815 - ccxt's attribute name
    markets: dict[str, Any] | None

    def __getattr__(self, name: str) -> Any: ...


def create_exchange(exchange_id: str, config: dict[str, Any], nonce_file: Path | None) -> Any:
    """Build a ccxt.pro client with a persisted nonce source; raises VenueSetupError for an
    unknown exchange id. ccxt is imported here, not at module import, to keep start-up fast."""
    from tradetui.core.venue.nonce import NonceManager

    try:
        cls = pro_exchange_class(exchange_id)
    except AttributeError:
        raise VenueSetupError(
            f"unknown exchange '{exchange_id}': use a ccxt.pro exchange id or 'sim'"
        ) from None
    exchange = cls(config)
    # One nonce source per key, persisted, so a restart or a second process never reuses one.
    nonces = NonceManager(nonce_file)
    exchange.nonce = nonces.next_nonce
    _retry_invalid_nonce_once(exchange, nonces)
    drop_malformed_frames(exchange)
    return exchange


def _retry_invalid_nonce_once(exchange: Any, nonces: Any) -> None:
    """Wrap every REST request: after InvalidNonce, jump ahead and send it once more.

    The venue rejects a stale nonce before acting on the request, so the retry cannot
    duplicate an order. The jump clears nonces another process (or a request that arrived
    out of order) pushed past ours.
    """
    fetch2 = exchange.fetch2
    invalid_nonce = ccxt_module().InvalidNonce

    async def fetch2_with_nonce_recovery(*args: Any, **kwargs: Any) -> Any:
        try:
            return await fetch2(*args, **kwargs)
        except invalid_nonce:
            nonces.bump(max(nonces.last_nonce, int(time.time() * 1000)) + NONCE_JUMP_MS)
            log.warning(
                "venue rejected a nonce; jumped %d ms ahead and retried once",
                NONCE_JUMP_MS,
                extra={"event": "nonce_recovered"},
            )
            return await fetch2(*args, **kwargs)

    exchange.fetch2 = fetch2_with_nonce_recovery


def venue_error(exc: BaseException) -> BaseException:
    """ccxt's exception as a VenueError (anything else is returned as it is)."""
    ccxt = ccxt_module()
    if isinstance(exc, VenueError) or not isinstance(exc, ccxt.BaseError | OSError | TimeoutError):
        return exc
    kind, message = type(exc).__name__, str(exc).strip()
    if isinstance(exc, ccxt.OrderNotFound):
        return OrderNotFound(kind, message)
    if isinstance(exc, ccxt.AuthenticationError):
        return AuthenticationFailed(kind, message)
    # A rejected nonce says nothing about the venue's health (and is retried once already).
    if isinstance(exc, ccxt.InvalidNonce):
        return VenueError(kind, message)
    if isinstance(exc, ccxt.NetworkError | OSError | TimeoutError):
        return VenueUnavailable(kind, message)
    return VenueError(kind, message)


def _translated(call: Callable[_P, Awaitable[_R]]) -> Callable[_P, Awaitable[_R]]:
    """Let no ccxt exception out of a VenueClient call: each becomes a VenueError."""

    @functools.wraps(call)
    async def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return await call(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - translated, or re-raised as it is
            translated = venue_error(exc)
            if translated is exc:
                raise
            raise translated from exc

    return wrapper


class VenueClient:
    """One account's (or the public market's) connection to a venue, through ccxt.pro."""

    def __init__(self, exchange: CcxtExchange, clock: Callable[[], float] = time.time) -> None:
        self._exchange = exchange
        self._clock = clock
        self.markets: dict[str, MarketInfo] = {}
        """Every market of the last market list loaded, by symbol."""
        self._warned_trade_cap = False

    @property
    def exchange(self) -> CcxtExchange:
        """The ccxt client underneath (tests and benchmarks read the venue through it)."""
        return self._exchange

    @property
    def authenticated(self) -> bool:
        """True when the client holds API credentials (private calls are possible)."""
        return bool(self._exchange.apiKey)

    def has_key(self, api_key: str) -> bool:
        """True when the client trades with ``api_key``."""
        return bool(api_key) and self._exchange.apiKey == api_key

    # ----------------------------------------------------------------- markets

    @_translated
    async def load_markets(self, reload: bool = False) -> dict[str, MarketInfo]:
        """Every market the venue lists, with its trading rules and status."""
        self.markets = parse.market_infos(await self._exchange.load_markets(reload))
        return self.markets

    @_translated
    async def watch_ticker(self, symbol: str) -> Quote | None:
        """The next ticker of ``symbol`` (None when malformed)."""
        return parse.quote(symbol, await self._exchange.watch_ticker(symbol), self._clock())

    @_translated
    async def fetch_quotes(self, symbols: list[str]) -> dict[str, Quote]:
        """Current tickers of ``symbols`` over REST (malformed ones left out)."""
        tickers = await self._exchange.fetch_tickers(symbols)
        quotes = {
            symbol: parse.quote(symbol, tickers.get(symbol) or {}, self._clock(), "rest")
            for symbol in symbols
        }
        return {symbol: q for symbol, q in quotes.items() if q is not None}

    @_translated
    async def watch_order_book(self, symbol: str) -> OrderBook:
        """The next book of ``symbol``: a copy of its top levels."""
        book = await self._exchange.watch_order_book(symbol)
        return parse.order_book(symbol, book, BOOK_DEPTH, self._clock())

    @_translated
    async def fetch_order_book(self, symbol: str) -> OrderBook:
        """The book of ``symbol`` over REST."""
        book = await self._exchange.fetch_order_book(symbol, BOOK_DEPTH)
        return parse.order_book(symbol, book, BOOK_DEPTH, self._clock())

    @_translated
    async def watch_trades(self, symbol: str) -> list[PublicTrade]:
        """The next public trades of ``symbol``."""
        return parse.public_trades(symbol, await self._exchange.watch_trades(symbol))

    # ----------------------------------------------------------------- account

    @_translated
    async def fetch_balances(self) -> dict[str, Balance]:
        """Free, used and total per currency over REST."""
        return parse.balances(await self._exchange.fetch_balance())

    @_translated
    async def watch_balance_totals(self) -> dict[str, Decimal]:
        """The totals of the next balances message (the stream carries no holds)."""
        return parse.balance_totals(await self._exchange.watch_balance())

    # ----------------------------------------------------------------- orders

    @_translated
    async def create_order(
        self,
        symbol: str,
        order_type: OrderType,
        side: Side,
        amount: Decimal,
        price: Decimal | None,
        client_id: str,
    ) -> str:
        """Send one order; returns the venue's id for it."""
        result = await self._exchange.create_order(
            symbol,
            order_type.value,
            side.value,
            float(amount),
            float(price) if price is not None else None,
            {"clientOrderId": client_id},
        )
        return str(result["id"])

    @_translated
    async def cancel_order(self, venue_id: str, symbol: str) -> bool:
        """Cancel one order; False when the venue answers that it canceled nothing (Kraken's
        ``count: 0``: the order had closed). Raises OrderNotFound when the venue does not know
        it (any more)."""
        return parse.cancel_took_effect(await self._exchange.cancel_order(venue_id, symbol))

    @_translated
    async def cancel_all_orders(self) -> None:
        """Cancel every open order of the account, ours or not."""
        await self._exchange.cancel_all_orders()

    @_translated
    async def cancel_all_orders_after(self, timeout_ms: int) -> None:
        """Arm (``timeout_ms`` > 0) or disarm (0) the venue's dead-man's switch."""
        await self._exchange.cancel_all_orders_after(timeout_ms)

    @_translated
    async def fetch_open_orders(self, client_id: str | None = None) -> list[OrderReport]:
        """The account's open orders (only ``client_id``'s when given: the venue filters)."""
        params = {"clientOrderId": client_id} if client_id is not None else {}
        return self._orders(await self._exchange.fetch_open_orders(None, None, None, params))

    @_translated
    async def fetch_closed_orders(self, client_id: str | None = None) -> list[OrderReport]:
        """The account's recently closed orders (only ``client_id``'s when given)."""
        params = {"clientOrderId": client_id} if client_id is not None else {}
        return self._orders(await self._exchange.fetch_closed_orders(None, None, None, params))

    @_translated
    async def fetch_order(self, venue_id: str, symbol: str) -> OrderReport:
        """One order by its venue id; raises OrderNotFound when the venue does not know it."""
        return parse.order_report(await self._exchange.fetch_order(venue_id, symbol))

    @_translated
    async def watch_orders(self) -> list[OrderReport]:
        """The next order updates of the executions stream."""
        return self._orders(await self._exchange.watch_orders(), stream=True)

    @_translated
    async def fetch_my_trades(
        self, symbol: str | None = None, since_ms: int | None = None
    ) -> list[TradeReport]:
        """The account's trades since ``since_ms`` (venue time), oldest first: the whole window,
        page after page where the venue pages its history (up to ``MAX_TRADE_PAGES``)."""
        page_size = TRADE_PAGE_SIZE.get(str(self._exchange.id))
        if page_size is None:
            return self._trades(await self._exchange.fetch_my_trades(symbol, since_ms))
        trades_by_id: dict[str, parse.CcxtTrade] = {}
        for page_number in range(MAX_TRADE_PAGES):
            params = {"ofs": page_number * page_size} if page_number else {}
            # No symbol: ccxt would filter the page by it, and a page shortened by the filter
            # would pass for the last one. ccxt's own filter by ``since`` only removes the oldest
            # trades of a page, and only once the page reaches back past the window: the end.
            page = await self._exchange.fetch_my_trades(None, since_ms, None, params)
            new_ids = {str(trade.get("id")) for trade in page} - trades_by_id.keys()
            for trade in page:
                trades_by_id.setdefault(str(trade.get("id")), trade)
            # Offsets count from the newest trade, and trades arriving between two pages only
            # push the older ones further down: the next page repeats some (kept once, by id)
            # and skips none. A page bringing nothing new means the venue ignores ``ofs`` (or a
            # whole page arrived in between): stop there; the same window is read again next time.
            if len(page) < page_size or not new_ids:
                break
        else:
            if not self._warned_trade_cap:
                self._warned_trade_cap = True
                log.warning(
                    "the venue's trade history since %s holds more than %d trades: "
                    "only the newest %d were read",
                    since_ms,
                    MAX_TRADE_PAGES * page_size,
                    MAX_TRADE_PAGES * page_size,
                )
        trades = sorted(trades_by_id.values(), key=lambda trade: trade.get("timestamp") or 0)
        if symbol is not None:
            trades = [trade for trade in trades if trade.get("symbol") == symbol]
        return self._trades(trades)

    @_translated
    async def watch_my_trades(self) -> list[TradeReport]:
        """The account's next trades from the executions stream."""
        return self._trades(await self._exchange.watch_my_trades())

    async def close(self) -> None:
        """Close the client's sessions and sockets (never raises)."""
        try:
            await self._exchange.close()
        except Exception as exc:  # noqa: BLE001 - closing must not fail a stop
            log.debug("closing the venue client: %s", exc)

    # ----------------------------------------------------------------- parsing

    @staticmethod
    def _orders(remotes: list[parse.CcxtOrder], stream: bool = False) -> list[OrderReport]:
        reports = []
        for remote in remotes:
            try:
                reports.append(parse.order_report(remote, stream=stream))
            except (KeyError, TypeError, ValueError) as exc:
                log.warning("ignored an order report without an id: %r", exc)
        return reports

    @staticmethod
    def _trades(trades: list[parse.CcxtTrade]) -> list[TradeReport]:
        reports = []
        for trade in trades:
            report = parse.trade_report(trade)
            if report is None:
                log.warning("ignored a trade report missing its id, side, amount or price")
            else:
                reports.append(report)
        return reports
