"""Ties the simulator's state together: instruments, market, accounts and matching."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal

from tradetui.sim.accounts import Account, AccountRegistry
from tradetui.sim.instruments import Instruments
from tradetui.sim.market import MarketSim
from tradetui.sim.matching import MatchingEngine
from tradetui.sim.orders import IdGen


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
    ) -> None:
        self.seed = seed
        self.clock = clock
        self.nonce_window = nonce_window
        """Kraken's optional per-key nonce window; 0 means strictly increasing nonces."""
        self.instruments = instruments or Instruments()
        self.market = MarketSim(self.instruments, seed, book_levels, spread_bps)
        self.accounts = AccountRegistry(seed)
        self.main_account: Account = self.accounts.create("main", balances)
        self.engine = MatchingEngine(self.instruments, self.market, IdGen(seed), clock)

    def tick(self) -> None:
        """One market step, then fill whatever resting orders the move crossed."""
        self.market.step()
        self.engine.on_tick()
