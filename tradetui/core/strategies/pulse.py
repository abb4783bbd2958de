"""Provides the built-in pulse strategy: a simple, steady round-trip trader for the simulator."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from tradetui.config import StrategySettings
from tradetui.core.model import (
    EngineSnapshot,
    MarketInfo,
    OrderIntent,
    OrderType,
    Side,
)


class PulseStrategy:
    """Visits one symbol per tick: buys when flat, sells when holding, and keeps one resting bid.

    It is a demonstration of the order path, not a way to make money.
    """

    name = "pulse"

    def __init__(self, settings: StrategySettings, markets: dict[str, MarketInfo]) -> None:
        self._settings = settings
        self._markets = markets
        self._turn = 0

    def on_snapshot(self, snapshot: EngineSnapshot) -> list[OrderIntent]:
        """Return the intents for the symbol whose turn it is."""
        if not snapshot.symbols:
            return []
        symbol = snapshot.symbols[self._turn % len(snapshot.symbols)]
        self._turn += 1
        quote, market = snapshot.quotes.get(symbol), self._markets.get(symbol)
        if quote is None or market is None or quote.ask <= 0:
            return []
        intents: list[OrderIntent] = []
        position = snapshot.positions.get(symbol)
        held = position.amount if position is not None else Decimal(0)
        notional = Decimal(str(self._settings.order_notional))
        if held >= market.min_amount and held > 0:
            intents.append(
                OrderIntent(
                    symbol, Side.SELL, held, strategy=self.name, confidence=0.9, reduce_only=True
                )
            )
        else:
            amount = _to_step(notional / Decimal(str(quote.ask)), market.amount_step)
            intents.append(
                OrderIntent(symbol, Side.BUY, amount, strategy=self.name, confidence=0.9)
            )
        if not any(
            o.symbol == symbol and o.order_type is OrderType.LIMIT for o in snapshot.open_orders
        ):
            offset = Decimal(str(1 - self._settings.rest_offset_bps / 10_000))
            price = _to_step(Decimal(str(quote.bid)) * offset, market.price_step)
            intents.append(
                OrderIntent(
                    symbol,
                    Side.BUY,
                    _to_step(notional / price, market.amount_step),
                    OrderType.LIMIT,
                    price,
                    strategy=self.name,
                    confidence=0.9,
                )
            )
        return intents


def _to_step(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(rounding=ROUND_DOWN) * step
