"""Lists a new pair and delists an old one on a timetable relative to the simulator's start."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING

from tradetui.sim.instruments import DELISTED_PAIR_ID, NEW_LISTING, NEW_LISTING_ASSET

if TYPE_CHECKING:
    from tradetui.sim.venue.exchange import SimExchange


@dataclass(frozen=True, slots=True)
class ListingSchedule:
    """Seconds after start of each event; None skips it. Defaults give a listing monitor ~minutes."""

    list_after_s: float | None = 180.0
    """When LINK/USD appears in Assets/AssetPairs and starts trading."""
    reduce_only_after_s: float | None = 210.0
    """When DOT/USD turns `reduce_only` (delisting announced): sells are taken, buys refused."""
    cancel_only_after_s: float | None = 240.0
    """When DOT/USD turns `cancel_only`: new orders are refused, cancels still work."""
    remove_after_s: float | None = 360.0
    """When DOT/USD is removed: open orders are cancelled and no endpoint knows the pair."""

    def scaled(self, factor: float) -> ListingSchedule:
        """The same timetable run ``factor`` times as fast or slow (0.05 runs it in seconds)."""
        times = {f.name: getattr(self, f.name) for f in fields(self)}
        return replace(self, **{k: None if v is None else v * factor for k, v in times.items()})


class ScheduleRunner:
    """Applies a ListingSchedule's events once each, as the ticks pass their times."""

    def __init__(self, schedule: ListingSchedule, started_at: float) -> None:
        self.schedule = schedule
        self.started_at = started_at
        self.done: set[str] = set()

    def skip_ahead(self, seconds: float) -> None:
        """Move the timetable ``seconds`` closer; events now due fire on the next tick."""
        self.started_at -= seconds

    def _due(self, name: str, after_s: float | None, now: float) -> bool:
        if name in self.done or after_s is None or now - self.started_at < after_s:
            return False
        self.done.add(name)
        return True

    def apply(self, exchange: SimExchange, now: float) -> None:
        plan = self.schedule
        instruments = exchange.instruments
        if self._due("list", plan.list_after_s, now):
            instruments.add_asset(NEW_LISTING_ASSET)
            instruments.add_pair(NEW_LISTING)
            exchange.market.add(NEW_LISTING)
            exchange.engine.add_pair(NEW_LISTING.pair_id)
        if self._due("reduce_only", plan.reduce_only_after_s, now):
            if instruments.status.get(DELISTED_PAIR_ID) == "online":
                instruments.status[DELISTED_PAIR_ID] = "reduce_only"
        if self._due("cancel_only", plan.cancel_only_after_s, now):
            if DELISTED_PAIR_ID in instruments.status:
                instruments.status[DELISTED_PAIR_ID] = "cancel_only"
        if self._due("remove", plan.remove_after_s, now):
            if DELISTED_PAIR_ID in instruments.pairs:
                exchange.engine.cancel_pair(DELISTED_PAIR_ID, exchange.accounts.by_key.values())
                instruments.remove_pair(DELISTED_PAIR_ID)
                exchange.market.pairs.pop(DELISTED_PAIR_ID, None)
