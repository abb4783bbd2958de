"""Renders orders and fills as Kraken's REST API returns them."""

from __future__ import annotations

from typing import Any

from tradetui.sim.fmt import fixed
from tradetui.sim.venue.orders import Fill, Order

ZERO_PRICE = "0.00000"


def oflags_text(order: Order) -> str:
    flags: list[str] = [flag for flag in ("post", "viqc", "nompp") if flag in order.oflags]
    flags.append("fcib" if "fcib" in order.oflags else "fciq")
    return ",".join(flags)


def descr_order(order: Order) -> str:
    """The `descr.order` sentence ccxt parses: `buy 0.01000000 XBTUSD @ limit 50000.0`."""
    pair = order.pair
    if order.quote_volume is not None:
        amount = fixed(order.quote_volume, pair.cost_decimals)
    else:
        amount = fixed(order.vol, pair.lot_decimals)
    text = f"{order.side} {amount} {pair.altname} @ {order.ordertype}"
    if order.ordertype == "limit" and order.price is not None:
        text += f" {fixed(order.price, pair.pair_decimals)}"
    return text


def order_info(order: Order, with_trades: bool = False) -> dict[str, Any]:
    """One entry of OpenOrders / ClosedOrders / QueryOrders."""
    pair = order.pair
    info: dict[str, Any] = {"refid": None, "userref": order.userref}
    if order.cl_ord_id is not None:
        info["cl_ord_id"] = order.cl_ord_id
    info.update(
        status=order.status,
        reason=order.reason,
        opentm=order.opentm,
    )
    if order.closetm is not None:
        info["closetm"] = order.closetm
    info.update(
        starttm=0,
        expiretm=0,
        descr={
            "pair": pair.altname,
            "type": order.side,
            "ordertype": order.ordertype,
            "price": fixed(order.price, pair.pair_decimals) if order.price is not None else "0",
            "price2": "0",
            "leverage": "none",
            "order": descr_order(order),
            "close": "",
        },
        vol=fixed(order.vol, pair.lot_decimals),
        vol_exec=fixed(order.vol_exec, pair.lot_decimals),
        cost=fixed(order.cost, pair.cost_decimals),
        fee=fixed(order.fee, pair.cost_decimals),
        price=fixed(order.avg_price, pair.pair_decimals + 4),
        stopprice=ZERO_PRICE,
        limitprice=ZERO_PRICE,
        misc="",
        oflags=oflags_text(order),
    )
    if with_trades and order.trade_ids:
        info["trades"] = list(order.trade_ids)
    return info


def trade_info(fill: Fill) -> dict[str, Any]:
    """One entry of TradesHistory / QueryTrades."""
    pair = fill.pair
    return {
        "ordertxid": fill.order_txid,
        "postxid": fill.postxid,
        "pair": pair.pair_id,
        "time": fill.time,
        "type": fill.side,
        "ordertype": fill.ordertype,
        "price": fixed(fill.price, pair.pair_decimals),
        "cost": fixed(fill.cost, pair.cost_decimals),
        "fee": fixed(fill.fee, pair.cost_decimals),
        "vol": fixed(fill.vol, pair.lot_decimals),
        "margin": ZERO_PRICE,
        "leverage": "0",
        "misc": "",
        "trade_id": fill.trade_id,
        "maker": fill.maker,
    }
