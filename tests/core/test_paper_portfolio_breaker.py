"""Unit tests of the paper broker, the portfolio's PnL and the circuit breaker."""

from __future__ import annotations

import math
from decimal import Decimal

from tests.core.markets import BTC
from tradetui.config import PaperSettings
from tradetui.core.execution.paper import PaperBroker
from tradetui.core.model import (
    Balance,
    BreakerState,
    Fill,
    Mode,
    Order,
    OrderBook,
    OrderStatus,
    OrderType,
    PublicTrade,
    Quote,
    Side,
)
from tradetui.core.portfolio import Portfolio, equity
from tradetui.core.venue.breaker import CircuitBreaker

BOOK = OrderBook("BTC/USD", ((99.0, 1.0), (98.0, 5.0)), ((101.0, 1.0), (102.0, 5.0)), 0.0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def order(
    side: Side, amount: str, order_type: OrderType = OrderType.MARKET, price: str | None = None
) -> Order:
    return Order(
        "c1",
        "BTC/USD",
        side,
        order_type,
        Decimal(amount),
        Decimal(price) if price else None,
        Mode.PAPER,
        "test",
    )


def test_a_market_buy_walks_the_book_and_pays_the_taker_fee() -> None:
    broker = PaperBroker(PaperSettings(max_slippage_bps=Decimal(200)), Clock())
    buy = order(Side.BUY, "2")
    fills = broker.execute(buy, BOOK, BTC)
    assert [(f.price, f.amount) for f in fills] == [(Decimal("101.0"), 1), (Decimal("102.0"), 1)]
    assert buy.status is OrderStatus.FILLED and buy.average_price == Decimal("101.5")
    balances = broker.balances()
    fee = sum(f.fee for f in fills)
    assert fee == Decimal("0.52780000")  # 203 * 0.26 %
    assert balances["BTC"].total == 2
    assert balances["USD"].total == Decimal(10_000) - Decimal(203) - fee


def test_a_resting_limit_fills_only_when_trades_go_through_it_and_by_their_volume() -> None:
    broker = PaperBroker(PaperSettings(), Clock())
    bid = order(Side.BUY, "1", OrderType.LIMIT, "100")
    assert broker.execute(bid, BOOK, BTC) == []
    assert bid.status is OrderStatus.OPEN
    assert broker.balances()["USD"].used == Decimal(100)
    at_the_limit = PublicTrade("BTC/USD", 100.0, 5.0)  # may not have reached us in the queue
    other_symbol = PublicTrade("ETH/USD", 50.0, 5.0)
    assert broker.on_trades([at_the_limit, other_symbol]) == []
    [(partial, first)] = broker.on_trades([PublicTrade("BTC/USD", 99.9, 0.4)])
    assert partial.status is OrderStatus.PARTIALLY_FILLED and first.amount == Decimal("0.4")
    assert first.price == Decimal(100) and first.fee == Decimal("0.064")  # maker 0.16 %
    [(filled, second)] = broker.on_trades([PublicTrade("BTC/USD", 99.0, 3.0)])
    assert filled.status is OrderStatus.FILLED and second.amount == Decimal("0.6")
    assert broker.balances()["USD"].used == 0
    assert broker.balances()["BTC"].total == 1


def test_cancel_releases_the_hold() -> None:
    broker = PaperBroker(PaperSettings(), Clock())
    bid = order(Side.BUY, "1", OrderType.LIMIT, "100")
    broker.execute(bid, BOOK, BTC)
    assert broker.cancel("c1") is bid and bid.status is OrderStatus.CANCELED
    assert broker.balances()["USD"].free == Decimal(10_000)
    assert broker.cancel("c1") is None


def fill(fill_id: str, side: Side, amount: str, price: str, fee: str = "0") -> Fill:
    return Fill(
        fill_id,
        "c",
        "BTC/USD",
        side,
        Decimal(amount),
        Decimal(price),
        Decimal(fee),
        "USD",
        Mode.PAPER,
        0.0,
    )


def test_portfolio_uses_average_cost_and_applies_each_fill_once() -> None:
    portfolio = Portfolio()
    assert portfolio.apply(fill("a", Side.BUY, "1", "100"))
    assert portfolio.apply(fill("b", Side.BUY, "1", "200", fee="2"))
    assert not portfolio.apply(fill("b", Side.BUY, "1", "200"))
    assert portfolio.apply(fill("c", Side.SELL, "1", "250", fee="1"))
    position = portfolio.positions({})["BTC/USD"]
    assert position.amount == 1
    assert position.average_entry == 150
    assert position.realized_pnl == 97  # (250 - 150) - 2 buy fee - 1 sell fee
    assert portfolio.fills_count == 3


def quote(symbol: str, mid: float) -> Quote:
    return Quote(symbol, mid, mid, mid, 1.0, 1.0, 0.0)


def balances(**totals: str) -> dict[str, Balance]:
    return {c: Balance(c, Decimal(t), Decimal(0), Decimal(t)) for c, t in totals.items()}


FOLLOWED = ("BTC/USD", "ETH/USD", "DOT/USD")


def test_equity_is_unknown_while_an_asset_held_has_no_price() -> None:
    """Guards "priced": an unpriced holding made equity smaller (counted as 0), not unknown."""
    held = balances(USD="1000", BTC="0.1", DOT="5")
    quotes = {"BTC/USD": quote("BTC/USD", 60_000.0)}
    assert equity(held, quotes, "USD", FOLLOWED) is None
    quotes["DOT/USD"] = quote("DOT/USD", math.nan)  # a price that is no price
    assert equity(held, quotes, "USD", FOLLOWED) is None
    quotes["DOT/USD"] = quote("DOT/USD", 5.0)
    assert equity(held, quotes, "USD", FOLLOWED) == 1000 + 6000 + 25


def test_equity_needs_no_quote_for_what_is_not_held_nor_for_markets_not_followed() -> None:
    """A delisted symbol nothing is held in must not keep equity (and the marks) unknown; an
    asset of a market the engine does not follow is outside its equity, as it always was."""
    held = balances(USD="1000", BTC="0.1", ETH="0", XRP="50")
    quotes = {"BTC/USD": quote("BTC/USD", 60_000.0)}  # no ETH, DOT or XRP quote
    assert equity(held, quotes, "USD", FOLLOWED) == 7000
    # An open position counts as held even before the balance shows it.
    assert equity(held, quotes, "USD", FOLLOWED, ["ETH/USD"]) is None
    assert equity({}, {}, "USD", FOLLOWED) == 0.0


def test_breaker_failing_until_a_success() -> None:
    breaker = CircuitBreaker("market_data", Clock(), threshold=3, open_seconds=5)
    assert not breaker.failing
    breaker.record_failure()
    assert breaker.failing and breaker.state is BreakerState.CLOSED
    breaker.record_success()
    assert not breaker.failing


def test_breaker_opens_after_threshold_then_half_opens_for_one_trial() -> None:
    clock = Clock()
    breaker = CircuitBreaker("orders", clock, threshold=3, open_seconds=5)
    for _ in range(2):
        breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN and not breaker.allow()
    clock.now += 5
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow() and not breaker.allow()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    clock.now += 5
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED and breaker.snapshot().consecutive_failures == 0


def test_a_market_order_stops_at_the_slippage_cap_and_cancels_the_rest() -> None:
    broker = PaperBroker(PaperSettings(max_slippage_bps=Decimal(100)), Clock())
    buy = order(Side.BUY, "3")
    deep = OrderBook("BTC/USD", ((99.0, 1.0),), ((100.0, 1.0), (100.5, 1.0), (102.0, 5.0)), 0.0)
    fills = broker.execute(buy, deep, BTC)
    assert [f.price for f in fills] == [Decimal("100.0"), Decimal("100.5")]  # 102 is 2 % away
    assert (buy.filled, buy.status) == (2, OrderStatus.CANCELED)
