"""A user strategy loaded from a file trades the simulator, every order through the risk guard."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

from tests.conftest import wait_until
from tradetui.config import load_settings
from tradetui.core.engine import Engine
from tradetui.core.model import Mode, OrderStatus
from tradetui.core.risk import GATE_NAMES

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "strategies" / "momentum.py"


def audit_rows(engine: Engine, strategy: str) -> list[tuple[str, str | None, str]]:
    with sqlite3.connect(engine.paths.database) as db:
        return db.execute(
            "SELECT side, client_id, gates FROM audit WHERE strategy = ? ORDER BY id", (strategy,)
        ).fetchall()


async def test_the_example_momentum_file_trades_through_the_risk_guard(
    make_engine: Callable[..., Engine],
) -> None:
    settings = load_settings(
        None,
        strategy={"enabled": False, "interval_s": 0.2},
        strategies=[
            {
                "path": str(EXAMPLE),
                "symbols": ["BTC/USD", "ETH/USD"],
                "budget": 800,
                "params": {"lookback": 2, "threshold_bps": 0, "order_notional": 150},
            }
        ],
    )
    engine = make_engine(settings)
    await engine.start()
    try:

        def momentum_sold() -> bool:
            return any(
                o.strategy == "momentum" and o.side.value == "sell" and o.filled > 0
                for o in engine.snapshot().recent_orders
            )

        # A sell needs the strategy's own position, which only its routed fills build.
        await wait_until(momentum_sold, within_s=40, what="momentum to buy and then sell")
        await wait_until(
            lambda: set(engine.snapshot().signals) == set(settings.symbols),
            what="a signal for every symbol (the Markets pane shows them)",
        )
    finally:
        await engine.stop()
    rows = audit_rows(engine, "momentum")
    assert {side for side, client_id, _ in rows if client_id} == {"buy", "sell"}
    for _, _, gates in rows:
        verdicts = json.loads(gates)
        # Judged by the guard: every gate ran, or the chain stopped at a rejection.
        assert [g["gate"] for g in verdicts] == list(GATE_NAMES[: len(verdicts)])
        assert all(g["passed"] for g in verdicts[:-1])


CANCELLER = """
from decimal import Decimal
from tradetui.core.strategies import CancelOrder, Strategy


class RestThenCancel(Strategy):
    name = "rest-then-cancel"

    def __init__(self, params, context):
        super().__init__(params, context)
        self.placed = False

    def on_snapshot(self, view):
        symbol = view.symbols[0]
        if view.open_orders:
            return [CancelOrder(o.client_id) for o in view.open_orders]
        mid = view.mid(symbol)
        if self.placed or mid is None:
            return []
        self.placed = True
        price = self.price_at(symbol, mid * 0.98)
        return [self.buy(symbol, self.amount_for(symbol, 100, float(price)), price, 0.9)]
"""


async def test_a_strategy_cancels_its_own_resting_order(
    make_engine: Callable[..., Engine], tmp_path: Path
) -> None:
    script = tmp_path / "canceller.py"
    script.write_text(CANCELLER)
    settings = load_settings(
        None,
        strategy={"enabled": False, "interval_s": 0.2},
        strategies=[{"path": str(script), "symbols": ["SOL/USD"]}],
    )
    engine = make_engine(settings)
    await engine.start()
    try:
        await wait_until(
            lambda: any(
                o.strategy == "rest-then-cancel" and o.status is OrderStatus.CANCELED
                for o in engine.snapshot().recent_orders
            ),
            within_s=30,
            what="the strategy's resting order to be canceled",
        )
        assert engine.snapshot().open_orders == ()
        assert engine.snapshot().mode is Mode.PAPER
    finally:
        await engine.stop()
