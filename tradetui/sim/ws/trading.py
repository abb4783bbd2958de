"""Handles the WS v2 trading methods: `add_order`, `cancel_order` and `cancel_all`."""

from __future__ import annotations

from tradetui.sim import errors
from tradetui.sim.errors import KrakenError
from tradetui.sim.venue.accounts import Account
from tradetui.sim.venue.exchange import SimExchange
from tradetui.sim.venue.order_params import build_request
from tradetui.sim.ws.request import WsRequest


def _account(exchange: SimExchange, request: WsRequest) -> Account | None:
    account = exchange.accounts.account_for_token(request.params.get("token"))
    if account is None or not request.session.private:
        request.fail(errors.INVALID_SESSION)
        return None
    return account


def add_order(exchange: SimExchange, request: WsRequest) -> None:
    account = _account(exchange, request)
    if account is None:
        return
    params = request.params
    symbol = params.get("symbol")
    pair = exchange.instruments.pair_by_symbol(symbol) if isinstance(symbol, str) else None
    if pair is None:
        request.fail(f"Currency pair not supported {symbol}")
        return
    try:
        order_request = build_request(
            pair,
            side=params.get("side"),
            ordertype=params.get("order_type"),
            volume=params.get("order_qty"),
            price=params.get("limit_price"),
            oflags=frozenset({"post"}) if params.get("post_only") is True else frozenset(),
            timeinforce=params.get("time_in_force"),
            cl_ord_id=params.get("cl_ord_id"),
            userref=params.get("order_userref"),
            validate=params.get("validate") is True,
        )
        order = exchange.engine.place(account, order_request)
    except KrakenError as exc:
        request.fail(exc.ws_message)
        return
    result: dict[str, object] = {"order_id": order.txid}
    if order.cl_ord_id is not None:
        result["cl_ord_id"] = order.cl_ord_id
    if order.userref is not None:
        result["order_userref"] = order.userref
    request.ok(result)


def _id_list(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(item) for item in value]
    return []


def cancel_order(exchange: SimExchange, request: WsRequest) -> None:
    """Cancel by `order_id` or `cl_ord_id` lists; one response per id, as Kraken does.

    WS v2 answers carry no count: an id whose order is no longer open (REST's `count: 0` for a
    cl_ord_id) is answered `EOrder:Unknown order`, so success always means it was canceled.
    """
    account = _account(exchange, request)
    if account is None:
        return
    order_ids = _id_list(request.params.get("order_id"))
    client_ids = _id_list(request.params.get("cl_ord_id"))
    if not order_ids and not client_ids:
        request.fail(errors.INVALID_ARGUMENTS)
        return
    targets = [(txid, None) for txid in order_ids] + [(None, cid) for cid in client_ids]
    for txid, cl_ord_id in targets:
        try:
            if exchange.engine.cancel(account, txid, cl_ord_id) == 0:
                raise KrakenError(errors.UNKNOWN_ORDER)
        except KrakenError as exc:
            request.fail(exc.ws_message)
            continue
        request.ok({"order_id": txid} if txid is not None else {"cl_ord_id": cl_ord_id})


def cancel_all(exchange: SimExchange, request: WsRequest) -> None:
    account = _account(exchange, request)
    if account is not None:
        request.ok({"count": exchange.engine.cancel_all(account)})
