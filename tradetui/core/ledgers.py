"""Provides the engine's two ledgers, paper and live, and which one is current: balances (the paper
broker's, or the venue's), positions from fills, equity and the positions a flatten must close."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from decimal import Decimal

from tradetui.core.execution.paper import PaperBroker
from tradetui.core.model import Balance, Fill, MarketInfo, Mode, Quote, Side
from tradetui.core.portfolio import Portfolio, equity
from tradetui.core.store import Store
from tradetui.core.venue.balances import LiveBalances
from tradetui.core.venue.breaker import CircuitBreaker
from tradetui.core.venue.client import VenueClient


class Ledgers:
    """Paper and live books of the engine; ``mode`` says which one trades now."""

    def __init__(self, mode: Mode, paper: PaperBroker) -> None:
        self.mode = mode
        """The ledger orders go to."""
        self.paper = paper
        self.portfolios = {Mode.PAPER: Portfolio(), Mode.LIVE: Portfolio()}
        self.live_balances: LiveBalances | None = None
        """The venue account's balances (once an authenticated venue is open)."""

    def follow_venue(
        self, client: VenueClient, clock: Callable[[], float], breaker: CircuitBreaker
    ) -> None:
        """Keep the venue account's balances (an authenticated venue is open)."""
        self.live_balances = LiveBalances(client, clock, breaker)

    @property
    def portfolio(self) -> Portfolio:
        """The current ledger's positions."""
        return self.portfolios[self.mode]

    async def replay(self, store: Store) -> None:
        """Rebuild both ledgers from the fills stored by earlier sessions."""
        for mode, portfolio in self.portfolios.items():
            for fill in await store.fills(mode):
                portfolio.apply(fill)
                if mode is Mode.PAPER:
                    self.paper.apply_fill(fill, _bare_market(fill.symbol))

    def apply(self, fill: Fill) -> tuple[bool, bool]:
        """Apply a fill to its ledger once; returns (new, closed at a loss)."""
        self.holds_changed(fill.mode)
        portfolio = self.portfolios[fill.mode]
        realized_before = portfolio.realized(fill.symbol)
        if not portfolio.apply(fill):
            return False, False
        loss = fill.side is Side.SELL and portfolio.realized(fill.symbol) < realized_before
        return True, loss

    def holds_changed(self, mode: Mode) -> None:
        """Orders of ``mode`` were placed, canceled or filled: venue holds need a re-read."""
        if mode is Mode.LIVE and self.live_balances is not None:
            self.live_balances.mark_dirty()

    def balances(self) -> dict[str, Balance]:
        """Free, used and total per currency of the current ledger."""
        if self.mode is Mode.PAPER:
            return self.paper.balances()
        return dict(self.live_balances.balances) if self.live_balances is not None else {}

    @property
    def balances_known(self) -> bool:
        """The current ledger's balances are known: paper always; live once read from the venue."""
        if self.mode is Mode.PAPER:
            return True
        return self.live_balances is not None and self.live_balances.seeded

    def equity(
        self, quotes: Mapping[str, Quote], quote_currency: str, followed: Collection[str]
    ) -> float | None:
        """The current ledger's equity in ``quote_currency`` at the quotes' mids; None while its
        balances are not known or an asset it holds has no price (``portfolio.equity``)."""
        if not self.balances_known:
            return None
        held = self.portfolio.open_symbols({})
        return equity(self.balances(), quotes, quote_currency, followed, held)

    def open_positions(self, markets: Mapping[str, MarketInfo]) -> dict[str, Decimal]:
        """Positions of the current ledger large enough to trade, by symbol."""
        return {
            symbol: position.amount
            for symbol, position in self.portfolio.positions({}).items()
            if symbol in markets and position.amount >= markets[symbol].min_amount
        }

    def open_positions_of(self, mode: Mode) -> dict[str, Decimal]:
        """Every non-zero position of ledger ``mode``, by symbol."""
        return {
            symbol: position.amount
            for symbol, position in self.portfolios[mode].positions({}).items()
            if position.amount
        }


def _bare_market(symbol: str) -> MarketInfo:
    """Enough of a market for the paper ledger to book a stored fill (its currencies)."""
    base, _, quote = symbol.partition("/")
    one = Decimal(1)
    return MarketInfo(symbol, base, quote, one, one, Decimal(0), Decimal(0))
