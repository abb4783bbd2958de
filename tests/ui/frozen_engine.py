"""Provides FrozenEngine, a test-only stand-in for the engine contract with a hand-built snapshot.

It exists so snapshot tests render byte-identical screens: no simulator, no clock, no randomness.
Commands change the frozen snapshot the way the real engine's state machine would.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal

from tradetui.core.model import (
    Balance,
    BreakerSnapshot,
    BreakerState,
    CancelReport,
    CopyDrift,
    EngineSnapshot,
    GateResult,
    Mode,
    Order,
    OrderStatus,
    OrderType,
    Position,
    Quote,
    Side,
    Signal,
    SignalKind,
    SpreadClass,
    TradingState,
    VolumeClass,
)
from tradetui.core.risk.trading_state import TradingStateMachine, require_confirmation

FIXED_NOW = 1_767_225_600.0 + 9 * 3600 + 30 * 60 + 15
"""2026-01-01 09:30:15 UTC: the fixed clock of every frozen snapshot."""


def _order(
    client_id: str, symbol: str, side: Side, price: str, amount: str, filled: str = "0"
) -> Order:
    return Order(
        client_id=client_id,
        symbol=symbol,
        side=side,
        order_type=OrderType.LIMIT,
        amount=Decimal(amount),
        price=Decimal(price),
        mode=Mode.PAPER,
        strategy="pulse",
        status=OrderStatus.PARTIALLY_FILLED if Decimal(filled) else OrderStatus.OPEN,
        filled=Decimal(filled),
        created_at=FIXED_NOW - 30,
    )


def _trend(last: float, steps: tuple[float, ...]) -> tuple[float, ...]:
    """Ten points ending at ``last``, each step a relative move from the one before."""
    points = [last]
    for step in reversed(steps):
        points.append(points[-1] / (1 + step))
    return tuple(reversed(points))


def _signal(symbol: str, kind: SignalKind, confidence: float, liquidity: float) -> Signal:
    direction = 1.0 if kind.is_buy else -1.0 if kind.is_sell else 0.0
    return Signal(
        symbol, kind, confidence, direction * confidence, VolumeClass.MODERATE, 1.0,
        SpreadClass.TIGHT, 2.0, direction * 0.3, direction * 0.2, liquidity, False,
    )  # fmt: skip


def frozen_snapshot() -> EngineSnapshot:
    """A connected paper engine trading normally: fresh quotes, positions, orders, closed breakers."""
    quotes = {
        "BTC/USD": Quote("BTC/USD", 64_250.1, 64_252.4, 64_251.0, 1.2, 0.8, FIXED_NOW - 0.4),
        "ETH/USD": Quote("ETH/USD", 3_120.55, 3_121.05, 3_120.9, 14.0, 9.5, FIXED_NOW - 1.2),
        "SOL/USD": Quote("SOL/USD", 142.31, 142.39, 142.35, 300.0, 210.0, FIXED_NOW - 0.8),
    }
    up = (0.001, 0.002, -0.001, 0.003, 0.001, -0.002, 0.004, 0.002, 0.001)
    down = (-0.002, 0.001, -0.003, -0.001, 0.002, -0.004, -0.001, -0.002, 0.001)
    return EngineSnapshot(
        taken_at=FIXED_NOW,
        state=TradingState.ACTIVE,
        mode=Mode.PAPER,
        venue="sim (127.0.0.1:8901)",
        connected=True,
        symbols=("BTC/USD", "ETH/USD", "SOL/USD"),
        quotes=quotes,
        balances={
            "USD": Balance("USD", Decimal("7512.40"), Decimal("400.00"), Decimal("7912.40")),
            "BTC": Balance("BTC", Decimal("0.0150"), Decimal("0"), Decimal("0.0150")),
            "ETH": Balance("ETH", Decimal("0.2"), Decimal("0"), Decimal("0.2")),
        },
        positions={
            "BTC/USD": Position(
                "BTC/USD", Decimal("0.0150"), Decimal("63980.00"), Decimal("0"), 64_251.25, 4.07
            ),
            "ETH/USD": Position(
                "ETH/USD", Decimal("0.2"), Decimal("3150.10"), Decimal("12.35"), 3_120.8, -5.86
            ),
        },
        open_orders=(
            _order("pulse-0001-7f3a9c21", "BTC/USD", Side.BUY, "64150.00", "0.0031"),
            _order("pulse-0002-be41d007", "ETH/USD", Side.SELL, "3140.00", "0.1", "0.04"),
        ),
        recent_orders=(),
        gates=(
            GateResult("trading_state", True, "OK"),
            GateResult("circuit_breaker", True, "OK"),
            GateResult("market_status", True, "OK"),
            GateResult("data_quality", True, "OK", 0.4, 5.0),
            GateResult("order_sanity", True, "OK", 0.4, 5.0),
            GateResult("position_count", True, "OK", 2.0, 3.0),
            GateResult("position_size", True, "OK", 12.2, 20.0),
            GateResult("min_balance", True, "OK", 7312.4, 10.0, floor=True),
            GateResult("signal_confidence", True, "NOT_EVALUATED"),
        ),
        last_rejections={
            "position_count": GateResult("position_count", False, "TOO_MANY_POSITIONS", 3.0, 3.0),
        },
        breakers=(
            BreakerSnapshot("market_data", BreakerState.CLOSED, 0, 5, 0.0),
            BreakerSnapshot("account", BreakerState.CLOSED, 0, 5, 0.0),
            BreakerSnapshot("orders", BreakerState.CLOSED, 0, 5, 0.0),
        ),
        equity=10_342.17,
        day_pnl=-57.83,
        quote_currency="USD",
        fills_count=7,
        copy_drift={
            "whale:BTC/USD": CopyDrift(
                "whale", "BTC/USD", Decimal("0.04"), Decimal("0.02"), Decimal("0.015"), copied=3
            ),
        },
        signals={
            "BTC/USD": _signal("BTC/USD", SignalKind.BUY, 0.71, 0.93),
            "ETH/USD": _signal("ETH/USD", SignalKind.STRONG_SELL, 0.84, 0.78),
            "SOL/USD": _signal("SOL/USD", SignalKind.NEUTRAL, 0.35, 0.41),
        },
        trends={
            "BTC/USD": _trend(64_251.25, up),
            "ETH/USD": _trend(3_120.8, down),
            "SOL/USD": _trend(142.35, (0.0,) * 9),
        },
    )


def paused_snapshot() -> EngineSnapshot:
    """The operator pressed p: no new orders, resting ones stay."""
    return dataclasses.replace(frozen_snapshot(), state=TradingState.PAUSED)


def breaker_open_snapshot() -> EngineSnapshot:
    """The orders breaker tripped: the gate fails and the pane counts down to half-open."""
    snapshot = frozen_snapshot()
    gates = tuple(
        GateResult("circuit_breaker", False, "BREAKER_OPEN", 5.0, 5.0)
        if gate.gate == "circuit_breaker"
        else gate
        for gate in snapshot.gates
    )
    return dataclasses.replace(
        snapshot,
        gates=gates,
        last_rejections={
            **snapshot.last_rejections,
            "circuit_breaker": GateResult("circuit_breaker", False, "BREAKER_OPEN", 5.0, 5.0),
        },
        breakers=(
            BreakerSnapshot("market_data", BreakerState.CLOSED, 0, 5, 0.0),
            BreakerSnapshot("account", BreakerState.HALF_OPEN, 2, 5, 0.0),
            BreakerSnapshot("orders", BreakerState.OPEN, 5, 5, 17.5),
        ),
    )


def stale_snapshot() -> EngineSnapshot:
    """The feed went quiet: every quote is old, and the data-quality gate says so."""
    snapshot = frozen_snapshot()
    ages = {"BTC/USD": 12.8, "ETH/USD": 9.1, "SOL/USD": 41.0}
    quotes = {
        symbol: dataclasses.replace(quote, received_at=FIXED_NOW - ages[symbol])
        for symbol, quote in snapshot.quotes.items()
    }
    stale = GateResult("data_quality", False, "QUOTE_STALE", 12.8, 5.0)
    gates = tuple(stale if gate.gate == "data_quality" else gate for gate in snapshot.gates)
    return dataclasses.replace(
        snapshot,
        quotes=quotes,
        gates=gates,
        last_rejections={**snapshot.last_rejections, "data_quality": stale},
    )


class FrozenEngine:
    """Implements the engine contract over a fixed snapshot; records the commands it received.

    Trading-state commands go through the engine's own TradingStateMachine, so a console test
    meets exactly the engine's rules and refusals."""

    def __init__(self, snapshot: EngineSnapshot | None = None) -> None:
        self.current = snapshot if snapshot is not None else frozen_snapshot()
        self._trading = TradingStateMachine(self.current.state, self._state_changed)
        """The engine's own trading-state rules, so the console meets the same refusals."""
        self.commands: list[str] = []
        self.started = False
        self.stopped = False

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    def snapshot(self) -> EngineSnapshot:
        return self.current

    def halt(self) -> None:
        self._trading.halt()

    async def kill(self) -> None:
        self.commands.append("kill")
        self._trading.halt()
        self._replace(open_orders=())

    async def pause(self) -> None:
        self.commands.append("pause")
        self._trading.pause()

    async def resume(self) -> None:
        self.commands.append("resume")
        self._trading.resume()

    async def toggle_pause(self) -> None:
        self.commands.append("toggle_pause")
        self._trading.toggle_pause()

    async def release(self, confirmed: bool = False) -> None:
        self.commands.append(f"release confirmed={confirmed}")
        self._trading.release(confirmed)

    async def flatten(self, confirmed: bool = False) -> bool:
        self.commands.append(f"flatten confirmed={confirmed}")
        require_confirmation("flatten", confirmed)
        self._trading.halt()
        self._replace(open_orders=(), positions={})
        return True

    async def cancel_order(self, client_id: str) -> bool:
        self.commands.append(f"cancel_order {client_id}")
        remaining = tuple(o for o in self.current.open_orders if o.client_id != client_id)
        canceled = len(remaining) < len(self.current.open_orders)
        self._replace(open_orders=remaining)
        return canceled

    async def cancel_all(self) -> CancelReport:
        self.commands.append("cancel_all")
        canceled = tuple(o.client_id for o in self.current.open_orders)
        self._replace(open_orders=())
        return CancelReport(canceled)

    async def set_mode(self, mode: Mode) -> None:
        self.commands.append(f"set_mode {mode.value}")
        self._replace(mode=mode)

    def live_target(self) -> str:
        return "account 'sim-main' on venue sim (127.0.0.1:8901)"

    def _state_changed(self, previous: TradingState, state: TradingState) -> None:
        self._replace(state=state)

    def _replace(self, **changes: object) -> None:
        self.current = dataclasses.replace(self.current, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class FrozenLogLine:
    """A log line with fixed content, shaped like tradetui.logs.LogLine."""

    seq: int
    ts: float
    level: str
    logger: str
    message: str


class FrozenLogSink:
    """A log source with a fixed set of lines."""

    def __init__(self) -> None:
        self._lines = [
            FrozenLogLine(1, FIXED_NOW - 20, "INFO", "tradetui.engine", "engine started"),
            FrozenLogLine(2, FIXED_NOW - 9, "WARNING", "tradetui.risk", "SOL/USD quote is stale"),
            FrozenLogLine(3, FIXED_NOW - 2, "ERROR", "tradetui.orders", "orders breaker open"),
        ]

    def lines(self, after_seq: int = 0) -> list[FrozenLogLine]:
        return [line for line in self._lines if line.seq > after_seq]

    @property
    def last_seq(self) -> int:
        return self._lines[-1].seq
