"""Answers Kraken's signed private REST endpoints for one authenticated account."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from tradetui.sim import errors
from tradetui.sim.errors import KrakenError
from tradetui.sim.fmt import fixed, iso
from tradetui.sim.rest.render import descr_order, order_info, trade_info
from tradetui.sim.venue.accounts import TOKEN_TTL_S, Account
from tradetui.sim.venue.deadman import MAX_TIMEOUT_S
from tradetui.sim.venue.exchange import SimExchange
from tradetui.sim.venue.order_params import build_request
from tradetui.sim.venue.orders import Fill, Order

Params = dict[str, str]
PrivateHandler = Callable[[SimExchange, Account, Params], Any]
PAGE_SIZE = 50


def _flag(params: Params, name: str) -> bool:
    return params.get(name, "").strip().lower() == "true"


def _time_param(params: Params, name: str) -> float | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    try:
        return float(value)
    except ValueError as exc:
        raise errors.invalid_argument(name) from exc


def _offset(params: Params) -> int:
    try:
        return max(0, int(params.get("ofs", "0")))
    except ValueError as exc:
        raise errors.invalid_argument("ofs") from exc


def _matches_ref(order: Order, params: Params) -> bool:
    """Apply the `userref` and `cl_ord_id` filters Kraken's order queries accept.

    ccxt sends a clientOrderId as `userref` in fetch_order, so a userref that is
    not an integer is compared with cl_ord_id too.
    """
    userref = params.get("userref")
    if userref is not None and userref not in (str(order.userref), order.cl_ord_id):
        return False
    cl_ord_id = params.get("cl_ord_id")
    return cl_ord_id is None or order.cl_ord_id == cl_ord_id


def balance(ex: SimExchange, account: Account, params: Params) -> dict[str, str]:
    return {
        asset: fixed(amount, ex.instruments.assets[asset].decimals)
        for asset, amount in account.balances.items()
    }


def balance_ex(ex: SimExchange, account: Account, params: Params) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for asset, amount in account.balances.items():
        places = ex.instruments.assets[asset].decimals
        result[asset] = {
            "balance": fixed(amount, places),
            "hold_trade": fixed(account.hold_of(asset), places),
        }
    return result


def add_order(ex: SimExchange, account: Account, params: Params) -> dict[str, Any]:
    pair = ex.instruments.pair(params.get("pair", ""))
    if pair is None:
        raise KrakenError(errors.UNKNOWN_PAIR)
    oflags = frozenset(flag.strip() for flag in params.get("oflags", "").split(",") if flag.strip())
    request = build_request(
        pair,
        side=params.get("type"),
        ordertype=params.get("ordertype"),
        volume=params.get("volume"),
        price=params.get("price"),
        oflags=oflags,
        timeinforce=params.get("timeinforce"),
        cl_ord_id=params.get("cl_ord_id"),
        userref=params.get("userref"),
        validate=_flag(params, "validate"),
    )
    order = ex.engine.place(account, request)
    result: dict[str, Any] = {"descr": {"order": descr_order(order)}}
    if not request.validate:
        result["txid"] = [order.txid]
    return result


def cancel_order(ex: SimExchange, account: Account, params: Params) -> dict[str, Any]:
    txid, cl_ord_id = params.get("txid"), params.get("cl_ord_id")
    if not txid and not cl_ord_id:
        raise errors.invalid_argument()
    return {"count": ex.engine.cancel(account, txid, cl_ord_id), "pending": False}


def cancel_all(ex: SimExchange, account: Account, params: Params) -> dict[str, Any]:
    return {"count": ex.engine.cancel_all(account)}


def cancel_all_orders_after(ex: SimExchange, account: Account, params: Params) -> dict[str, Any]:
    """The dead man's switch: every open order is cancelled unless the call is repeated in time."""
    try:
        timeout = int(params.get("timeout", ""))
    except ValueError as exc:
        raise errors.invalid_argument("timeout") from exc
    if not 0 <= timeout <= MAX_TIMEOUT_S:
        raise errors.invalid_argument("timeout")
    now = ex.clock()
    trigger = ex.deadman.arm(account, timeout, now)
    return {
        "currentTime": iso(now)[:19] + "Z",
        "triggerTime": iso(trigger)[:19] + "Z" if trigger else "0",
    }


def open_orders(ex: SimExchange, account: Account, params: Params) -> dict[str, Any]:
    with_trades = _flag(params, "trades")
    return {
        "open": {
            order.txid: order_info(order, with_trades)
            for order in account.open_orders.values()
            if _matches_ref(order, params)
        }
    }


def _page(items: list[Any], params: Params) -> list[Any]:
    offset = _offset(params)
    return items[offset : offset + PAGE_SIZE]


def _in_window(ts: float, params: Params) -> bool:
    start, end = _time_param(params, "start"), _time_param(params, "end")
    return (start is None or ts > start) and (end is None or ts <= end)


def closed_orders(ex: SimExchange, account: Account, params: Params) -> dict[str, Any]:
    with_trades = _flag(params, "trades")
    closed = [
        order
        for order in account.orders.values()
        if not order.is_open and _matches_ref(order, params) and _in_window(order.opentm, params)
    ]
    closed.sort(key=lambda order: order.closetm or 0.0, reverse=True)
    return {
        "closed": {order.txid: order_info(order, with_trades) for order in _page(closed, params)},
        "count": len(closed),
    }


def query_orders(ex: SimExchange, account: Account, params: Params) -> dict[str, Any]:
    txids = [txid.strip() for txid in params.get("txid", "").split(",") if txid.strip()]
    if not txids or len(txids) > PAGE_SIZE:
        raise errors.invalid_argument("txid")
    with_trades = _flag(params, "trades")
    result: dict[str, Any] = {}
    for txid in txids:
        order = account.orders.get(txid)
        if order is not None and _matches_ref(order, params):
            result[txid] = order_info(order, with_trades)
    return result


def _trades(fills: Iterable[Fill]) -> dict[str, Any]:
    return {fill.txid: trade_info(fill) for fill in fills}


def trades_history(ex: SimExchange, account: Account, params: Params) -> dict[str, Any]:
    fills = [fill for fill in reversed(account.fills) if _in_window(fill.time, params)]
    return {"trades": _trades(_page(fills, params)), "count": len(fills)}


def query_trades(ex: SimExchange, account: Account, params: Params) -> dict[str, Any]:
    wanted = {txid.strip() for txid in params.get("txid", "").split(",") if txid.strip()}
    if not wanted:
        raise errors.invalid_argument("txid")
    return _trades(fill for fill in account.fills if fill.txid in wanted)


def websockets_token(ex: SimExchange, account: Account, params: Params) -> dict[str, Any]:
    expires = math.ceil(ex.accounts.token_ttl_s) or TOKEN_TTL_S
    return {"token": ex.accounts.issue_token(account), "expires": expires}


PRIVATE_METHODS: dict[str, PrivateHandler] = {
    "Balance": balance,
    "BalanceEx": balance_ex,
    "AddOrder": add_order,
    "CancelOrder": cancel_order,
    "CancelAll": cancel_all,
    "CancelAllOrdersAfter": cancel_all_orders_after,
    "OpenOrders": open_orders,
    "ClosedOrders": closed_orders,
    "QueryOrders": query_orders,
    "TradesHistory": trades_history,
    "QueryTrades": query_trades,
    "GetWebSocketsToken": websockets_token,
}
