"""Keeps each pair's public trade tape and its OHLC candles, as Trades/OHLC and WS v2 serve them."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

TAPE_LENGTH = 1000
"""Public trades kept per pair (Kraken's Trades endpoint returns up to 1000)."""
CANDLES_KEPT = 720
"""One-minute candles kept per pair (Kraken's OHLC endpoint returns up to 720)."""
INTERVALS_MIN = (1, 5, 15, 30, 60, 240, 1440, 10080, 21600)
"""The candle intervals, in minutes, that Kraken accepts."""


@dataclass(frozen=True, slots=True)
class PublicTrade:
    """One print on the public tape; prices in ticks and sizes in lots of the pair."""

    trade_id: int
    price_ticks: int
    lots: int
    side: str
    """The taker's side, `buy` or `sell`."""
    ord_type: str
    """The taker's order type, `market` or `limit`."""
    time: float


@dataclass(slots=True)
class Candle:
    """One OHLC bar; `volume_lots` and `cost` (ticks x lots) make the VWAP exact."""

    begin: int
    """Interval start, Unix seconds."""
    open: int
    high: int
    low: int
    close: int
    volume_lots: int = 0
    cost: int = 0
    count: int = 0

    def merge(self, other: Candle) -> None:
        self.high = max(self.high, other.high)
        self.low = min(self.low, other.low)
        self.close = other.close
        self.volume_lots += other.volume_lots
        self.cost += other.cost
        self.count += other.count


class Tape:
    """The trades and one-minute candles of one pair; longer intervals are folded on demand."""

    def __init__(self, first_trade_id: int) -> None:
        self.trades: deque[PublicTrade] = deque(maxlen=TAPE_LENGTH)
        self.candles: deque[Candle] = deque(maxlen=CANDLES_KEPT)
        self._next_id = first_trade_id

    @property
    def last_id(self) -> int:
        return self._next_id - 1

    def record(self, price_ticks: int, lots: int, side: str, ord_type: str, now: float) -> None:
        trade = PublicTrade(self._next_id, price_ticks, lots, side, ord_type, now)
        self._next_id += 1
        self.trades.append(trade)
        self._candle_at(now, price_ticks).merge(
            Candle(0, price_ticks, price_ticks, price_ticks, price_ticks, lots,
                   price_ticks * lots, 1)
        )  # fmt: skip

    def _candle_at(self, now: float, price_ticks: int) -> Candle:
        """The one-minute candle for `now`, opening flat ones for the minutes nobody traded."""
        begin = int(now) // 60 * 60
        if self.candles and self.candles[-1].begin >= begin:
            return self.candles[-1]
        if self.candles:
            last = self.candles[-1]
            gap_start = max(last.begin + 60, begin - 60 * (CANDLES_KEPT - 1))
            for minute in range(gap_start, begin, 60):
                self.candles.append(Candle(minute, last.close, last.close, last.close, last.close))
            price_ticks = last.close
        candle = Candle(begin, price_ticks, price_ticks, price_ticks, price_ticks)
        self.candles.append(candle)
        return candle

    def since(self, after_id: int) -> list[PublicTrade]:
        """Trades with an id above `after_id`, oldest first."""
        fresh: list[PublicTrade] = []
        for trade in reversed(self.trades):
            if trade.trade_id <= after_id:
                break
            fresh.append(trade)
        fresh.reverse()
        return fresh

    def bars(self, interval_min: int) -> list[Candle]:
        """Candles of `interval_min` minutes, oldest first, folded from the one-minute bars."""
        span = interval_min * 60
        folded: list[Candle] = []
        for bar in self.candles:
            begin = bar.begin // span * span
            if folded and folded[-1].begin == begin:
                folded[-1].merge(bar)
            else:
                folded.append(Candle(begin, bar.open, bar.high, bar.low, bar.close,
                                     bar.volume_lots, bar.cost, bar.count))  # fmt: skip
        return folded

    def current_bar(self, interval_min: int) -> Candle | None:
        """The latest candle of `interval_min` minutes, without folding the whole history."""
        if not self.candles:
            return None
        span = interval_min * 60
        begin = self.candles[-1].begin // span * span
        bar: Candle | None = None
        for one in reversed(self.candles):
            if one.begin < begin:
                break
            if bar is None:
                bar = Candle(begin, one.open, one.high, one.low, one.close,
                             one.volume_lots, one.cost, one.count)  # fmt: skip
            else:
                bar.open = one.open
                bar.high, bar.low = max(bar.high, one.high), min(bar.low, one.low)
                bar.volume_lots += one.volume_lots
                bar.cost += one.cost
                bar.count += one.count
        return bar
