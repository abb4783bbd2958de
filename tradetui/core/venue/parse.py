"""Provides the one place where ccxt's dicts become typed engine values (orders, trades, quotes,
books, balances, market rules). Nothing outside ``core/venue`` sees a ccxt dict."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypedDict, TypeVar

from tradetui.core.model import (
    Balance,
    MarketInfo,
    OrderBook,
    OrderReport,
    OrderStatus,
    OrderType,
    PublicTrade,
    Quote,
    Side,
    TradeReport,
)
from tradetui.core.venue.errors import VenueSetupError

log = logging.getLogger("tradetui.venue")


class CcxtOrder(TypedDict, total=False):
    """The fields of ccxt's unified order structure that the engine reads."""

    id: str
    clientOrderId: str | None
    symbol: str
    side: str
    type: str
    amount: float | None
    price: float | None
    status: str | None
    filled: float | None
    average: float | None
    timestamp: int | None
    info: dict[str, Any]


class CcxtTrade(TypedDict, total=False):
    """The fields of ccxt's unified trade structure that the engine reads."""

    id: str | None
    order: str | None
    symbol: str
    side: str
    amount: float
    price: float
    fee: dict[str, Any] | None
    timestamp: int


VENUE_STATUS = {
    "open": OrderStatus.OPEN,
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "expired": OrderStatus.CANCELED,
    "rejected": OrderStatus.REJECTED,
}
"""ccxt's unified order status -> the engine's."""
_E = TypeVar("_E", Side, OrderType)
_NO_CLIENT_ID = (None, "", "0")
"""How venues say an order has no client id (Kraken's userref is 0 when unset)."""


def market_info(symbol: str, market: Mapping[str, Any]) -> MarketInfo:
    """The trading rules of one ccxt market structure."""
    precision = market.get("precision") or {}
    limits = market.get("limits") or {}
    active = market.get("active") is not False
    raw_status = str((market.get("info") or {}).get("status") or "").strip().lower()
    return MarketInfo(
        symbol=symbol,
        base=str(market["base"]),
        quote=str(market["quote"]),
        amount_step=_dec(precision.get("amount"), "0.00000001"),
        price_step=_dec(precision.get("price"), "0.01"),
        min_amount=_dec((limits.get("amount") or {}).get("min"), "0"),
        min_cost=_dec((limits.get("cost") or {}).get("min"), "0"),
        active=active,
        status=raw_status or ("online" if active else "inactive"),
    )


def market_infos(markets: Mapping[str, Mapping[str, Any]]) -> dict[str, MarketInfo]:
    """Every market of ccxt's ``markets`` as trading rules, by symbol; a market whose structure
    lacks its currencies or holds an unreadable number is left out, with a warning."""
    infos: dict[str, MarketInfo] = {}
    for symbol, market in markets.items():
        try:
            infos[symbol] = market_info(symbol, market)
        except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
            log.warning("ignored the venue's market %s: %r", symbol, exc)
    return infos


def select_markets(
    markets: Mapping[str, MarketInfo], symbols: Iterable[str]
) -> dict[str, MarketInfo]:
    """The rules of ``symbols``; raises VenueSetupError naming any symbol the venue does not list."""
    wanted = list(symbols)
    unknown = [s for s in wanted if s not in markets]
    if unknown:
        raise VenueSetupError(f"unknown symbol(s) on this venue: {', '.join(unknown)}")
    return {symbol: markets[symbol] for symbol in wanted}


def quote(symbol: str, ticker: Mapping[str, Any], now: float, source: str = "ws") -> Quote | None:
    """Top of book from a ccxt ticker, or None when its prices are missing or not finite."""
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


def order_book(symbol: str, book: Mapping[str, Any], depth: int, now: float) -> OrderBook:
    """A copy of the top ``depth`` levels of ccxt's live, mutating book."""
    return OrderBook(
        symbol,
        tuple((float(p), float(a)) for p, a, *_ in book["bids"][:depth]),
        tuple((float(p), float(a)) for p, a, *_ in book["asks"][:depth]),
        now,
    )


def public_trades(symbol: str, trades: Iterable[Mapping[str, Any]]) -> list[PublicTrade]:
    """The market's trades that carry a price and an amount."""
    return [
        PublicTrade(symbol, float(t["price"]), float(t["amount"]))
        for t in trades
        if t.get("price") and t.get("amount")
    ]


def order_report(remote: CcxtOrder, *, stream: bool = False) -> OrderReport:
    """One order as the venue reports it; raises ValueError (or KeyError) when it has no id.

    On the executions stream ccxt derives ``clientOrderId`` from Kraken's numeric userref, so the
    client id is read from Kraken's own ``cl_ord_id`` there.
    """
    client_id: Any = (
        (remote.get("info") or {}).get("cl_ord_id") if stream else remote.get("clientOrderId")
    )
    timestamp = remote.get("timestamp")
    return OrderReport(
        venue_id=str(remote["id"]),
        client_id=None if client_id in _NO_CLIENT_ID else str(client_id),
        symbol=str(remote.get("symbol") or ""),
        side=_enum(Side, remote.get("side")),
        order_type=_enum(OrderType, remote.get("type")),
        amount=_optional_dec(remote.get("amount")),
        price=_optional_dec(remote.get("price")),
        status=VENUE_STATUS.get(str(remote.get("status"))),
        filled=_dec(remote.get("filled") or 0, "0"),
        average_price=_optional_dec(remote.get("average")),
        timestamp=float(timestamp) / 1000 if timestamp else None,
    )


def trade_report(trade: CcxtTrade) -> TradeReport | None:
    """One of the account's trades, or None when the venue's record lacks what a fill needs."""
    try:
        symbol = str(trade["symbol"])
        fee = trade.get("fee") or {}
        report = TradeReport(
            trade_id=str(trade["id"]),
            order_id=str(trade.get("order") or ""),
            symbol=symbol,
            side=Side(trade["side"]),
            amount=Decimal(str(trade["amount"])),
            price=Decimal(str(trade["price"])),
            fee=Decimal(str(fee.get("cost") or 0)),
            fee_currency=str(fee.get("currency") or symbol.partition("/")[2]),
            timestamp=float(trade["timestamp"]) / 1000,
        )
    except (KeyError, TypeError, ValueError, InvalidOperation):
        return None
    if trade["id"] is None or not (report.amount > 0 and report.price > 0):
        return None
    return report


def cancel_took_effect(answer: Mapping[str, Any] | None) -> bool:
    """Whether a cancel's answer leaves the order canceled (or about to be): False only when the
    venue says it canceled nothing (Kraken's ``count: 0``, which ccxt leaves in ``info``) and
    nothing is pending. An answer that says neither counts as done."""
    info = (answer or {}).get("info")
    result = info.get("result", info) if isinstance(info, Mapping) else None
    if not isinstance(result, Mapping) or result.get("count") is None:
        return True
    try:
        count = int(result["count"])
    except (TypeError, ValueError):
        return True
    return count != 0 or str(result.get("pending")).lower() == "true"


def balances(raw: Mapping[str, Any]) -> dict[str, Balance]:
    """Free, used and total per currency from ccxt's ``fetch_balance``."""
    free, used = raw.get("free") or {}, raw.get("used") or {}
    return {
        currency: Balance(
            currency,
            Decimal(str(free.get(currency) or 0)),
            Decimal(str(used.get(currency) or 0)),
            Decimal(str(total or 0)),
        )
        for currency, total in (raw.get("total") or {}).items()
    }


def balance_totals(update: Mapping[str, Any]) -> dict[str, Decimal]:
    """The totals a ``watch_balance`` message carries (the stream has no holds)."""
    return {
        currency: Decimal(str(total))
        for currency, total in (update.get("total") or {}).items()
        if total is not None
    }


def _enum(kind: type[_E], value: Any) -> _E | None:
    try:
        return kind(value)
    except ValueError:
        return None


def _dec(value: Any, default: str) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(default)


def _optional_dec(value: Any) -> Decimal | None:
    return Decimal(str(value)) if value else None
