"""Provides SyntheticEngine: the engine contract over generated snapshots of 20 symbols, so the
frame benchmark times the console alone."""

from __future__ import annotations

import random

# Runs our own interpreter with fixed arguments.
from decimal import Decimal

from tradetui.core.model import (
    Balance,
    BreakerSnapshot,
    BreakerState,
    CancelReport,
    EngineSnapshot,
    GateResult,
    Mode,
    Order,
    OrderStatus,
    OrderType,
    Position,
    Quote,
    Side,
    TradingState,
)
from tradetui.core.services.trend import TREND_BUCKET_S, TREND_POINTS, TrendHistory

SNAPSHOT_INTERVAL_S = 0.1
"""Engine clock step between synthetic snapshots: the app's fastest refresh rate."""
_MID_PRICES = {
    "BTC/USD": 64_250.0, "ETH/USD": 3_120.0, "SOL/USD": 142.3, "XRP/USD": 0.52,
    "ADA/USD": 0.45, "DOGE/USD": 0.16, "DOT/USD": 7.2, "LINK/USD": 14.5,
    "LTC/USD": 82.0, "AVAX/USD": 36.0, "ATOM/USD": 9.1, "UNI/USD": 7.8,
    "XLM/USD": 0.11, "BCH/USD": 470.0, "ETC/USD": 27.0, "FIL/USD": 5.9,
    "AAVE/USD": 92.0, "ALGO/USD": 0.19, "NEAR/USD": 5.4, "TRX/USD": 0.12,
}  # fmt: skip
_POSITIONS = {"BTC/USD": "0.015", "ETH/USD": "0.2", "SOL/USD": "4.5", "LINK/USD": "60"}
_START_EQUITY = 10_000.0
_CASH = 2_500.0


class SyntheticEngine:
    """The engine contract over generated snapshots of 20 symbols, for the frame benchmark.

    `snapshot()` is as cheap as the engine's (it returns a prebuilt frozen snapshot);
    `advance()` builds the next one, 0.1 s later, with every quote moved, so the benchmark can
    build it outside the timed window. Commands are accepted and ignored.
    """

    def __init__(self, seed: int = 7) -> None:
        # Simulated market or benchmark data, not security.
        self._rng = random.Random(seed)  # nosec B311
        self._mids = dict(_MID_PRICES)
        self._entries = {symbol: Decimal(str(self._mids[symbol])) for symbol in _POSITIONS}
        self._taken_at = 1_767_225_600.0  # 2026-01-01 00:00 UTC
        self._trends = TrendHistory()
        # Half a minute of history, so that every sparkline is full from the first snapshot on.
        for step in range(TREND_POINTS, 0, -1):
            for symbol, mid in self._mids.items():
                noisy_mid = mid * (1 + self._rng.gauss(0, 2e-3))
                self._trends.record(symbol, noisy_mid, self._taken_at - step * TREND_BUCKET_S)
        self._orders = tuple(
            self._order(i, symbol) for i, symbol in enumerate(list(_MID_PRICES)[:6])
        )
        self.current = self._build()
        """The snapshot `snapshot()` returns."""

    def advance(self) -> EngineSnapshot:
        """Move every quote and the clock on by one update; returns the new snapshot."""
        self._taken_at += SNAPSHOT_INTERVAL_S
        for symbol, mid in self._mids.items():
            self._mids[symbol] = mid * (1 + self._rng.gauss(0, 3e-4))
        self.current = self._build()
        return self.current

    def _build(self) -> EngineSnapshot:
        now, rng = self._taken_at, self._rng
        quotes: dict[str, Quote] = {}
        for symbol, mid in self._mids.items():
            self._trends.record(symbol, mid, now)
            half_spread = mid * rng.uniform(0.5e-4, 2e-4)
            bid, ask = mid - half_spread, mid + half_spread
            last = bid if rng.random() < 0.5 else ask
            volumes = (rng.uniform(0.1, 50), rng.uniform(0.1, 50))
            quotes[symbol] = Quote(symbol, bid, ask, last, *volumes, now - rng.uniform(0.01, 0.3))
        positions: dict[str, Position] = {}
        for symbol, amount in _POSITIONS.items():
            mark, entry = self._mids[symbol], self._entries[symbol]
            unrealized = float(Decimal(amount)) * (mark - float(entry))
            positions[symbol] = Position(
                symbol, Decimal(amount), entry, Decimal("1.25"), mark, unrealized
            )
        equity = _CASH + sum(position.notional for position in positions.values())
        oldest_quote_s = max(now - quote.received_at for quote in quotes.values())
        return EngineSnapshot(
            taken_at=now,
            state=TradingState.ACTIVE,
            mode=Mode.PAPER,
            venue="sim (127.0.0.1:8901)",
            connected=True,
            symbols=tuple(self._mids),
            quotes=quotes,
            balances=self._balances(positions),
            positions=positions,
            open_orders=self._orders,
            recent_orders=(),
            gates=(
                GateResult("trading_state", True, "OK"),
                GateResult("circuit_breaker", True, "OK"),
                GateResult("market_status", True, "OK"),
                GateResult("data_quality", True, "OK", oldest_quote_s, 5.0),
                GateResult("order_sanity", True, "OK", 0.4, 5.0),
                GateResult("position_count", False, "TOO_MANY_POSITIONS", 4.0, 3.0),
                GateResult("position_size", True, "OK", 12.2, 20.0),
                GateResult("min_balance", True, "OK", _CASH, 10.0),
                GateResult("signal_confidence", True, "OK", 0.8, 0.6, floor=True),
            ),
            last_rejections={
                "position_count": GateResult(
                    "position_count", False, "TOO_MANY_POSITIONS", 4.0, 3.0
                ),
            },
            breakers=(
                BreakerSnapshot("market_data", BreakerState.CLOSED, 0, 5, 0.0),
                BreakerSnapshot("account", BreakerState.CLOSED, 0, 5, 0.0),
                BreakerSnapshot("orders", BreakerState.HALF_OPEN, 2, 5, 0.0),
            ),
            equity=equity,
            day_pnl=equity - _START_EQUITY,
            trends=self._trends.all_points(),
        )

    def _balances(self, positions: dict[str, Position]) -> dict[str, Balance]:
        cash = Decimal(str(_CASH))
        balances = {"USD": Balance("USD", cash, Decimal(0), cash)}
        for symbol, position in positions.items():
            base = symbol.split("/")[0]
            balances[base] = Balance(base, position.amount, Decimal(0), position.amount)
        return balances

    def _order(self, index: int, symbol: str) -> Order:
        side = Side.BUY if index % 2 == 0 else Side.SELL
        offset = 0.98 if side is Side.BUY else 1.02
        return Order(
            client_id=f"pulse-{index:04d}-{index * 7919:08x}",
            symbol=symbol,
            side=side,
            order_type=OrderType.LIMIT,
            amount=Decimal("0.5"),
            price=Decimal(f"{self._mids[symbol] * offset:.6g}"),
            mode=Mode.PAPER,
            strategy="pulse",
            status=OrderStatus.OPEN,
            created_at=self._taken_at - 60 + index,
        )

    def snapshot(self) -> EngineSnapshot:
        return self.current

    async def start(self) -> None:
        pass  # connected from the first snapshot on

    async def stop(self) -> None:
        pass

    def halt(self) -> None:
        pass

    async def kill(self) -> None:
        pass

    async def pause(self) -> None:
        pass

    async def resume(self) -> None:
        pass

    async def toggle_pause(self) -> None:
        pass

    async def release(self, confirmed: bool = False) -> None:
        pass

    async def flatten(self, confirmed: bool = False) -> bool:
        return False

    async def cancel_order(self, client_id: str) -> bool:
        return False

    async def cancel_all(self) -> CancelReport:
        return CancelReport()

    async def set_mode(self, mode: Mode) -> None:
        pass

    def live_target(self) -> str:
        return "nowhere: a synthetic benchmark engine"
