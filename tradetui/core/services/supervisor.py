"""Provides Services: the listing monitor and the copy traders, started and stopped together."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from tradetui.config import Settings
from tradetui.core.api import EngineError
from tradetui.core.feeds import VenueFeeds
from tradetui.core.ledgers import Ledgers
from tradetui.core.model import CopyDrift, Decision, ListingEvent, MarketInfo, OrderIntent
from tradetui.core.services.copy_trading import CopyTrader
from tradetui.core.services.listings import ListingMonitor
from tradetui.core.services.signals import MarketSignals
from tradetui.core.store import Store
from tradetui.core.venue.connect import Venue, VenueAccess, open_leader_client
from tradetui.core.venue.errors import VenueSetupError

log = logging.getLogger("tradetui.engine")


class Services:
    """The listing monitor (``[listing]``) and one copy trader per ``[[copy_trading.leaders]]``.

    ``engine_parts`` are the engine's ledgers (positions), feeds (quotes) and market signals
    (where new listings are flagged)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        clock: Callable[[], float],
        markets: dict[str, MarketInfo],
        access: VenueAccess,
        engine_parts: tuple[Ledgers, VenueFeeds, MarketSignals],
        *,
        submit: Callable[[OrderIntent], Awaitable[Decision]],
        alert: Callable[..., None],
    ) -> None:
        self._settings = settings
        self._store = store
        self._clock = clock
        self._markets = markets
        self._access = access
        self._ledgers, self._feeds, self._signals = engine_parts
        self._submit = submit
        self._alert = alert
        self.listings: ListingMonitor | None = None
        """The listing monitor, once started."""
        self.copy_traders: list[CopyTrader] = []
        """One per configured leader, once started."""

    async def start(self, venue: Venue) -> None:
        """Start the listing monitor and one copy trader per configured leader."""
        settings = self._settings
        if settings.listing.enabled:
            self.listings = ListingMonitor(
                venue.client,
                settings.venue.exchange,
                self._store,
                self._markets,
                settings.symbols,
                settings.listing,
                self._clock,
                submit=self._submit,
                positions=lambda: self._ledgers.open_positions(self._markets),
                alert=self._alert,
                new_listings=self._signals.new_listings,
            )
            await self.listings.load()
            self.listings.start()
        for rule in settings.copy_trading.leaders:
            try:
                client = await open_leader_client(
                    settings.venue, venue, rule.account, self._access, self._clock
                )
            except VenueSetupError as exc:
                raise EngineError(str(exc)) from None
            trader = CopyTrader(
                rule,
                client,
                self._store,
                self._clock,
                markets=self._markets,
                quotes=lambda: self._feeds.quotes,
                position=lambda symbol: self._ledgers.portfolio.amount(symbol),
                submit=self._submit,
            )
            self.copy_traders.append(trader)  # stop() closes its client even if load() fails
            await trader.load()
            trader.start()

    async def stop(self) -> None:
        """Let an exit or a copy being submitted finish, then stop them."""
        if self.listings is not None:
            await self.listings.stop()
        for trader in self.copy_traders:
            await trader.stop()
        self.copy_traders = []

    def stream_health(self, healthy: bool) -> None:
        """A private stream failed or delivered: back after an outage, reload the markets."""
        if self.listings is not None:
            self.listings.stream_health(healthy)

    def listing_events(self) -> tuple[ListingEvent, ...]:
        """The listing monitor's recent events, oldest first."""
        return tuple(self.listings.events) if self.listings is not None else ()

    def copy_drift(self) -> dict[str, CopyDrift]:
        """Leader vs our position, keyed ``<leader>:<symbol>``."""
        return {k: v for t in self.copy_traders for k, v in t.drift().items()}
