"""Renders WS v2 payload entries (ticker, book, executions, balances) for ccxt.pro."""

from __future__ import annotations

import zlib
from typing import Any

from tradetui.sim.fmt import iso
from tradetui.sim.instruments import Instruments, PairSpec
from tradetui.sim.market import Level, PairMarket
from tradetui.sim.venue.accounts import Account, BalanceChange
from tradetui.sim.venue.orders import Fill, Order

CHECKSUM_LEVELS = 10


def ticker_entry(pair: PairSpec, pm: PairMarket) -> dict[str, Any]:
    """The WS v2 ticker, straight from the market's integer state (no Decimals: it runs per tick)."""
    price_scale, lot_scale = 10**pair.pair_decimals, 10**pair.lot_decimals
    bid = pm.best_bid() or (pm.bid_top, 0)
    ask = pm.best_ask() or (pm.ask_top, 0)
    last, opened = pm.last_ticks / price_scale, pm.open_ticks / price_scale
    change = last - opened
    vwap = pm.quote_volume / pm.volume if pm.volume else 0.0
    return {
        "symbol": pair.symbol,
        "bid": bid[0] / price_scale,
        "bid_qty": bid[1] / lot_scale,
        "ask": ask[0] / price_scale,
        "ask_qty": ask[1] / lot_scale,
        "last": last,
        "volume": round(pm.volume, pair.lot_decimals),
        "vwap": round(vwap, pair.pair_decimals),
        "low": pm.low_ticks / price_scale,
        "high": pm.high_ticks / price_scale,
        "change": round(change, pair.pair_decimals),
        "change_pct": round(change / opened * 100, 2) if opened else 0.0,
    }


def levels(pair: PairSpec, side: list[Level]) -> list[dict[str, float]]:
    price_scale, lot_scale = 10**pair.pair_decimals, 10**pair.lot_decimals
    return [{"price": price / price_scale, "qty": lots / lot_scale} for price, lots in side]


def levels_json(pair: PairSpec, side: list[Level]) -> str:
    """`levels()` already serialised: `{"price": p, "qty": q}, ...` (repr is what json uses)."""
    price_scale, lot_scale = 10**pair.pair_decimals, 10**pair.lot_decimals
    return ", ".join(
        f'{{"price": {price / price_scale!r}, "qty": {lots / lot_scale!r}}}' for price, lots in side
    )


def book_checksum(asks: list[Level], bids: list[Level]) -> int:
    """Kraken's CRC32 over the top 10 asks then bids.

    Kraken formats each price and quantity with the pair's decimals, drops the
    point and strips leading zeros, which for integer ticks and lots is `str()`.
    """
    parts = [f"{price}{lots}" for price, lots in asks[:CHECKSUM_LEVELS]]
    parts.extend(f"{price}{lots}" for price, lots in bids[:CHECKSUM_LEVELS])
    return zlib.crc32("".join(parts).encode())


def order_entry(order: Order, exec_type: str, now: float) -> dict[str, Any]:
    """An `executions` order-status entry; symbol, side, type and price are always present."""
    entry: dict[str, Any] = {
        "order_id": order.txid,
        "exec_type": exec_type,
        "order_status": order.ws_status,
        "symbol": order.pair.symbol,
        "side": order.side,
        "order_type": order.ordertype,
        "order_qty": float(order.vol),
        "cum_qty": float(order.vol_exec),
        "cum_cost": float(order.cost),
        "avg_price": float(order.avg_price),
        "fee_usd_equiv": float(order.fee),
        "fee_ccy_pref": "fciq",
        "time_in_force": order.timeinforce,
        "post_only": order.post_only,
        "order_userref": order.userref or 0,
        "timestamp": iso(now),
    }
    if order.price is not None:
        entry["limit_price"] = float(order.price)
        entry["limit_price_type"] = "static"
    if order.cl_ord_id is not None:
        entry["cl_ord_id"] = order.cl_ord_id
    if order.status == "canceled":
        entry["reason"] = entry["cancel_reason"] = order.reason or "User requested"
    return entry


def trade_entry(instruments: Instruments, order: Order, fill: Fill) -> dict[str, Any]:
    """An `executions` entry with `exec_type: trade`, which ccxt routes to watch_my_trades."""
    entry = order_entry(order, "trade", fill.time)
    del entry["fee_ccy_pref"], entry["post_only"]
    entry.update(
        exec_id=fill.txid,
        trade_id=fill.trade_id,
        last_qty=float(fill.vol),
        last_price=float(fill.price),
        liquidity_ind="m" if fill.maker else "t",
        cost=float(fill.cost),
        fee_usd_equiv=float(fill.fee),
        fees=[{"asset": instruments.assets[fill.pair.quote].ws_name, "qty": float(fill.fee)}],
    )
    return entry


def balance_entry(instruments: Instruments, asset: str, balance: float) -> dict[str, Any]:
    return {
        "asset": instruments.assets[asset].ws_name,
        "asset_class": "currency",
        "balance": balance,
        "wallets": [{"type": "spot", "id": "main", "balance": balance}],
    }


def balance_snapshot(instruments: Instruments, account: Account) -> list[dict[str, Any]]:
    return [
        balance_entry(instruments, asset, float(amount))
        for asset, amount in account.balances.items()
    ]


def balance_update(instruments: Instruments, change: BalanceChange, now: float) -> dict[str, Any]:
    """A post-change balance; fills carry Kraken's ledger fields as well."""
    entry = balance_entry(instruments, change.asset, float(change.balance))
    if change.kind == "trade":
        entry.update(
            amount=float(change.amount),
            fee=float(change.fee),
            ref_id=change.ref_id,
            type="trade",
            subtype="",
            category="trade",
            wallet_type="spot",
            wallet_id="main",
            timestamp=iso(now),
        )
    return entry
