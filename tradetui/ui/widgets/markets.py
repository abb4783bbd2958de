"""Provides the Markets pane: top of book and a short trend per symbol, with stale quotes dimmed."""

from __future__ import annotations

from collections.abc import Mapping

from tradetui.core.model import EngineSnapshot, Signal
from tradetui.ui import format as fmt
from tradetui.ui.palette import Cell
from tradetui.ui.widgets.table_pane import Column, Row, TablePane


class MarketsPane(TablePane):
    """Bid, ask, last, spread, quote age and a sparkline of the mid for every watched symbol."""

    TITLE = "Markets"
    COLUMNS = (
        Column("symbol", "symbol"),
        Column("bid", "bid", "right"),
        Column("ask", "ask", "right"),
        Column("last", "last", "right"),
        Column("spread", "bps", "right"),
        Column("age", "age s", "right"),
        Column("trend", "trend"),
        # Market intelligence: the combined call and its confidence (kept out of 80 columns).
        Column("signal", "signal"),
        Column("liquidity", "liq", "right"),
    )
    EMPTY_TEXT = "no symbols configured"
    NARROW_COLUMNS = ("symbol", "bid", "ask", "spread", "age")

    def __init__(
        self, max_quote_age_s: float, *, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.max_quote_age_s = max_quote_age_s
        """Quotes older than this are shown dimmed: never silently old."""
        self._last_trade_tone: dict[str, str] = {}
        self._last_trade_price: dict[str, float] = {}

    def needs_attention(self, snapshot: EngineSnapshot) -> bool:
        return any(
            (age := snapshot.quote_age_s(symbol)) is None or age > self.max_quote_age_s
            for symbol in snapshot.symbols or tuple(snapshot.quotes)
        )

    def build_rows(self, snapshot: EngineSnapshot) -> Mapping[str, Row]:
        rows: dict[str, Row] = {}
        symbols = snapshot.symbols or tuple(snapshot.quotes)
        for symbol in symbols:
            quote = snapshot.quotes.get(symbol)
            if quote is None:
                rows[symbol] = (
                    (Cell(symbol, "stale"),)
                    + (Cell(fmt.DASH, "stale"),) * 4
                    + (Cell("none", "stale"),)
                    + (Cell(fmt.DASH, "stale"),) * 3
                )
                continue
            age_s = snapshot.quote_age_s(symbol)
            stale = age_s is None or age_s > self.max_quote_age_s
            last_tone = self._trade_tone(symbol, quote.last)
            rows[symbol] = (
                Cell(symbol, "stale" if stale else ""),
                Cell(fmt.price(quote.bid), "stale" if stale else "bid"),
                Cell(fmt.price(quote.ask), "stale" if stale else "ask"),
                Cell(fmt.price(quote.last), "stale" if stale else last_tone),
                Cell(fmt.bps(quote.spread_bps), "stale" if stale else ""),
                Cell(fmt.seconds(age_s), "stale" if stale else ""),
                _trend_cell(snapshot.trends.get(symbol, ()), stale),
                *_signal_cells(snapshot.signals.get(symbol), stale),
            )
        return rows

    def _trade_tone(self, symbol: str, last: float) -> str:
        """Colour the last price by the direction of its latest change."""
        previous = self._last_trade_price.get(symbol)
        if previous is not None and last != previous:
            self._last_trade_tone[symbol] = "price-up" if last > previous else "price-down"
        self._last_trade_price[symbol] = last
        return self._last_trade_tone.get(symbol, "")


def _trend_cell(points: tuple[float, ...], stale: bool) -> Cell:
    """The sparkline, coloured by where the mid went over the window."""
    if stale or len(points) < 2 or points[-1] == points[0]:
        return Cell(fmt.sparkline(points), "stale")
    return Cell(fmt.sparkline(points), "price-up" if points[-1] > points[0] else "price-down")


def _signal_cells(signal: Signal | None, stale: bool) -> tuple[Cell, Cell]:
    """The call with its confidence, and the liquidity score; dimmed when the quote is stale."""
    if signal is None:
        return Cell(fmt.DASH, "stale"), Cell(fmt.DASH, "stale")
    tone = "price-up" if signal.kind.is_buy else "price-down" if signal.kind.is_sell else ""
    call = Cell(f"{signal.kind.value} {signal.confidence:.2f}", "stale" if stale else tone)
    return call, Cell(f"{signal.liquidity:.2f}", "stale" if stale else "")
