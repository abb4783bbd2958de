"""Publishes the public WS v2 `trade` and `ohlc` channels from each pair's tape, and heartbeats."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tradetui.sim.fmt import iso
from tradetui.sim.instruments import PairSpec
from tradetui.sim.tape import INTERVALS_MIN, Candle, PublicTrade
from tradetui.sim.venue.exchange import SimExchange
from tradetui.sim.ws.request import WsRequest, requested_pairs
from tradetui.sim.ws.session import WsSession, fan_out

TAPE_CHANNELS = ("trade", "ohlc")
SNAPSHOT_TRADES = 50
SNAPSHOT_BARS = 60
HEARTBEAT_S = 1.0
"""Kraken sends a heartbeat about once a second to a socket with subscriptions."""
Handler = Callable[[WsRequest], None]


def trade_entry(pair: PairSpec, trade: PublicTrade) -> dict[str, Any]:
    return {
        "symbol": pair.symbol,
        "side": trade.side,
        "price": trade.price_ticks / 10**pair.pair_decimals,
        "qty": trade.lots / 10**pair.lot_decimals,
        "ord_type": trade.ord_type,
        "trade_id": trade.trade_id,
        "timestamp": iso(trade.time),
    }


def ohlc_entry(pair: PairSpec, bar: Candle, interval: int, now: float) -> dict[str, Any]:
    price_scale, lot_scale = 10**pair.pair_decimals, 10**pair.lot_decimals
    vwap = bar.cost / bar.volume_lots if bar.volume_lots else bar.close
    return {
        "symbol": pair.symbol,
        "open": bar.open / price_scale,
        "high": bar.high / price_scale,
        "low": bar.low / price_scale,
        "close": bar.close / price_scale,
        "trades": bar.count,
        "volume": bar.volume_lots / lot_scale,
        "vwap": round(vwap / price_scale, pair.pair_decimals),
        "interval_begin": iso(bar.begin)[:-1] + "000Z",
        "interval": interval,
        "timestamp": iso(now),
    }


class TapeFeeds:
    """Trade and OHLC subscriptions; hooks itself in front of WsApi's subscribe handlers."""

    def __init__(self, exchange: SimExchange) -> None:
        self.exchange = exchange
        self._trades: dict[str, set[WsSession]] = {}
        self._last_trade: dict[str, int] = {}
        self._ohlc: dict[tuple[str, int], set[WsSession]] = {}
        self._last_bar: dict[tuple[str, int], tuple[int, ...]] = {}
        self._heartbeat_at = 0.0

    def install(self, methods: dict[str, Handler]) -> None:
        """Route trade/ohlc (un)subscriptions here, everything else to the existing handlers."""
        for name in ("subscribe", "unsubscribe"):
            fallback = methods[name]
            methods[name] = self._router(fallback, subscribe=name == "subscribe")

    def _router(self, fallback: Handler, subscribe: bool) -> Handler:
        def route(request: WsRequest) -> None:
            if request.params.get("channel") not in TAPE_CHANNELS:
                fallback(request)
            elif subscribe:
                self._subscribe(request)
            else:
                self._unsubscribe(request)

        return route

    def _pairs(self, request: WsRequest) -> list[PairSpec]:
        return requested_pairs(request, self.exchange.instruments) or []

    def _subscribers(self, request: WsRequest, pair: PairSpec) -> set[WsSession] | None:
        if request.params.get("channel") == "trade":
            return self._trades.setdefault(pair.pair_id, set())
        interval = request.params.get("interval", 1)
        if interval not in INTERVALS_MIN:
            return None
        return self._ohlc.setdefault((pair.pair_id, int(interval)), set())

    def _subscribe(self, request: WsRequest) -> None:
        channel = request.params["channel"]
        snapshot = request.params.get("snapshot", True) is not False
        for pair in self._pairs(request):
            subscribers = self._subscribers(request, pair)
            if subscribers is None:
                request.fail("Subscription interval not supported", symbol=pair.symbol)
                continue
            if request.session in subscribers:
                request.fail("Already subscribed", symbol=pair.symbol)
                continue
            result: dict[str, Any] = {"channel": channel, "symbol": pair.symbol}
            if channel == "ohlc":
                result["interval"] = request.params.get("interval", 1)
            request.ok({**result, "snapshot": snapshot})
            subscribers.add(request.session)
            if snapshot:
                self._snapshot(request.session, channel, pair, int(result.get("interval", 1)))

    def _snapshot(self, session: WsSession, channel: str, pair: PairSpec, interval: int) -> None:
        pm = self.exchange.market.pairs[pair.pair_id]
        if channel == "trade":
            recent = list(pm.tape.trades)[-SNAPSHOT_TRADES:]
            self._last_trade.setdefault(pair.pair_id, pm.tape.last_id)
            data = [trade_entry(pair, trade) for trade in recent]
        else:
            now = self.exchange.clock()
            bars = pm.tape.bars(interval)[-SNAPSHOT_BARS:]
            data = [ohlc_entry(pair, bar, interval, now) for bar in bars]
        if data:
            session.send({"channel": channel, "type": "snapshot", "data": data})

    def _unsubscribe(self, request: WsRequest) -> None:
        for pair in self._pairs(request):
            subscribers = self._subscribers(request, pair)
            if subscribers is not None and request.session in subscribers:
                subscribers.discard(request.session)
                request.ok({"channel": request.params["channel"], "symbol": pair.symbol})
            else:
                request.fail("Subscription Not Found", symbol=pair.symbol)

    def drop(self, session: WsSession) -> None:
        for trade_subscribers in self._trades.values():
            trade_subscribers.discard(session)
        for ohlc_subscribers in self._ohlc.values():
            ohlc_subscribers.discard(session)

    def sessions(self) -> set[WsSession]:
        every: set[WsSession] = set()
        for trade_subscribers in self._trades.values():
            every |= trade_subscribers
        for ohlc_subscribers in self._ohlc.values():
            every |= ohlc_subscribers
        return every

    def publish(self, now: float) -> None:
        """Send the trades printed since the last tick (one message per pair) and moved bars."""
        pairs = self.exchange.market.pairs
        for pair_id, subscribers in list(self._trades.items()):
            pm = pairs.get(pair_id)
            if pm is None:
                del self._trades[pair_id]
                continue
            fresh = pm.tape.since(self._last_trade.get(pair_id, pm.tape.last_id))
            self._last_trade[pair_id] = pm.tape.last_id
            if fresh and subscribers:
                data = [trade_entry(pm.spec, trade) for trade in fresh]
                fan_out(
                    subscribers, json.dumps({"channel": "trade", "type": "update", "data": data})
                )
        for key, subscribers in list(self._ohlc.items()):
            pm = pairs.get(key[0])
            if pm is None:
                del self._ohlc[key]
                continue
            bar = pm.tape.current_bar(key[1])
            if bar is None or not subscribers:
                continue
            state = (bar.begin, bar.close, bar.count, bar.high, bar.low)
            if self._last_bar.get(key) == state:
                continue
            self._last_bar[key] = state
            entry = ohlc_entry(pm.spec, bar, key[1], now)
            fan_out(subscribers, json.dumps({"channel": "ohlc", "type": "update", "data": [entry]}))

    def heartbeat_due(self, now: float) -> bool:
        if now - self._heartbeat_at < HEARTBEAT_S:
            return False
        self._heartbeat_at = now
        return True
