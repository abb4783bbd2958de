"""Provides market intelligence: volume, spread, book imbalance, liquidity and listing signals."""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from tradetui.core.model import (
    OrderBook,
    PublicTrade,
    Quote,
    Signal,
    SignalKind,
    SpreadClass,
    VolumeClass,
)


@dataclass(frozen=True, slots=True)
class SignalParams:
    """Thresholds and weights of the signal components (defaults suit the simulator's markets)."""

    tight_spread_bps: float = 5.0
    """A spread at or below this is tight."""
    wide_spread_bps: float = 20.0
    """A spread above this is wide."""
    imbalance_levels: int = 5
    """Book levels per side the imbalance is measured over."""
    liquidity_band_bps: float = 25.0
    """Depth counts towards liquidity when it rests within this distance of the mid."""
    liquidity_target: float = 250_000.0
    """Quote-currency depth on the thinner side (within the band) that earns a full depth score."""
    volume_window: int = 10
    """Updates making up the current volume window."""
    volume_history: int = 300
    """Updates of volume history the window is compared against."""
    volume_min_history: int = 30
    """Until this many updates are seen, volume counts as moderate."""
    high_volume_ratio: float = 1.5
    """Window volume at least this multiple of the historical mean is high."""
    low_volume_ratio: float = 0.5
    """Window volume at most this multiple of the historical mean is low."""
    listing_bonus: float = 0.2
    """Added to the score of a newly listed symbol."""
    buy_threshold: float = 0.2
    """A score at least this far from zero is a buy or a sell."""
    strong_threshold: float = 0.5
    """A score at least this far from zero is a strong buy or a strong sell."""
    tape_length: int = 200
    """Recent public trades kept per symbol."""


DEFAULT_PARAMS = SignalParams()
SIGNAL_INTERVAL_S = 1.0
"""How often every symbol's signal is recomputed (the volume history's time step)."""

_HIGH_FACTOR, _LOW_FACTOR = 1.3, 0.6
"""How high and low volume scale the direction (moderate: 1)."""
_OK_FACTOR, _WIDE_FACTOR = 0.8, 0.3
"""How an acceptable and a wide spread scale the direction (tight: 1)."""
_IMBALANCE_WEIGHT = 0.6
"""Share of the direction taken from the book; the rest comes from the trade flow."""
_FLOW_WEIGHT = 1 - _IMBALANCE_WEIGHT
# Enum member lookups cost ~0.1 us each on Python 3.11; combine runs for every symbol.
_STRONG_BUY, _BUY, _NEUTRAL = SignalKind.STRONG_BUY, SignalKind.BUY, SignalKind.NEUTRAL
_SELL, _STRONG_SELL = SignalKind.SELL, SignalKind.STRONG_SELL
_HIGH, _MODERATE, _LOW = VolumeClass.HIGH, VolumeClass.MODERATE, VolumeClass.LOW
_TIGHT, _ACCEPTABLE, _WIDE = SpreadClass.TIGHT, SpreadClass.ACCEPTABLE, SpreadClass.WIDE


@dataclass(frozen=True, slots=True)
class TapeTrade:
    """One public trade as the tape keeps it: stamped on arrival, with the aggressor inferred."""

    price: float
    amount: float
    side: int
    """+1 for a trade at or above the mid when it arrived (a buyer took), -1 below."""
    received_at: float


@dataclass(slots=True)
class _SymbolTape:
    trades: deque[TapeTrade]
    volume: float = 0.0
    """Quote-currency notional traded since the tape started."""
    signed_volume: float = 0.0
    """Buy notional minus sell notional since the tape started."""


class TradeTape:
    """Recent public trades per symbol, and running volume totals the signal state reads."""

    def __init__(self, length: int = DEFAULT_PARAMS.tape_length) -> None:
        self._length = length
        self._tapes: dict[str, _SymbolTape] = {}

    def record(
        self, trades: Iterable[PublicTrade], quotes: Mapping[str, Quote], now: float
    ) -> None:
        """Add trades; their side is inferred against the symbol's current mid."""
        for trade in trades:
            price, amount = trade.price, trade.amount
            if not (math.isfinite(price) and math.isfinite(amount) and price > 0 and amount > 0):
                continue
            tape = self._tapes.get(trade.symbol)
            if tape is None:
                tape = self._tapes[trade.symbol] = _SymbolTape(deque(maxlen=self._length))
            quote = quotes.get(trade.symbol)
            side = -1 if quote is not None and price < quote.mid else 1
            tape.trades.append(TapeTrade(price, amount, side, now))
            notional = price * amount
            tape.volume += notional
            tape.signed_volume += side * notional

    def totals(self, symbol: str) -> tuple[float, float]:
        """Running (volume, signed volume) of ``symbol`` in quote currency."""
        tape = self._tapes.get(symbol)
        return (0.0, 0.0) if tape is None else (tape.volume, tape.signed_volume)

    def recent(self, symbol: str) -> tuple[TapeTrade, ...]:
        """The trades kept for ``symbol``, oldest first."""
        tape = self._tapes.get(symbol)
        return () if tape is None else tuple(tape.trades)


@dataclass(slots=True)
class _VolumeHistory:
    window: deque[tuple[float, float]]
    history: deque[float]
    window_volume: float = 0.0
    window_signed: float = 0.0
    history_volume: float = 0.0
    last_total: float = 0.0
    last_signed: float = 0.0
    updates: int = 0


@dataclass(slots=True)
class SignalState:
    """Rolling per-symbol volume history; one ``update`` per signal tick."""

    params: SignalParams = DEFAULT_PARAMS
    _symbols: dict[str, _VolumeHistory] = field(default_factory=dict)

    def update(self, symbol: str, total: float, signed: float) -> tuple[float, float]:
        """Take the tape's running totals; return (volume ratio, flow) for the window."""
        p = self.params
        h = self._symbols.get(symbol)
        if h is None:
            h = self._symbols[symbol] = _VolumeHistory(
                deque(maxlen=p.volume_window), deque(maxlen=p.volume_history)
            )
            h.last_total, h.last_signed = total, signed
            return 1.0, 0.0  # the first sighting only sets the baseline: no interval yet
        volume = total - h.last_total if total > h.last_total else 0.0
        signed_delta = signed - h.last_signed
        h.last_total, h.last_signed = total, signed
        if len(h.window) == h.window.maxlen:
            old_volume, old_signed = h.window[0]
            h.window_volume -= old_volume
            h.window_signed -= old_signed
        h.window.append((volume, signed_delta))
        h.window_volume += volume
        h.window_signed += signed_delta
        if len(h.history) == h.history.maxlen:
            h.history_volume -= h.history[0]
        h.history.append(volume)
        h.history_volume += volume
        h.updates += 1
        if h.updates % p.volume_history == 0:
            # Running float sums drift; recount them exactly once per history length.
            h.window_volume = sum(v for v, _ in h.window)
            h.window_signed = sum(s for _, s in h.window)
            h.history_volume = sum(h.history)
        flow = _clamp(h.window_signed / h.window_volume) if h.window_volume > 0 else 0.0
        if len(h.history) < p.volume_min_history or h.history_volume <= 0:
            return 1.0, flow
        ratio = (h.window_volume / len(h.window)) / (h.history_volume / len(h.history))
        return ratio, flow


def classify_volume(ratio: float, params: SignalParams = DEFAULT_PARAMS) -> VolumeClass:
    """HIGH, MODERATE or LOW from the window-to-history volume ratio."""
    if ratio >= params.high_volume_ratio:
        return _HIGH
    if ratio <= params.low_volume_ratio:
        return _LOW
    return _MODERATE


def classify_spread(spread_bps: float, params: SignalParams = DEFAULT_PARAMS) -> SpreadClass:
    """TIGHT, ACCEPTABLE or WIDE; a spread that is not a number is wide."""
    if not spread_bps <= params.wide_spread_bps:  # also catches NaN
        return _WIDE
    return _TIGHT if spread_bps <= params.tight_spread_bps else _ACCEPTABLE


def book_imbalance(book: OrderBook, levels: int = DEFAULT_PARAMS.imbalance_levels) -> float:
    """(bid depth - ask depth) / (bid depth + ask depth) over the top ``levels``; 0 when empty."""
    bid_depth = _depth(book.bids, levels)
    ask_depth = _depth(book.asks, levels)
    total = bid_depth + ask_depth
    return (bid_depth - ask_depth) / total if 0 < total < math.inf else 0.0


def liquidity_score(
    book: OrderBook, spread_bps: float, params: SignalParams = DEFAULT_PARAMS
) -> float:
    """0..1: quote depth within the band around the mid (thinner side) and the spread."""
    bids, asks = book.bids, book.asks
    if not (bids and asks):
        return 0.0
    best_bid, best_ask = bids[0][0], asks[0][0]
    mid = (best_bid + best_ask) / 2
    if not (0 < mid < math.inf and best_bid < best_ask):
        return 0.0
    band = mid * params.liquidity_band_bps / 10_000
    floor, ceiling = mid - band, mid + band
    bid_notional = ask_notional = 0.0
    for price, amount in bids:  # best first: stop at the first level outside the band
        if price < floor:
            break
        if amount > 0:
            bid_notional += price * amount
    for price, amount in asks:
        if price > ceiling:
            break
        if amount > 0:
            ask_notional += price * amount
    thinner = bid_notional if bid_notional < ask_notional else ask_notional
    depth_score = _unit(thinner / params.liquidity_target) if thinner < math.inf else 0.0
    spread_score = _unit(1 - spread_bps / (2 * params.wide_spread_bps)) if spread_bps >= 0 else 0.0
    return _unit(0.7 * depth_score + 0.3 * spread_score)


def combine(
    imbalance: float,
    flow: float,
    volume: VolumeClass,
    spread: SpreadClass,
    liquidity: float,
    new_listing: bool,
    params: SignalParams = DEFAULT_PARAMS,
) -> tuple[SignalKind, float, float]:
    """(kind, confidence, score) from the components.

    Book imbalance and trade flow give the direction; high volume strengthens it, a wide spread
    weakens it, a new listing leans it towards buying, and thin liquidity lowers the confidence.
    """
    direction = _IMBALANCE_WEIGHT * _clamp(imbalance) + _FLOW_WEIGHT * _clamp(flow)
    # Identity tests, not dict lookups: hashing an enum member runs Python code.
    volume_factor = _HIGH_FACTOR if volume is _HIGH else _LOW_FACTOR if volume is _LOW else 1.0
    spread_factor = 1.0 if spread is _TIGHT else _WIDE_FACTOR if spread is _WIDE else _OK_FACTOR
    score = direction * volume_factor * spread_factor
    if new_listing:
        score += params.listing_bonus
    score = _clamp(score)
    liquidity_factor = 0.6 + 0.4 * _unit(liquidity)
    strength = score if score >= 0 else -score
    if strength >= params.buy_threshold:
        strong = strength >= params.strong_threshold
        if score > 0:
            kind = _STRONG_BUY if strong else _BUY
        else:
            kind = _STRONG_SELL if strong else _SELL
        confidence = 0.5 + 0.5 * (1.0 if strong else strength / params.strong_threshold)
    else:
        kind = _NEUTRAL
        confidence = 1 - 0.5 * strength / params.buy_threshold
    return kind, confidence * liquidity_factor, score


def compute_signals(
    quotes: Mapping[str, Quote],
    books: Mapping[str, OrderBook],
    tape: TradeTape,
    state: SignalState,
    new_listings: frozenset[str] = frozenset(),
) -> dict[str, Signal]:
    """One signal per symbol that has both a quote and a book; advances the volume history."""
    params = state.params
    signals: dict[str, Signal] = {}
    for symbol, quote in quotes.items():
        book = books.get(symbol)
        if book is None:
            continue
        ratio, flow = state.update(symbol, *tape.totals(symbol))
        spread_bps = quote.spread_bps
        volume = classify_volume(ratio, params)
        spread = classify_spread(spread_bps, params)
        imbalance = book_imbalance(book, params.imbalance_levels)
        liquidity = liquidity_score(book, spread_bps, params)
        listed = symbol in new_listings
        kind, confidence, score = combine(
            imbalance, flow, volume, spread, liquidity, listed, params
        )
        signals[symbol] = Signal(
            symbol,
            kind,
            confidence,
            score,
            volume,
            ratio,
            spread,
            spread_bps,
            imbalance,
            flow,
            liquidity,
            listed,
        )
    return signals


def _depth(levels: tuple[tuple[float, float], ...], count: int) -> float:
    total = 0.0
    for _, amount in levels[:count]:
        if amount > 0:
            total += amount
    return total


def _clamp(value: float) -> float:
    """Into [-1, 1]; NaN becomes 0 (comparisons, not min/max: this runs per symbol per second)."""
    if value > 1.0:
        return 1.0
    if value < -1.0:
        return -1.0
    return value if value == value else 0.0


def _unit(value: float) -> float:
    """Into [0, 1]; NaN becomes 0."""
    if value > 1.0:
        return 1.0
    return value if value > 0.0 else 0.0


class MarketSignals:
    """The engine's market intelligence: the public trade tape, and every symbol's signal
    recomputed once a second from the quotes and books."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.tape = TradeTape()
        """Recent public trades per symbol (strategies read it too)."""
        self._state = SignalState()
        self.latest: dict[str, Signal] = {}
        """The latest call per symbol."""
        self.new_listings: set[str] = set()
        """Recently listed symbols: their signals get the new-listing bonus."""

    def record(self, trades: list[PublicTrade], quotes: Mapping[str, Quote]) -> None:
        """Put public trades on the tape (their side inferred against the current mid)."""
        self.tape.record(trades, quotes, self._clock())

    async def run(
        self, market: Callable[[], tuple[Mapping[str, Quote], Mapping[str, OrderBook]]]
    ) -> None:
        """Recompute every symbol's signal once a second (the volume history's time step)."""
        while True:
            await asyncio.sleep(SIGNAL_INTERVAL_S)
            quotes, books = market()
            self.latest = compute_signals(
                quotes, books, self.tape, self._state, frozenset(self.new_listings)
            )
