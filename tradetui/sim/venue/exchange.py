"""Ties the simulator's state together: instruments, market, accounts and matching."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal

from tradetui.sim.instruments import Instruments
from tradetui.sim.market import MarketSim
from tradetui.sim.scenario import FlashCrash
from tradetui.sim.schedule import ListingSchedule, ScheduleRunner
from tradetui.sim.venue.accounts import LEADER_BALANCES, Account, AccountRegistry
from tradetui.sim.venue.deadman import DeadMansSwitch
from tradetui.sim.venue.matching import MatchingEngine
from tradetui.sim.venue.orders import IdGen


class SimExchange:
    """The whole simulated venue, free of any transport; the servers call into it."""

    def __init__(
        self,
        seed: int = 7,
        *,
        clock: Callable[[], float] = time.time,
        book_levels: int = 100,
        spread_bps: float = 2.0,
        nonce_window: int = 0,
        instruments: Instruments | None = None,
        balances: dict[str, Decimal] | None = None,
        flash_crash: FlashCrash | None = None,
        schedule: ListingSchedule | None = None,
    ) -> None:
        self.seed = seed
        self.clock = clock
        self.nonce_window = nonce_window
        """Kraken's optional per-key nonce window; 0 means strictly increasing nonces."""
        self.instruments = instruments or Instruments()
        self.market = MarketSim(self.instruments, seed, book_levels, spread_bps, flash_crash)
        self.accounts = AccountRegistry(seed, clock)
        self.main_account: Account = self.accounts.create("main", balances)
        self.leader_account: Account = self.accounts.create("leader", dict(LEADER_BALANCES))
        """A second account whose trades a copy-trading bot can follow."""
        self.ids = IdGen(seed)
        self.engine = MatchingEngine(self.instruments, self.market, self.ids, clock)
        self.deadman = DeadMansSwitch()
        self.schedule = ScheduleRunner(schedule or ListingSchedule(), clock())
        """Listing and delisting events, timed from when the exchange was built."""

    def tick(self) -> None:
        """Listings, one market step, fills of crossed resting orders, then lapsed dead-man timers."""
        now = self.clock()
        self.schedule.apply(self, now)
        self.market.step(now)
        self.engine.on_tick()
        self.deadman.check(self.engine, now)
