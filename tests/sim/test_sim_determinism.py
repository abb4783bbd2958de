"""Same seed and same order flow give the same market: trades, books, fills and ids."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tradetui.sim.scenario import FlashCrash
from tradetui.sim.venue.exchange import SimExchange
from tradetui.sim.venue.order_params import build_request

START = 1_800_000_000.0
ORDER_FLOW: dict[int, tuple[str, str, str, str, str | None]] = {
    # tick: (pair, side, ordertype, volume, price)
    3: ("XXBTZUSD", "buy", "market", "0.05", None),
    8: ("XETHZUSD", "sell", "limit", "0.5", "3001"),
    12: ("SOLUSD", "buy", "limit", "3", "149.9"),
    20: ("XXBTZUSD", "sell", "market", "0.02", None),
    35: ("XXRPZUSD", "buy", "market", "500", None),
}


def _run(seed: int, ticks: int = 60, crash: bool = False) -> dict[str, Any]:
    clock = [START]
    exchange = SimExchange(
        seed, clock=lambda: clock[0], flash_crash=FlashCrash(start_tick=20) if crash else None
    )
    account = exchange.main_account
    for tick in range(ticks):
        clock[0] += 0.25
        exchange.tick()
        if tick in ORDER_FLOW:
            pair_id, side, ordertype, volume, price = ORDER_FLOW[tick]
            pair = exchange.instruments.pairs[pair_id]
            request = build_request(pair, side, ordertype, Decimal(volume), price)
            exchange.engine.place(account, request)
    return {
        "tapes": {pid: list(pm.tape.trades) for pid, pm in exchange.market.pairs.items()},
        "books": {
            pid: (pm.top(True, 100), pm.top(False, 100))
            for pid, pm in exchange.market.pairs.items()
        },
        "candles": {pid: list(pm.tape.candles) for pid, pm in exchange.market.pairs.items()},
        "fills": list(account.fills),
        "orders": [(o.txid, o.status, o.vol_exec, o.cost) for o in account.orders.values()],
        "balances": dict(account.balances),
    }


def test_same_seed_and_orders_give_identical_trades_and_books() -> None:
    first, second = _run(11), _run(11)
    assert first["fills"], "the order flow must trade for this test to mean anything"
    assert len(first["orders"]) == len(ORDER_FLOW)
    assert first == second


def test_same_seed_with_the_flash_crash_is_deterministic_too() -> None:
    assert _run(11, crash=True) == _run(11, crash=True)


def test_another_seed_gives_another_market() -> None:
    first, other = _run(11), _run(12)
    assert first["tapes"] != other["tapes"]
    assert first["books"] != other["books"]
