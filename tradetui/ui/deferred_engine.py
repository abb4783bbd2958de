"""Provides DeferredEngine: the console's engine until the real one has been imported and built.

The engine's modules (the order manager, the store, aiohttp, the strategies) take a few hundred
milliseconds to import on a small machine. The console paints first and builds the engine after:
this stand-in reports "connecting…" until then, and hands everything to the real engine after.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import Callable

from tradetui.config import Settings
from tradetui.core.api import EngineError
from tradetui.core.model import EngineSnapshot, Mode, TradingState
from tradetui.ui.bridge import EngineControls


class DeferredEngine:
    """An EngineControls that builds its engine when started, and forwards to it from then on.

    ``build`` makes the real engine; ``modules`` are imported first, off the event loop, so the
    console keeps answering keys meanwhile. A pause or a kill switch pressed before the engine
    exists is remembered and applied before it starts; the other commands say it is not ready.
    """

    def __init__(
        self,
        build: Callable[[], EngineControls],
        settings: Settings,
        modules: tuple[str, ...] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._build = build
        self._settings = settings
        self._modules = modules
        self._clock = clock
        self._engine: EngineControls | None = None
        self._state = TradingState.ACTIVE
        """What the operator asked for before the engine existed (pause, or the kill switch)."""
        self._kill_pending = False
        """The kill switch was pulled before the engine existed: it cancels once started."""

    @property
    def engine(self) -> EngineControls | None:
        """The real engine, once built."""
        return self._engine

    async def start(self) -> None:
        for module in self._modules:
            await asyncio.to_thread(importlib.import_module, module)
        engine = self._engine = self._build()
        if self._state is TradingState.HALTED:
            engine.halt()
        elif self._state is TradingState.PAUSED:
            engine.toggle_pause()
        await engine.start()
        if self._kill_pending:
            # Orders left open by an earlier session are only known once the engine has started.
            await engine.kill()

    async def stop(self) -> None:
        if self._engine is not None:
            await self._engine.stop()

    def snapshot(self) -> EngineSnapshot:
        if self._engine is not None:
            return self._engine.snapshot()
        return EngineSnapshot.not_connected(
            self._clock(),
            self._settings.venue.exchange,
            state=self._state,
            mode=Mode.LIVE if self._settings.mode == "live" else Mode.PAPER,
            symbols=tuple(self._settings.symbols),
        )

    def toggle_pause(self) -> None:
        if self._engine is not None:
            self._engine.toggle_pause()
        elif self._state is not TradingState.HALTED:
            active = self._state is TradingState.ACTIVE
            self._state = TradingState.PAUSED if active else TradingState.ACTIVE

    def halt(self) -> None:
        if self._engine is not None:
            self._engine.halt()
        else:
            self._state = TradingState.HALTED

    async def kill(self) -> None:
        if self._engine is not None:
            await self._engine.kill()
        else:
            self._state = TradingState.HALTED
            self._kill_pending = True

    async def flatten(self, confirmed: bool = False) -> bool:
        return await self._ready().flatten(confirmed)

    async def cancel_order(self, client_id: str) -> bool:
        return await self._ready().cancel_order(client_id)

    async def release(self) -> None:
        await self._ready().release()

    async def set_mode(self, mode: Mode) -> None:
        await self._ready().set_mode(mode)

    def live_target(self) -> str:
        return self._engine.live_target() if self._engine is not None else "the engine (starting)"

    def _ready(self) -> EngineControls:
        if self._engine is None:
            raise EngineError("the engine is still starting; try again in a moment")
        return self._engine
