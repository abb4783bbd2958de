"""Provides the paper broker: fills against the live book, with fees, holds and resting limits."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from decimal import Decimal

from tradetui.config import PaperSettings
from tradetui.core.model import (
    Balance,
    Fill,
    MarketInfo,
    Mode,
    Order,
    OrderBook,
    OrderStatus,
    OrderType,
    PublicTrade,
    Side,
)

ZERO = Decimal(0)


class PaperBroker:
    """A simulated account: a ledger of totals, holds for resting orders, fills from the book."""

    def __init__(self, settings: PaperSettings, clock: Callable[[], float]) -> None:
        self._settings = settings
        self._clock = clock
        self._totals: dict[str, Decimal] = dict(settings.starting_balances)
        self._resting: dict[str, tuple[Order, MarketInfo]] = {}
        self._fill_seq = itertools.count(1)

    def balances(self) -> dict[str, Balance]:
        """Free, used (held by resting orders) and total per currency."""
        held: dict[str, Decimal] = {}
        for order, market in self._resting.values():
            currency, amount = _hold(order, market)
            held[currency] = held.get(currency, ZERO) + amount
        return {
            currency: Balance(
                currency, total - held.get(currency, ZERO), held.get(currency, ZERO), total
            )
            for currency, total in self._totals.items()
        }

    def apply_fill(self, fill: Fill, market: MarketInfo) -> None:
        """Move the ledger for one fill (used for new fills and when replaying stored ones)."""
        cost = fill.amount * fill.price
        sign = 1 if fill.side is Side.BUY else -1
        self._add(market.base, sign * fill.amount)
        self._add(market.quote, -sign * cost - fill.fee)

    def execute(self, order: Order, book: OrderBook | None, market: MarketInfo) -> list[Fill]:
        """Fill what the book allows now; a limit remainder rests, a market remainder is canceled."""
        levels = (book.asks if order.side is Side.BUY else book.bids) if book is not None else ()
        bound = (
            order.price
            if order.order_type is OrderType.LIMIT
            else self._slippage_bound(order, levels)
        )
        fills: list[Fill] = []
        for price_f, size_f in levels:
            if order.remaining <= 0:
                break
            price = Decimal(str(price_f))
            if bound is not None and (price > bound if order.side is Side.BUY else price < bound):
                break
            take = min(order.remaining, Decimal(str(size_f)))
            fills.append(self._fill(order, market, take, price, self._settings.taker_fee))
        if order.remaining > 0:
            if order.order_type is OrderType.LIMIT:
                self._resting[order.client_id] = (order, market)
                order.status = OrderStatus.PARTIALLY_FILLED if fills else OrderStatus.OPEN
            else:
                order.status = OrderStatus.CANCELED if fills else OrderStatus.REJECTED
                order.error = "" if fills else "no liquidity in the paper book"
        return fills

    def _slippage_bound(
        self, order: Order, levels: tuple[tuple[float, float], ...]
    ) -> Decimal | None:
        if not levels:
            return None
        touch = Decimal(str(levels[0][0]))
        cap = self._settings.max_slippage_bps / 10_000
        return touch * (1 + cap) if order.side is Side.BUY else touch * (1 - cap)

    def rest(self, order: Order, market: MarketInfo) -> None:
        """Put a stored open order back on the paper book (after a restart)."""
        self._resting[order.client_id] = (order, market)

    def on_trades(self, trades: list[PublicTrade]) -> list[tuple[Order, Fill]]:
        """Fill resting limits the market traded through, by the volume it traded.

        A trade strictly beyond a limit (below a bid, above an offer) would have reached it;
        a trade at the limit might not have (queue position), so it fills nothing. Each
        trade's volume goes to the oldest resting orders first, at their limit, maker fee.
        """
        filled: list[tuple[Order, Fill]] = []
        for trade in trades:
            volume = Decimal(str(trade.amount))
            price = Decimal(str(trade.price))
            for order, market in list(self._resting.values()):
                if volume <= 0:
                    break
                if order.symbol != trade.symbol or order.price is None:
                    continue
                through = price < order.price if order.side is Side.BUY else price > order.price
                if through:
                    take = min(order.remaining, volume)
                    volume -= take
                    fill = self._fill(order, market, take, order.price, self._settings.maker_fee)
                    filled.append((order, fill))
        return filled

    def cancel(self, client_id: str) -> Order | None:
        """Take a resting order off the book; None if it is not resting."""
        entry = self._resting.pop(client_id, None)
        if entry is None:
            return None
        order = entry[0]
        order.status = OrderStatus.CANCELED
        return order

    def _fill(
        self, order: Order, market: MarketInfo, amount: Decimal, price: Decimal, fee_rate: Decimal
    ) -> Fill:
        fee = (amount * price * fee_rate).quantize(Decimal("0.00000001"))
        fill = Fill(
            fill_id=f"P-{order.client_id}-{next(self._fill_seq)}",
            client_id=order.client_id,
            symbol=order.symbol,
            side=order.side,
            amount=amount,
            price=price,
            fee=fee,
            fee_currency=market.quote,
            mode=Mode.PAPER,
            timestamp=self._clock(),
        )
        previous_cost = (order.average_price or ZERO) * order.filled
        order.filled += amount
        order.average_price = (previous_cost + amount * price) / order.filled
        order.status = OrderStatus.FILLED if order.remaining <= 0 else OrderStatus.PARTIALLY_FILLED
        order.updated_at = fill.timestamp
        if order.status is OrderStatus.FILLED:
            self._resting.pop(order.client_id, None)
        self.apply_fill(fill, market)
        return fill

    def _add(self, currency: str, delta: Decimal) -> None:
        self._totals[currency] = self._totals.get(currency, ZERO) + delta


def _hold(order: Order, market: MarketInfo) -> tuple[str, Decimal]:
    if order.side is Side.BUY:
        # Type narrowing for mypy; the value is set on this path.
        assert order.price is not None  # nosec B101
        return market.quote, order.remaining * order.price
    return market.base, order.remaining
