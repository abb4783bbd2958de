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
from tradetui.core.api import EngineControls, EngineError
from tradetui.core.model import CancelReport, EngineSnapshot, Mode, TradingState
from tradetui.core.risk.trading_state import TradingStateMachine, require_confirmation

NOT_READY = "the engine is still starting; try again in a moment"


class DeferredEngine:
    """An EngineControls that builds its engine when started, and forwards to it from then on.

    ``build`` makes the real engine; ``modules`` are imported first, off the event loop, so the
    console keeps answering keys meanwhile. Before the engine exists, the trading-state commands
    go to the engine's own state machine (the same rules, the same refusals) and are handed over
    before it starts; a kill switch pulled meanwhile cancels every open order once it has started.
    The other commands say the engine is not ready.
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
        self._trading = TradingStateMachine()
        """What the operator asked for before the engine existed."""
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
        # Handed over before start: restoring the saved state never loosens what was asked.
        if self._trading.state is TradingState.HALTED:
            engine.halt()
        elif self._trading.state is TradingState.PAUSED:
            await engine.pause()
        await engine.start()
        if self._kill_pending:
            # Orders left open by an earlier session are only known once the engine has started.
            await engine.kill()
            # Released (and resumed) before the engine existed: that holds after the cancels.
            if self._trading.state is not TradingState.HALTED:
                await engine.release(confirmed=True)
            if self._trading.state is TradingState.ACTIVE:
                await engine.resume()

    async def stop(self) -> None:
        if self._engine is not None:
            await self._engine.stop()

    def snapshot(self) -> EngineSnapshot:
        if self._engine is not None:
            return self._engine.snapshot()
        return EngineSnapshot.not_connected(
            self._clock(),
            self._settings.venue.exchange,
            state=self._trading.state,
            mode=Mode.LIVE if self._settings.mode == "live" else Mode.PAPER,
            symbols=tuple(self._settings.symbols),
        )

    def halt(self) -> None:
        if self._engine is not None:
            self._engine.halt()
        else:
            self._trading.halt()

    async def kill(self) -> None:
        if self._engine is not None:
            await self._engine.kill()
        else:
            self._trading.halt()
            self._kill_pending = True

    async def pause(self) -> None:
        if self._engine is not None:
            await self._engine.pause()
        else:
            self._trading.pause()

    async def resume(self) -> None:
        if self._engine is not None:
            await self._engine.resume()
        else:
            self._trading.resume()

    async def toggle_pause(self) -> None:
        if self._engine is not None:
            await self._engine.toggle_pause()
        else:
            self._trading.toggle_pause()

    async def release(self, confirmed: bool = False) -> None:
        if self._engine is not None:
            await self._engine.release(confirmed)
        else:
            self._trading.release(confirmed)

    async def flatten(self, confirmed: bool = False) -> bool:
        require_confirmation("flatten", confirmed)
        return await self._ready().flatten(confirmed)

    async def cancel_order(self, client_id: str) -> bool:
        return await self._ready().cancel_order(client_id)

    async def cancel_all(self) -> CancelReport:
        return await self._ready().cancel_all()

    async def set_mode(self, mode: Mode) -> None:
        await self._ready().set_mode(mode)

    def live_target(self) -> str:
        return self._engine.live_target() if self._engine is not None else "the engine (starting)"

    def _ready(self) -> EngineControls:
        if self._engine is None:
            raise EngineError(NOT_READY)
        return self._engine
