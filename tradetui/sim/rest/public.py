"""Answers Kraken's public REST endpoints from the synthetic market."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tradetui.sim import errors
from tradetui.sim.errors import KrakenError
from tradetui.sim.fmt import fixed, iso, rfc1123, scaled
from tradetui.sim.instruments import MAKER_FEE_PCT, TAKER_FEE_PCT, PairSpec
from tradetui.sim.tape import INTERVALS_MIN
from tradetui.sim.venue.exchange import SimExchange

Params = dict[str, str]
PublicHandler = Callable[[SimExchange, Params], Any]


def _pairs(ex: SimExchange, params: Params, required: bool = False) -> list[PairSpec]:
    names = params.get("pair")
    if not names:
        if required:
            raise errors.invalid_argument()
        return list(ex.instruments.pairs.values())
    pairs: list[PairSpec] = []
    for name in names.split(","):
        pair = ex.instruments.pair(name.strip())
        if pair is None:
            raise KrakenError(errors.UNKNOWN_PAIR)
        pairs.append(pair)
    return pairs


def assets(ex: SimExchange, params: Params) -> dict[str, Any]:
    wanted = params.get("asset")
    specs = list(ex.instruments.assets.values())
    if wanted:
        specs = []
        for name in wanted.split(","):
            asset = ex.instruments.asset(name.strip())
            if asset is None:
                raise KrakenError(errors.UNKNOWN_ASSET)
            specs.append(asset)
    return {
        asset.asset_id: {
            "aclass": "currency",
            "altname": asset.altname,
            "decimals": asset.decimals,
            "display_decimals": asset.display_decimals,
            "status": "enabled",
        }
        for asset in specs
    }


def asset_pairs(ex: SimExchange, params: Params) -> dict[str, Any]:
    return {
        pair.pair_id: {
            "altname": pair.altname,
            "wsname": pair.wsname,
            "aclass_base": "currency",
            "base": pair.base,
            "aclass_quote": "currency",
            "quote": pair.quote,
            "lot": "unit",
            "cost_decimals": pair.cost_decimals,
            "pair_decimals": pair.pair_decimals,
            "lot_decimals": pair.lot_decimals,
            "lot_multiplier": 1,
            "leverage_buy": [],
            "leverage_sell": [],
            "fees": [[0, float(TAKER_FEE_PCT)]],
            "fees_maker": [[0, float(MAKER_FEE_PCT)]],
            "fee_volume_currency": "ZUSD",
            "margin_call": 80,
            "margin_stop": 40,
            "ordermin": str(pair.ordermin),
            "costmin": str(pair.costmin),
            "tick_size": str(pair.tick_size),
            "status": ex.instruments.status.get(pair.pair_id, "online"),
        }
        for pair in _pairs(ex, params)
    }


def ticker(ex: SimExchange, params: Params) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for pair in _pairs(ex, params):
        view = ex.market.pairs[pair.pair_id].ticker()
        pd, ld = pair.pair_decimals, pair.lot_decimals
        volume = fixed(scaled(round(view.volume * 10**ld), ld), ld)
        vwap = fixed(scaled(round(view.vwap * 10**pd), pd), pd)
        result[pair.pair_id] = {
            "a": [fixed(view.ask, pd), str(max(1, int(view.ask_qty))), fixed(view.ask_qty, ld)],
            "b": [fixed(view.bid, pd), str(max(1, int(view.bid_qty))), fixed(view.bid_qty, ld)],
            "c": [fixed(view.last, pd), fixed(view.last_qty, ld)],
            "v": [volume, volume],
            "p": [vwap, vwap],
            "t": [view.trades, view.trades],
            "l": [fixed(view.low, pd), fixed(view.low, pd)],
            "h": [fixed(view.high, pd), fixed(view.high, pd)],
            "o": fixed(view.open, pd),
        }
    return result


def depth(ex: SimExchange, params: Params) -> dict[str, Any]:
    pair = _pairs(ex, params, required=True)[0]
    try:
        count = int(params.get("count", "100"))
    except ValueError as exc:
        raise errors.invalid_argument("count") from exc
    count = max(1, min(count, 500))
    pm = ex.market.pairs[pair.pair_id]
    now = int(ex.clock())
    pd, ld = pair.pair_decimals, pair.lot_decimals

    def side(is_bid: bool) -> list[list[Any]]:
        return [
            [fixed(scaled(price, pd), pd), fixed(scaled(lots, ld), ld), now]
            for price, lots in pm.top(is_bid, count)
        ]

    return {pair.pair_id: {"asks": side(False), "bids": side(True)}}


def _number(params: Params, name: str, default: float) -> float:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise errors.invalid_argument(name) from exc


def ohlc(ex: SimExchange, params: Params) -> dict[str, Any]:
    pair = _pairs(ex, params, required=True)[0]
    interval = int(_number(params, "interval", 1))
    if interval not in INTERVALS_MIN:
        raise errors.invalid_argument("interval")
    since = _number(params, "since", 0)
    pm = ex.market.pairs[pair.pair_id]
    pd, ld = pair.pair_decimals, pair.lot_decimals
    bars = pm.tape.bars(interval)
    rows = [
        [
            bar.begin,
            fixed(scaled(bar.open, pd), pd),
            fixed(scaled(bar.high, pd), pd),
            fixed(scaled(bar.low, pd), pd),
            fixed(scaled(bar.close, pd), pd),
            fixed(scaled(bar.cost // bar.volume_lots if bar.volume_lots else bar.close, pd), pd),
            fixed(scaled(bar.volume_lots, ld), ld),
            bar.count,
        ]
        for bar in bars
        if bar.begin > since
    ]
    # `last` is the newest committed (closed) bar, so `since=last` returns the live one again.
    last = bars[-2].begin if len(bars) > 1 else (bars[-1].begin if bars else 0)
    return {pair.pair_id: rows, "last": last}


def trades(ex: SimExchange, params: Params) -> dict[str, Any]:
    pair = _pairs(ex, params, required=True)[0]
    since = _number(params, "since", 0)
    if since > 1e12:  # Kraken's `last` cursor is in nanoseconds; ccxt sends seconds
        since /= 1e9
    count = max(1, min(int(_number(params, "count", 1000)), 1000))
    pm = ex.market.pairs[pair.pair_id]
    pd, ld = pair.pair_decimals, pair.lot_decimals
    tape = [trade for trade in pm.tape.trades if trade.time > since][:count]
    rows = [
        [
            fixed(scaled(trade.price_ticks, pd), pd),
            fixed(scaled(trade.lots, ld), ld),
            round(trade.time, 4),
            "b" if trade.side == "buy" else "s",
            "m" if trade.ord_type == "market" else "l",
            "",
            trade.trade_id,
        ]
        for trade in tape
    ]
    last_time = tape[-1].time if tape else since
    return {pair.pair_id: rows, "last": str(int(last_time * 1e9))}


def server_time(ex: SimExchange, params: Params) -> dict[str, Any]:
    now = ex.clock()
    return {"unixtime": int(now), "rfc1123": rfc1123(now)}


def system_status(ex: SimExchange, params: Params) -> dict[str, Any]:
    return {"status": "online", "timestamp": iso(ex.clock())[:19] + "Z"}


PUBLIC_METHODS: dict[str, PublicHandler] = {
    "Assets": assets,
    "AssetPairs": asset_pairs,
    "Ticker": ticker,
    "Depth": depth,
    "OHLC": ohlc,
    "Trades": trades,
    "Time": server_time,
    "SystemStatus": system_status,
}
