"""Provides the equity marks the loss limits measure against: UTC day start and peak, persisted."""

from __future__ import annotations

import datetime as dt

from tradetui.core.model import Mode
from tradetui.core.schema import Key
from tradetui.core.store import Store

PEAK_WRITE_STEP = 1.001
"""Persist a new peak only once it is 0.1 % above the stored one: not a write per frame."""


def utc_day(now: float) -> str:
    """The UTC calendar day of ``now`` (engine clock seconds), e.g. ``2026-11-22``."""
    return dt.datetime.fromtimestamp(now, dt.UTC).date().isoformat()


class EquityMarks:
    """Per ledger: the first priced equity of the UTC day, and the highest equity seen."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._day_start: dict[Mode, tuple[str, float]] = {}
        self._peak: dict[Mode, float] = {}
        self._peak_saved: dict[Mode, float] = {}

    async def load(self) -> None:
        """Read the marks a previous session left."""
        for mode in Mode:
            saved = await self._store.get_value(Key.DAY_START, mode.value)
            if saved is not None:
                day, _, value = saved.partition(" ")
                self._day_start[mode] = (day, float(value))
            peak = await self._store.get_value(Key.PEAK_EQUITY, mode.value)
            if peak is not None:
                self._peak[mode] = self._peak_saved[mode] = float(peak)

    async def flush(self) -> None:
        """Write peaks that moved less than the write step since they were last stored."""
        for mode, peak in self._peak.items():
            if peak != self._peak_saved.get(mode):
                await self._store.put_value(Key.PEAK_EQUITY, repr(peak), mode.value)

    def day_start(self, mode: Mode, now: float) -> float | None:
        """Today's starting equity of ``mode`` (None until a priced reading today)."""
        start = self._day_start.get(mode)
        return start[1] if start is not None and start[0] == utc_day(now) else None

    def peak(self, mode: Mode) -> float | None:
        """The highest equity of ``mode`` seen so far (None before the first priced reading)."""
        return self._peak.get(mode)

    def day_pnl(self, mode: Mode, total_equity: float | None, now: float) -> float | None:
        """Today's PnL of ``mode`` at ``total_equity`` (None while either is unknown)."""
        start = self.day_start(mode, now)
        return None if start is None or total_equity is None else total_equity - start

    def observe(self, mode: Mode, total_equity: float | None, now: float) -> None:
        """Take one equity reading (the engine's tick, and its order path): a new peak, or the
        first priced equity of a new UTC day, is recorded and persisted. An unknown equity
        (None: not every asset held is priced) records nothing."""
        if total_equity is None:
            return
        peak = self._peak.get(mode)
        if peak is None or total_equity > peak:
            self._peak[mode] = total_equity
            if total_equity > self._peak_saved.get(mode, 0.0) * PEAK_WRITE_STEP:
                self._peak_saved[mode] = total_equity
                self._store.put_value(Key.PEAK_EQUITY, repr(total_equity), mode.value)
        day = utc_day(now)
        start = self._day_start.get(mode)
        if start is None or start[0] != day:
            self._day_start[mode] = (day, total_equity)
            self._store.put_value(Key.DAY_START, f"{day} {total_equity!r}", mode.value)
