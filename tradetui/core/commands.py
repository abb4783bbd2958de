"""Provides the engine's operator commands (pause, resume, the kill switch, flatten, cancels,
paper/live), kept apart from its lifecycle and order path; Engine inherits them."""

from __future__ import annotations

import logging

from tradetui.config import Settings
from tradetui.core.api import EngineError
from tradetui.core.execution.orders import OrderManager
from tradetui.core.execution.procedures import Procedures
from tradetui.core.execution.reconcile import Reconciler
from tradetui.core.feeds import VenueFeeds
from tradetui.core.ledgers import Ledgers
from tradetui.core.model import CancelReport, Mode
from tradetui.core.risk.state import RiskState
from tradetui.core.risk.trading_state import require_confirmation
from tradetui.core.strategies.host import StrategySpec
from tradetui.core.strategies.loader import DEMO_IN_LIVE
from tradetui.core.strategies.runner import StrategyRunner
from tradetui.core.venue.balances import LiveBalances
from tradetui.core.venue.connect import Venue, VenueAccess

log = logging.getLogger("tradetui.engine")


class OperatorCommands:
    """The commands of the engine contract (``core/api.py``) besides start, stop and snapshot.

    Every operator rule is decided here or in RiskState's trading-state machine, never by the
    console or the control socket, which only ask and report the answer.
    """

    settings: Settings
    risk: RiskState
    orders: OrderManager
    procedures: Procedures
    ledgers: Ledgers
    feeds: VenueFeeds
    reconciler: Reconciler | None
    venue: Venue | None
    _access: VenueAccess
    _strategies: StrategyRunner | None
    _connected: bool
    _kill_after_start: bool
    _strategy_specs: list[StrategySpec]

    def halt(self) -> None:
        """Block every new order at once (the first step of the kill switch)."""
        self.risk.trading.halt()

    async def pause(self) -> None:
        """Stop adding exposure (reducing orders and cancels still pass)."""
        self.risk.trading.pause()

    async def resume(self) -> None:
        """PAUSED -> ACTIVE."""
        self.risk.trading.resume()

    async def toggle_pause(self) -> None:
        """ACTIVE <-> PAUSED."""
        self.risk.trading.toggle_pause()

    async def release(self, confirmed: bool = False) -> None:
        """Release the kill switch into PAUSED, so nothing trades until the operator resumes."""
        self.risk.trading.release(confirmed)

    async def kill(self) -> None:
        """Kill switch: HALT immediately, then cancel every open order (before the engine has
        started, once it has: only then are the orders known)."""
        if not self._connected:
            self.halt()
            self._kill_after_start = True
            return
        await self.procedures.kill()

    async def flatten(self, confirmed: bool = False) -> bool:
        """Kill switch in depth: HALT, cancel everything, close every position; True when flat."""
        require_confirmation("flatten", confirmed)
        if not self._connected:
            await self.kill()
            raise EngineError(
                "the engine is still starting: trading is HALTED and every open order is "
                "cancelled once it has started; flatten then"
            )
        return await self.procedures.flatten()

    async def cancel_all(self) -> CancelReport:
        """Cancel every open order the engine knows, paper and live, leaving the trading state as
        it is (``ctl cancel-all``); live ones by id, so orders others put on the account stay."""
        return await self.procedures.cancel_all(self.risk.state.value)

    async def cancel_order(self, client_id: str) -> bool:
        """Cancel one open order (paper or live); False when it is no longer open."""
        try:
            canceled = await self.orders.cancel(client_id)
        except Exception as exc:  # noqa: BLE001 - a venue refusal is the operator's to read
            raise EngineError(f"cancel of {client_id} failed: {exc}") from None
        if canceled:
            log.info("order %s canceled by the operator", client_id, extra={"event": "cancel"})
        return canceled

    async def set_mode(self, mode: Mode) -> None:
        """Switch between paper and live ledgers; live needs venue credentials, never runs the
        demo strategy and, the first time on this data dir, comes up PAUSED. Back to paper, the
        log names what is left working on the venue."""
        if mode is self.ledgers.mode:
            return
        if mode is Mode.LIVE:
            if self.reconciler is None:
                raise EngineError(self._access.missing_credentials(self.settings.venue.account))
            if self._strategies is not None and any(s.demo for s in self._strategy_specs):
                raise EngineError(DEMO_IN_LIVE)
            await self._live_balances().refresh()  # the risk guard needs venue balances at once
            self.risk.going_live()
        else:
            self._name_what_live_leaves()
        self.ledgers.mode = mode
        if self.feeds.dead_man is not None:
            await self.feeds.dead_man.arm(mode is Mode.LIVE)
        log.warning("mode changed to %s", mode.value, extra={"event": "mode", "mode": mode.value})

    def _name_what_live_leaves(self) -> None:
        orders = self.orders.open_orders(Mode.LIVE)
        positions = self.ledgers.open_positions_of(Mode.LIVE)
        if not orders and not positions:
            return
        working = "; ".join(
            f"{o.symbol} {o.side.value} {o.amount}" + (f" @ {o.price}" if o.price else "")
            for o in orders
        )
        held = ", ".join(f"{amount} {symbol}" for symbol, amount in positions.items())
        log.warning(
            "back to paper: left on the venue: %d live order(s)%s; live positions: %s. They stay "
            "as they are (cancel them live, or with ctl cancel-all)",
            len(orders),
            f" ({working})" if working else "",
            held or "none",
            extra={"event": "live_left", "orders": len(orders)},
        )

    def live_target(self) -> str:
        """Which account and venue live orders would go to, for a confirmation prompt."""
        if self.settings.venue.exchange == "sim":
            return f"the simulator's own account on {self._target()}"
        return f"account '{self.settings.venue.account}' on {self._target()}"

    def strategy_refusals(self) -> dict[str, int]:
        """Strategy actions refused before the risk guard (budget, holdings ...), by code."""
        return dict(self._strategies.host.refusals) if self._strategies is not None else {}

    def _target(self) -> str:
        return self.venue.target if self.venue is not None else self.settings.venue.exchange

    def _live_balances(self) -> LiveBalances:
        assert self.ledgers.live_balances is not None  # nosec B101 - authenticated (narrowing)
        return self.ledgers.live_balances
