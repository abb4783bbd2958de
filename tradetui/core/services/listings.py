"""Provides the listing monitor: reloads the venue's markets, keeps the registry, reports changes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import replace
from decimal import Decimal

from tradetui.config import ListingSettings
from tradetui.core.model import ListingEvent, MarketInfo, MarketRecord, OrderIntent, Side
from tradetui.core.store import Store, StoreError
from tradetui.core.venue.client import VenueClient

log = logging.getLogger("tradetui.listings")

ACTIVE = "active"
REMOVED = "removed"
"""Registry status of a market the venue no longer lists."""
RECENT_EVENTS = 50
EXIT_STATUSES = frozenset({"reduce_only"})
"""Statuses in which the venue still takes sells: the ``close`` policy exits here."""
STUCK_STATUSES = frozenset({"cancel_only", "delisted", REMOVED})
"""Statuses in which the venue takes no new orders: a position left here cannot be sold."""
DELISTING_STRATEGY = "delisting"
"""Strategy name on the audit rows and orders of the ``close`` policy's exits."""
STOP_TIMEOUT_S = 10.0

Alert = Callable[..., None]
"""``(kind, subject, message, **fields)``, the engine's alert path."""


def registry_status(market: MarketInfo) -> str:
    """The registry's word for one market: ``active``, else the venue's own status word."""
    return ACTIVE if market.active else market.status


def event_kind(status: str, previous: str | None) -> str:
    """``listed``, ``delisted`` or ``status_changed`` for a move from ``previous`` to ``status``."""
    if previous is None or previous == REMOVED:
        return "listed"
    if status in ("delisted", REMOVED):
        return "delisted"
    return "status_changed"


def diff_markets(
    known: Mapping[str, MarketRecord], listed: Mapping[str, str], now: float
) -> tuple[list[ListingEvent], list[MarketRecord]]:
    """Compare the registry with the venue's markets (symbol -> registry status).

    Returns the events, and the registry rows that are new or changed status. A symbol missing
    from ``listed`` is ``removed``; one that comes back is listed again.
    """
    events: list[ListingEvent] = []
    changed: list[MarketRecord] = []
    for symbol, status in listed.items():
        record = known.get(symbol)
        if record is None:
            changed.append(MarketRecord(symbol, status, now, now, now))
        elif record.status != status:
            changed.append(replace(record, status=status, last_seen=now, changed_at=now))
        else:
            continue
        previous = record.status if record is not None else None
        events.append(ListingEvent(event_kind(status, previous), symbol, status, previous, now))
    for symbol, record in known.items():
        if symbol not in listed and record.status != REMOVED:
            changed.append(replace(record, status=REMOVED, changed_at=now))
            events.append(ListingEvent("delisted", symbol, REMOVED, record.status, now))
    return events, changed


class ListingMonitor:
    """Reloads the venue's markets every ``interval_s`` (and after a reconnect), diffs them with the
    registry in SQLite and reports listings, status changes and delistings.

    It also keeps the engine's market rules current, so the risk guard's ``market_status`` gate
    blocks buys in a delisting symbol and everything in a cancel-only or removed one. With the
    ``close`` policy (the default) it sells positions in a symbol the venue puts in reduce-only
    mode, the venue's delisting notice: once the market is cancel-only or gone the position can
    no longer be sold on the venue at all, and a trader who wanted to keep a delisting coin can
    say ``hold``. Exits go through the engine's one order path and its risk guard.
    """

    def __init__(
        self,
        client: VenueClient,
        venue: str,
        store: Store,
        markets: dict[str, MarketInfo],
        watched: Collection[str],
        settings: ListingSettings,
        clock: Callable[[], float],
        *,
        submit: Callable[[OrderIntent], Awaitable[object]],
        positions: Callable[[], Mapping[str, Decimal]],
        alert: Alert | None = None,
        new_listings: set[str] | None = None,
    ) -> None:
        self._client = client
        self._venue = venue
        """Registry namespace (``venue.exchange``): another venue's markets are not news."""
        self._store = store
        self._markets = markets
        """The engine's market rules (shared with the order manager), updated in place."""
        self._watched = list(watched)
        self.settings = settings
        self._clock = clock
        self._submit = submit
        self._positions = positions
        self._alert = alert
        self._new_listings = new_listings if new_listings is not None else set()
        self.registry: dict[str, MarketRecord] = {}
        self.events: deque[ListingEvent] = deque(maxlen=RECENT_EVENTS)
        """Recent events, oldest first (the engine snapshot's ``listing_events``)."""
        self.reloads = 0
        """Market lists checked so far (the one loaded at start-up included)."""
        self._reload_requested = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._outage = False
        self._failing = False
        self._stuck_reported: set[str] = set()

    async def load(self) -> None:
        """Read the registry from the store."""
        self.registry = {r.symbol: r for r in await self._store.market_registry(self._venue)}

    def start(self) -> None:
        """Check the markets loaded at start-up, then reload every interval until stopped."""
        self._task = asyncio.create_task(self._run(), name="listings")

    async def stop(self) -> None:
        """Let an exit order being submitted finish, then end the loop."""
        self._stopping.set()
        self._reload_requested.set()  # wakes the wait for the next interval
        if self._task is None:
            return
        await asyncio.wait({self._task}, timeout=STOP_TIMEOUT_S)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task
        self._task = None

    def reload_now(self) -> None:
        """Reload the markets at once instead of at the next interval."""
        self._reload_requested.set()

    def stream_health(self, healthy: bool) -> None:
        """Told by the engine's stream supervisors: a stream back after a failure reloads at once,
        since whatever changed during the outage went unseen."""
        if not healthy:
            self._outage = True
        elif self._outage:
            self._outage = False
            self.reload_now()

    async def _run(self) -> None:
        await self._check_safely(self._client.markets)
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._reload_requested.wait(), self.settings.interval_s)
            if self._stopping.is_set():
                return
            self._reload_requested.clear()
            try:
                markets = await self._client.load_markets(True)
            except Exception as exc:  # noqa: BLE001 - tried again on the next interval
                level = logging.DEBUG if self._failing else logging.WARNING
                log.log(level, "reloading the venue's markets failed: %s", exc)
                self._failing = True
                continue
            if self._failing:
                log.info("the venue's markets load again")
                self._failing = False
            await self._check_safely(markets)

    async def _check_safely(self, markets: Mapping[str, MarketInfo]) -> None:
        try:
            await self.check(markets)
        except Exception:  # noqa: BLE001 - one odd market list must not end the monitor
            log.exception("checking the venue's markets failed")

    async def check(self, markets: Mapping[str, MarketInfo]) -> list[ListingEvent]:
        """Diff ``markets`` (every market the venue lists) with the registry, record and report the changes,
        update the engine's market rules and apply the delisting policy."""
        listed = {symbol: registry_status(market) for symbol, market in markets.items()}
        now = self._clock()
        if self.registry:
            events, changed = diff_markets(self.registry, listed, now)
        else:
            # The first look at a venue is its baseline, not a wave of new listings.
            events, changed = diff_markets({}, listed, now)
            events = []
            log.info("market registry started with %d markets", len(changed))
        for record in changed:
            self.registry[record.symbol] = record
        await self._persist(changed, now)
        for event in events:
            self._report(event)
        self._update_rules(markets)
        self.reloads += 1
        await self._apply_policy()
        return events

    async def _persist(self, changed: list[MarketRecord], now: float) -> None:
        for symbol, record in self.registry.items():
            if record.status != REMOVED and record.last_seen != now:
                self.registry[symbol] = replace(record, last_seen=now)
        writes = [self._store.save_market(self._venue, record) for record in changed]
        writes.append(self._store.touch_markets(self._venue, now))
        try:
            await asyncio.gather(*writes)
        except StoreError as exc:
            log.error("market registry not saved: %s", exc)

    def _report(self, event: ListingEvent) -> None:
        self.events.append(event)
        if event.kind == "listed":
            self._new_listings.add(event.symbol)
            message = f"new listing on the venue: {event.symbol} ({event.status})"
            level, alert_kind = logging.INFO, "market_listed"
        elif event.kind == "delisted":
            message = f"{event.symbol} was delisted ({event.status}; it was {event.previous})"
            level, alert_kind = logging.WARNING, "market_delisted"
        else:
            message = f"{event.symbol} is now {event.status} (it was {event.previous})"
            level = logging.INFO if event.status == ACTIVE else logging.WARNING
            alert_kind = "market_status"
        if event.symbol in self._watched:
            if event.status in EXIT_STATUSES:
                message += "; buys are blocked, sells still go out"
            elif event.status in STUCK_STATUSES:
                message += "; no order is sent for it"
        log.log(
            level,
            "%s",
            message,
            extra={"event": "listing", "kind": event.kind, "symbol": event.symbol},
        )
        if self._alert is not None:
            self._alert(alert_kind, f"{event.symbol} {event.status}", message, symbol=event.symbol)

    def _update_rules(self, markets: Mapping[str, MarketInfo]) -> None:
        """Refresh the rules of the watched symbols; one the venue dropped becomes ``removed``."""
        self._markets.update({s: markets[s] for s in self._watched if s in markets})
        for symbol in self._watched:
            info = self._markets.get(symbol)
            if symbol not in markets and info is not None and info.status != REMOVED:
                self._markets[symbol] = replace(info, status=REMOVED, active=False)

    async def _apply_policy(self) -> None:
        for symbol, amount in self._positions().items():
            record = self.registry.get(symbol)
            status = record.status if record is not None else REMOVED
            if status in EXIT_STATUSES and self.settings.on_delisting == "close":
                log.warning(
                    "closing %s %s: the venue is delisting it (%s)",
                    amount,
                    symbol,
                    status,
                    extra={"event": "delisting_exit", "symbol": symbol},
                )
                await self._submit(
                    OrderIntent(
                        symbol,
                        Side.SELL,
                        amount,
                        strategy=DELISTING_STRATEGY,
                        confidence=1.0,
                        reduce_only=True,
                    )
                )
            elif status in STUCK_STATUSES and symbol not in self._stuck_reported:
                self._stuck_reported.add(symbol)
                message = (
                    f"{amount} {symbol} is held but the market is {status}: the venue takes no "
                    "new orders for it; withdraw the coin or wait for a relisting"
                )
                log.error("%s", message, extra={"event": "delisting_stuck", "symbol": symbol})
                if self._alert is not None:
                    self._alert("delisting_stuck", symbol, message, symbol=symbol)
