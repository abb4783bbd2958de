"""Provides each strategy's own ledger: its positions, built from the fills of its own orders."""

from __future__ import annotations

from decimal import Decimal

from tradetui.core.model import Fill, Mode
from tradetui.core.portfolio import Lot
from tradetui.core.strategies.base import StrategyPosition

ZERO = Decimal(0)


class StrategyLedger:
    """Average-cost positions of one strategy, per ledger (paper, live); each fill applied once."""

    def __init__(self) -> None:
        self._lots: dict[tuple[Mode, str], Lot] = {}
        self._seen: set[str] = set()

    def apply(self, fill: Fill) -> bool:
        """Apply ``fill`` once; False (and no change) when it was applied before."""
        if fill.fill_id in self._seen:
            return False
        self._seen.add(fill.fill_id)
        self._lots.setdefault((fill.mode, fill.symbol), Lot()).apply(fill)
        return True

    def positions(self, mode: Mode, held: dict[str, Decimal]) -> dict[str, StrategyPosition]:
        """Positions in ``mode``, each capped at what the account holds (``held`` by symbol).

        The cap matters when someone else (the kill switch, the operator) sold what the strategy
        bought: its ledger cannot know, but it must not try to sell it again.
        """
        return {
            symbol: StrategyPosition(
                symbol,
                min(lot.amount, max(ZERO, held.get(symbol, ZERO))),
                lot.average_entry,
                lot.realized_pnl,
            )
            for (lot_mode, symbol), lot in self._lots.items()
            if lot_mode is mode
        }
