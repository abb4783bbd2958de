"""Publishes the public WS v2 channels once per tick: `ticker` and `book` here, the rest via TapeFeeds."""

from __future__ import annotations

import json
from typing import Any

from tradetui.sim.fmt import iso
from tradetui.sim.instruments import PairSpec
from tradetui.sim.market import Level, PairMarket
from tradetui.sim.venue.exchange import SimExchange
from tradetui.sim.ws.render import (
    CHECKSUM_LEVELS,
    book_checksum,
    levels,
    levels_json,
    ticker_entry,
)
from tradetui.sim.ws.session import WsSession, fan_out
from tradetui.sim.ws.tape import TapeFeeds


def _diff(old: list[Level], new: list[Level]) -> list[Level]:
    """Changed levels, deletions (qty 0) first, so a client's depth cap never drops a new level.

    Set operations on the (price, lots) pairs keep this in C; it runs per feed per tick.
    """
    old_set, new_set = set(old), set(new)
    added = new_set - old_set
    if not added and len(old_set) == len(new_set):
        return []
    kept_prices = {price for price, _ in new_set}
    changes = [(price, 0) for price, _ in old_set - new_set if price not in kept_prices]
    changes.extend(added)
    return changes


HEARTBEAT = json.dumps({"channel": "heartbeat"})


class BookFeed:
    """The book of one pair at one depth, as last published to its subscribers."""

    def __init__(self, pm: PairMarket, depth: int) -> None:
        self.pm = pm
        self.depth = depth
        self.bids = pm.top(True, depth)
        self.asks = pm.top(False, depth)
        self.subscribers: set[WsSession] = set()

    def snapshot(self) -> dict[str, Any]:
        pair = self.pm.spec
        entry = {
            "symbol": pair.symbol,
            "bids": levels(pair, self.bids),
            "asks": levels(pair, self.asks),
            "checksum": book_checksum(self.asks, self.bids),
        }
        return {"channel": "book", "type": "snapshot", "data": [entry]}

    def advance(self, now: float) -> list[str]:
        """Move to the live book; return its update messages, one per changed level.

        Kraken streams book changes as they happen, so a tick's changes go out one level
        at a time (deletions first), each with the checksum of the book after it; the
        last one leaves the client at exactly the live book.
        """
        bids, asks = self.pm.top(True, self.depth), self.pm.top(False, self.depth)
        bid_changes, ask_changes = _diff(self.bids, bids), _diff(self.asks, asks)
        if not bid_changes and not ask_changes:
            return []
        changes: list[tuple[bool, int, int]] = [
            (True, price, lots) for price, lots in bid_changes if not lots
        ]
        changes += [(False, price, lots) for price, lots in ask_changes if not lots]
        changes += [(True, price, lots) for price, lots in bid_changes if lots]
        changes += [(False, price, lots) for price, lots in ask_changes if lots]
        work_bids, work_asks = dict(self.bids), dict(self.asks)
        self.bids, self.asks = bids, asks
        pair, depth, stamp = self.pm.spec, self.depth, iso(now)
        head = f'{{"channel": "book", "type": "update", "data": [{{"symbol": "{pair.symbol}", '
        messages = []
        for is_bid, price, lots in changes:
            work = work_bids if is_bid else work_asks
            if lots:
                work[price] = lots
            else:
                work.pop(price, None)
            if len(work) > depth:  # the client caps its book at the depth too
                del work[min(work) if is_bid else max(work)]
            level = levels_json(pair, [(price, lots)])
            checksum = book_checksum(
                sorted(work_asks.items())[:CHECKSUM_LEVELS],
                sorted(work_bids.items(), reverse=True)[:CHECKSUM_LEVELS],
            )
            # Built by hand: this is the hottest message; floats render as json.dumps would.
            messages.append(
                f'{head}"bids": [{level if is_bid else ""}], "asks": [{"" if is_bid else level}], '
                f'"checksum": {checksum}, "timestamp": "{stamp}"}}]}}'
            )
        return messages


class PublicFeeds:
    """Who is subscribed to what, and the once-per-tick fan-out."""

    def __init__(self, exchange: SimExchange) -> None:
        self.exchange = exchange
        self._tickers: dict[str, set[WsSession]] = {}
        self._last_ticker: dict[str, dict[str, Any]] = {}
        self._books: dict[tuple[str, int], BookFeed] = {}
        self.tape = TapeFeeds(exchange)
        """The `trade` and `ohlc` channels (and heartbeats)."""

    def _ticker_message(self, pair: PairSpec, kind: str) -> dict[str, Any]:
        entry = ticker_entry(pair, self.exchange.market.pairs[pair.pair_id])
        return {"channel": "ticker", "type": kind, "data": [entry]}

    def is_subscribed(self, session: WsSession, channel: str, pair: PairSpec) -> bool:
        if channel == "ticker":
            return session in self._tickers.get(pair.pair_id, ())
        return any(
            session in feed.subscribers
            for (pair_id, _), feed in self._books.items()
            if pair_id == pair.pair_id
        )

    def subscribe_ticker(self, session: WsSession, pair: PairSpec, snapshot: bool) -> None:
        self._tickers.setdefault(pair.pair_id, set()).add(session)
        if snapshot:
            session.send(self._ticker_message(pair, "snapshot"))

    def subscribe_book(
        self, session: WsSession, pair: PairSpec, depth: int, snapshot: bool
    ) -> None:
        key = (pair.pair_id, depth)
        feed = self._books.get(key)
        if feed is None:
            feed = self._books[key] = BookFeed(self.exchange.market.pairs[pair.pair_id], depth)
        feed.subscribers.add(session)
        if snapshot:
            session.send(feed.snapshot())

    def unsubscribe(self, session: WsSession, channel: str, pair: PairSpec) -> bool:
        if channel == "ticker":
            subscribers = self._tickers.get(pair.pair_id, set())
            found = session in subscribers
            subscribers.discard(session)
            return found
        found = False
        for key, feed in list(self._books.items()):
            if key[0] == pair.pair_id and session in feed.subscribers:
                feed.subscribers.discard(session)
                found = True
                if not feed.subscribers:
                    del self._books[key]
        return found

    def drop(self, session: WsSession) -> None:
        self.tape.drop(session)
        for subscribers in self._tickers.values():
            subscribers.discard(session)
        for key, feed in list(self._books.items()):
            feed.subscribers.discard(session)
            if not feed.subscribers:
                del self._books[key]

    def publish(self) -> None:
        """Send this tick's ticker and book changes; each message is serialised once."""
        now = self.exchange.clock()
        instruments = self.exchange.instruments
        for pair_id, subscribers in list(self._tickers.items()):
            if pair_id not in instruments.pairs:  # delisted: its feeds end
                del self._tickers[pair_id]
                continue
            if not subscribers:
                continue
            message = self._ticker_message(instruments.pairs[pair_id], "update")
            if message["data"] == self._last_ticker.get(pair_id):
                continue
            self._last_ticker[pair_id] = message["data"]
            fan_out(subscribers, json.dumps(message))
        for key, feed in list(self._books.items()):
            if key[0] not in instruments.pairs:
                del self._books[key]
                continue
            for book_text in feed.advance(now):
                fan_out(feed.subscribers, book_text)
        self.tape.publish(now)
        if self.tape.heartbeat_due(now):
            fan_out(self._sessions(), HEARTBEAT)

    def _sessions(self) -> set[WsSession]:
        """Every socket with at least one public subscription."""
        every = self.tape.sessions()
        for subscribers in self._tickers.values():
            every |= subscribers
        for feed in self._books.values():
            every |= feed.subscribers
        return every
