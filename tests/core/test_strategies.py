"""Tests the strategy API: the host's screening and fill routing, and each built-in's behaviour."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.core.markets import BTC
from tradetui.config import load_settings
from tradetui.core.model import (
    EngineSnapshot,
    Fill,
    MarketInfo,
    Mode,
    Order,
    OrderBook,
    OrderIntent,
    OrderStatus,
    OrderType,
    Position,
    PublicTrade,
    Quote,
    Side,
    Signal,
    SignalKind,
    SpreadClass,
    TradingState,
    VolumeClass,
)
from tradetui.core.services.signals import SignalState, TradeTape, compute_signals
from tradetui.core.strategies import (
    BUILTINS,
    Action,
    CancelOrder,
    Strategy,
    StrategyContext,
    StrategyHost,
    StrategyPosition,
    StrategySpec,
    StrategyView,
    resolve_strategies,
)
from tradetui.core.strategies.crossover import CrossoverStrategy, MovingAverage
from tradetui.core.strategies.grid import GridStrategy
from tradetui.core.strategies.intel import IntelStrategy
from tradetui.core.strategies.pulse import PulseStrategy

ETH = MarketInfo(
    "ETH/USD", "ETH", "USD", Decimal("0.00000001"), Decimal("0.01"), Decimal("0.001"), Decimal(1)
)
MARKETS = {"BTC/USD": BTC, "ETH/USD": ETH}
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "strategies" / "momentum.py"


def quote(symbol: str, mid: float, half_spread: float = 0.5) -> Quote:
    return Quote(symbol, mid - half_spread, mid + half_spread, mid, 1.0, 1.0, received_at=0.0)


def snapshot(
    mids: dict[str, float],
    held: dict[str, Decimal] | None = None,
    open_orders: Sequence[Order] = (),
) -> EngineSnapshot:
    positions = {
        s: Position(s, amount, Decimal(0), Decimal(0), mids.get(s), 0.0)
        for s, amount in (held or {}).items()
    }
    return EngineSnapshot(
        taken_at=100.0,
        state=TradingState.ACTIVE,
        mode=Mode.PAPER,
        venue="test",
        connected=True,
        symbols=tuple(mids),
        quotes={s: quote(s, m) for s, m in mids.items()},
        balances={},
        positions=positions,
        open_orders=tuple(open_orders),
        recent_orders=(),
        gates=(),
        last_rejections={},
        breakers=(),
        equity=10_000.0,
        day_pnl=0.0,
    )


def view(
    mids: dict[str, float],
    positions: dict[str, tuple[str, str]] | None = None,
    open_orders: Sequence[Order] = (),
    signals: dict[str, Signal] | None = None,
    symbols: tuple[str, ...] | None = None,
) -> StrategyView:
    """A view with positions given as (amount, average entry) strings."""
    return StrategyView(
        now=100.0,
        state=TradingState.ACTIVE,
        mode=Mode.PAPER,
        symbols=symbols or tuple(mids),
        quotes={s: quote(s, m) for s, m in mids.items()},
        books={},
        signals=signals or {},
        positions={
            s: StrategyPosition(s, Decimal(a), Decimal(e), Decimal(0))
            for s, (a, e) in (positions or {}).items()
        },
        open_orders=tuple(open_orders),
        budget_left=None,
        equity=10_000.0,
    )


def context(
    symbols: tuple[str, ...] = ("BTC/USD",), budget: float | None = None
) -> StrategyContext:
    return StrategyContext("test", symbols, MARKETS, budget)


def order(
    client_id: str,
    side: Side,
    amount: str,
    price: str | None = None,
    strategy: str = "scripted",
    symbol: str = "BTC/USD",
) -> Order:
    return Order(
        client_id,
        symbol,
        side,
        OrderType.LIMIT if price else OrderType.MARKET,
        Decimal(amount),
        Decimal(price) if price else None,
        Mode.PAPER,
        strategy,
        OrderStatus.OPEN,
    )


def fill_of(placed: Order, amount: str, price: str, fill_id: str = "f1") -> Fill:
    return Fill(
        fill_id,
        placed.client_id,
        placed.symbol,
        placed.side,
        Decimal(amount),
        Decimal(price),
        Decimal(0),
        "USD",
        Mode.PAPER,
        0.0,
    )


def intents(actions: Sequence[Action]) -> list[OrderIntent]:
    return [a for a in actions if isinstance(a, OrderIntent)]


# ----------------------------------------------------------------- the host


class Scripted(Strategy[Any]):
    """Returns whatever the test scripts; records the fills it hears of."""

    name = "scripted"

    def __init__(self, params: Any, context: StrategyContext) -> None:
        super().__init__(params, context)
        self.script: list[Action] = []
        self.fills: list[tuple[Fill, Order]] = []
        self.views: list[StrategyView] = []

    def on_snapshot(self, view: StrategyView) -> Sequence[Action]:
        self.views.append(view)
        return self.script

    def on_fill(self, fill: Fill, order: Order) -> Sequence[Action]:
        self.fills.append((fill, order))
        return []


class Broken(Strategy[Any]):
    name = "broken"

    def on_snapshot(self, view: StrategyView) -> Sequence[Action]:
        raise RuntimeError("bug in a user strategy")


def host_with(
    *specs: tuple[str, type[Strategy[Any]], float | None],
) -> tuple[StrategyHost, list[Strategy[Any]]]:
    host = StrategyHost(
        [StrategySpec(sid, cls, cls.Params(), ("BTC/USD",), budget) for sid, cls, budget in specs],
        MARKETS,
    )
    return host, [running.strategy for running in host._running.values()]


def test_intents_carry_the_strategys_id_and_cannot_flatten_or_buy_reduce_only() -> None:
    host, [strategy] = host_with(("scripted", Scripted, None))
    assert isinstance(strategy, Scripted)
    strategy.script = [
        OrderIntent(
            "BTC/USD",
            Side.BUY,
            Decimal("0.001"),
            strategy="kill-switch",
            confidence=0.9,
            reduce_only=True,
            flatten=True,
        )
    ]
    [screened] = intents(host.tick(snapshot({"BTC/USD": 60_000}), {}, {}))
    assert screened.strategy == "scripted"
    assert not screened.flatten
    assert not screened.reduce_only  # a buy never skips the exposure gates


def test_a_buy_over_budget_is_clipped_and_one_with_the_budget_spent_refused() -> None:
    host, [strategy] = host_with(("scripted", Scripted, 300.0))
    assert isinstance(strategy, Scripted)
    strategy.script = [OrderIntent("BTC/USD", Side.BUY, Decimal("0.01"), confidence=0.9)]
    [clipped] = intents(host.tick(snapshot({"BTC/USD": 60_000}), {}, {}))
    assert clipped.amount == Decimal("0.00499995")  # 300 / 60000.5 (the ask), on the step
    # With its own buy of 300 resting, nothing is left.
    resting = order("o1", Side.BUY, "0.005", "60000")
    host.record_order(resting)
    assert host.tick(snapshot({"BTC/USD": 60_000}, open_orders=[resting]), {}, {}) == []
    assert host.refusals["BUDGET"] == 1
    assert strategy.views[-1].budget_left == pytest.approx(0.0)


def test_the_budget_counts_what_the_position_cost() -> None:
    host, [strategy] = host_with(("scripted", Scripted, 300.0))
    assert isinstance(strategy, Scripted)
    bought = order("o1", Side.BUY, "0.004")
    host.record_order(bought)
    host.queue_fill(fill_of(bought, "0.004", "50000"))
    strategy.script = [OrderIntent("BTC/USD", Side.BUY, Decimal("0.01"), confidence=0.9)]
    [clipped] = intents(
        host.tick(snapshot({"BTC/USD": 60_000}, held={"BTC/USD": Decimal("0.004")}), {}, {})
    )
    assert float(clipped.amount) == pytest.approx(100 / 60_000.5, abs=1e-8)


def test_sells_are_clipped_to_the_strategys_own_holdings() -> None:
    host, [strategy] = host_with(("scripted", Scripted, None))
    assert isinstance(strategy, Scripted)
    strategy.script = [OrderIntent("BTC/USD", Side.SELL, Decimal("0.01"), confidence=0.9)]
    account = {"BTC/USD": Decimal("0.01")}  # someone else's coins
    assert host.tick(snapshot({"BTC/USD": 60_000}, held=account), {}, {}) == []
    assert host.refusals["NO_HOLDINGS"] == 1
    bought = order("o1", Side.BUY, "0.002")
    host.record_order(bought)
    host.queue_fill(fill_of(bought, "0.002", "60000"))
    [sell] = intents(host.tick(snapshot({"BTC/USD": 60_000}, held=account), {}, {}))
    assert sell.amount == Decimal("0.002")


def test_nonsense_and_foreign_symbols_never_reach_the_risk_guard() -> None:
    host, [strategy] = host_with(("scripted", Scripted, None))
    assert isinstance(strategy, Scripted)
    strategy.script = [
        OrderIntent("ETH/USD", Side.BUY, Decimal("0.1"), confidence=0.9),  # not its symbol
        OrderIntent("BTC/USD", Side.BUY, Decimal("NaN"), confidence=0.9),
        OrderIntent("BTC/USD", Side.BUY, Decimal("0"), confidence=0.9),
        OrderIntent("BTC/USD", Side.BUY, Decimal("-1"), confidence=0.9),
        OrderIntent("BTC/USD", Side.BUY, Decimal("0.001"), OrderType.LIMIT, None),
        OrderIntent("BTC/USD", Side.BUY, Decimal("0.001"), OrderType.LIMIT, Decimal("Infinity")),
        OrderIntent("BTC/USD", Side.BUY, Decimal("0.001"), confidence=math.nan),
        OrderIntent("BTC/USD", Side.BUY, Decimal("0.001"), confidence=1.5),
    ]
    assert host.tick(snapshot({"BTC/USD": 60_000}), {}, {}) == []
    assert host.refusals["INVALID"] == len(strategy.script)


def test_a_runaway_strategy_is_cut_off_after_fifty_actions_a_tick() -> None:
    host, [strategy] = host_with(("scripted", Scripted, None))
    assert isinstance(strategy, Scripted)
    strategy.script = [OrderIntent("BTC/USD", Side.BUY, Decimal("0.001"))] * 60
    assert len(host.tick(snapshot({"BTC/USD": 60_000}), {}, {})) == 50
    assert host.refusals["TOO_MANY"] == 1


def test_a_failing_strategy_does_not_stop_the_others() -> None:
    host, [_, strategy] = host_with(("broken", Broken, None), ("scripted", Scripted, None))
    assert isinstance(strategy, Scripted)
    strategy.script = [OrderIntent("BTC/USD", Side.BUY, Decimal("0.001"), confidence=0.9)]
    [survivor] = intents(host.tick(snapshot({"BTC/USD": 60_000}), {}, {}))
    assert survivor.strategy == "scripted"


class Meddler(Strategy[Any]):
    name = "meddler"

    def on_snapshot(self, view: StrategyView) -> Sequence[Action]:
        for meddle in (
            lambda: self.context.markets.pop("BTC/USD"),  # type: ignore[attr-defined]
            lambda: view.quotes.clear(),  # type: ignore[attr-defined]
            lambda: view.signals.clear(),  # type: ignore[attr-defined]
        ):
            with pytest.raises(TypeError):
                meddle()
        return []


def test_what_a_strategy_is_shown_is_read_only() -> None:
    host, [_, strategy] = host_with(("meddler", Meddler, None), ("scripted", Scripted, None))
    assert isinstance(strategy, Scripted)
    signals = {"BTC/USD": signal(SignalKind.BUY, 0.8)}
    host.tick(snapshot({"BTC/USD": 60_000}), {}, signals)
    assert "BTC/USD" in MARKETS and "BTC/USD" in signals
    assert "BTC/USD" in strategy.views[-1].quotes


def test_a_fill_reaches_only_the_strategy_that_owns_the_order_and_only_once() -> None:
    host, [first, second] = host_with(("first", Scripted, None), ("second", Scripted, None))
    assert isinstance(first, Scripted) and isinstance(second, Scripted)
    mine = order("o1", Side.BUY, "0.002", "59000", strategy="first")
    host.record_order(mine)
    done = fill_of(mine, "0.002", "59000")
    host.queue_fill(done)
    host.queue_fill(done)  # the same fill twice (stream and REST both brought it)
    host.queue_fill(fill_of(order("x", Side.BUY, "1"), "1", "1", "f2"))  # nobody's order
    held = {"BTC/USD": Decimal("0.002")}
    host.tick(snapshot({"BTC/USD": 60_000}, held=held), {}, {})
    assert [(f.fill_id, o.client_id) for f, o in first.fills] == [("f1", "o1")]
    assert first.fills[0][1] is not mine  # a copy: the strategy cannot change the engine's order
    assert second.fills == []
    assert first.views[-1].held("BTC/USD") == Decimal("0.002")
    assert second.views[-1].held("BTC/USD") == 0


def test_a_strategy_may_cancel_only_its_own_orders() -> None:
    host, [strategy] = host_with(("scripted", Scripted, None))
    assert isinstance(strategy, Scripted)
    mine = order("o1", Side.BUY, "0.001", "59000", strategy="scripted")
    theirs = order("o2", Side.BUY, "0.001", "59000", strategy="pulse")
    strategy.script = [CancelOrder("o1"), CancelOrder("o2")]
    actions = host.tick(snapshot({"BTC/USD": 60_000}, open_orders=[mine, theirs]), {}, {})
    assert actions == [CancelOrder("o1")]
    assert host.refusals["NOT_OWNED"] == 1
    assert [o.client_id for o in strategy.views[-1].open_orders] == ["o1"]


def test_restore_rebuilds_each_strategys_position_from_the_store() -> None:
    host, [strategy] = host_with(("scripted", Scripted, None))
    assert isinstance(strategy, Scripted)
    bought = order("o1", Side.BUY, "0.003", strategy="scripted")
    other = order("o2", Side.BUY, "0.5", strategy="pulse")
    host.restore([bought, other], [fill_of(bought, "0.003", "60000"), fill_of(other, "0.5", "1")])
    host.tick(snapshot({"BTC/USD": 60_000}, held={"BTC/USD": Decimal("1")}), {}, {})
    position = strategy.views[-1].positions["BTC/USD"]
    assert (position.amount, position.average_entry) == (Decimal("0.003"), Decimal("60000"))


def test_a_position_sold_by_someone_else_is_capped_at_the_account_holding() -> None:
    host, [strategy] = host_with(("scripted", Scripted, None))
    assert isinstance(strategy, Scripted)
    bought = order("o1", Side.BUY, "0.003")
    host.record_order(bought)
    host.queue_fill(fill_of(bought, "0.003", "60000"))
    host.tick(snapshot({"BTC/USD": 60_000}, held={}), {}, {})  # the kill switch flattened it
    assert strategy.views[-1].held("BTC/USD") == 0


# ----------------------------------------------------------------- pulse


def test_pulse_buys_when_flat_rests_a_bid_and_sells_what_it_holds() -> None:
    pulse = PulseStrategy(PulseStrategy.Params(), context(("BTC/USD", "ETH/USD")))
    flat = view({"BTC/USD": 60_000, "ETH/USD": 3_000})
    market_buy, resting = intents(pulse.on_snapshot(flat))
    assert (market_buy.symbol, market_buy.side, market_buy.order_type) == (
        "BTC/USD",
        Side.BUY,
        OrderType.MARKET,
    )
    assert market_buy.amount == Decimal("0.00333330")  # 200 / 60000.5 on the 1e-8 step
    assert resting.order_type is OrderType.LIMIT and resting.price == Decimal("59909.5")
    holding = view({"BTC/USD": 60_000, "ETH/USD": 3_000}, {"ETH/USD": ("0.05", "3000")})
    [sell, _] = intents(pulse.on_snapshot(holding))  # its second turn: ETH
    assert (sell.symbol, sell.side, sell.amount) == ("ETH/USD", Side.SELL, Decimal("0.05"))


# ----------------------------------------------------------------- crossover


def test_moving_averages() -> None:
    sma, ema = MovingAverage(3, "sma"), MovingAverage(3, "ema")
    for value in (1.0, 2.0, 3.0, 4.0):
        sma.add(value)
        ema.add(value)
    assert sma.value == 3.0
    assert ema.value == 3.125  # alpha 0.5 from a seed of 1: 1.5, 2.25, 3.125
    assert MovingAverage(5, "sma").value is None


def test_crossover_params_need_fast_below_slow() -> None:
    with pytest.raises(ValidationError, match="fast"):
        CrossoverStrategy.Params(fast=5, slow=5)


@pytest.mark.parametrize("average", ["sma", "ema"])
def test_crossover_buys_the_golden_cross_and_sells_the_death_cross(average: str) -> None:
    params = CrossoverStrategy.Params(fast=2, slow=4, average=average, take_profit_pct=50)
    strategy = CrossoverStrategy(params, context())
    buys: list[OrderIntent] = []
    for mid in (100, 99, 98, 97, 96, 95):
        assert strategy.on_snapshot(view({"BTC/USD": mid})) == []  # falling: no cross up
    for mid in (99, 104, 106):
        buys += intents(strategy.on_snapshot(view({"BTC/USD": mid})))
    [buy] = buys
    assert (buy.side, buy.order_type, buy.confidence) == (Side.BUY, OrderType.MARKET, 0.8)
    sells: list[OrderIntent] = []
    for mid in (104, 100, 95, 90):
        sells += intents(strategy.on_snapshot(view({"BTC/USD": mid}, {"BTC/USD": ("0.002", "0")})))
    [sell] = sells
    assert (sell.side, sell.amount, sell.reduce_only) == (Side.SELL, Decimal("0.002"), True)


def test_crossover_stop_loss_and_take_profit_sell_everything() -> None:
    params = CrossoverStrategy.Params(stop_loss_pct=2, take_profit_pct=3)
    holding = {"BTC/USD": ("0.002", "100")}
    strategy = CrossoverStrategy(params, context())
    assert strategy.on_snapshot(view({"BTC/USD": 98.5}, holding)) == []
    [stop] = intents(strategy.on_snapshot(view({"BTC/USD": 97.9}, holding)))
    [take] = intents(strategy.on_snapshot(view({"BTC/USD": 103.1}, holding)))
    for exit_intent in (stop, take):
        assert (exit_intent.side, exit_intent.amount, exit_intent.confidence) == (
            Side.SELL,
            Decimal("0.002"),
            1.0,
        )


# ----------------------------------------------------------------- grid


def grid_strategy(**params: Any) -> GridStrategy:
    return GridStrategy(GridStrategy.Params(**params), context())


def test_grid_rests_buys_at_each_level_below_the_mid() -> None:
    grid = grid_strategy(levels=3, spacing_bps=20, order_notional=120)
    buys = intents(grid.on_snapshot(view({"BTC/USD": 60_000})))
    assert [b.price for b in buys] == [Decimal("59880.0"), Decimal("59760.0"), Decimal("59640.0")]
    assert all(b.side is Side.BUY and b.order_type is OrderType.LIMIT for b in buys)
    assert buys[0].amount == Decimal("0.00200400")  # 120 / 59880


def test_grid_sells_a_filled_level_one_step_up_then_buys_it_again() -> None:
    grid = grid_strategy(levels=2, spacing_bps=20)
    first = intents(grid.on_snapshot(view({"BTC/USD": 60_000})))
    level_1 = order("b1", Side.BUY, str(first[0].amount), str(first[0].price))
    level_2 = order("b2", Side.BUY, str(first[1].amount), str(first[1].price))
    [sell] = intents(grid.on_fill(fill_of(level_1, "0.001", "59880.0"), level_1))
    assert (sell.side, sell.price, sell.amount) == (Side.SELL, Decimal("60000.0"), Decimal("0.001"))
    # The same tick: the sell is not visible yet, and must not be sent twice.
    assert grid.on_snapshot(view({"BTC/USD": 59_900}, open_orders=[level_2])) == []
    resting_sell = order("s1", Side.SELL, "0.001", "60000.0")
    assert grid.on_snapshot(view({"BTC/USD": 59_900}, open_orders=[level_2, resting_sell])) == []
    [refill] = intents(grid.on_fill(fill_of(resting_sell, "0.001", "60000.0", "f2"), resting_sell))
    assert (refill.side, refill.price) == (Side.BUY, Decimal("59880.0"))


def test_grid_sends_again_what_was_refused() -> None:
    grid = grid_strategy(levels=2)
    first = intents(grid.on_snapshot(view({"BTC/USD": 60_000})))
    again = intents(grid.on_snapshot(view({"BTC/USD": 60_000})))  # nothing came to rest
    assert [i.price for i in again] == [i.price for i in first]


def test_grid_stop_cancels_its_orders_sells_everything_and_stops() -> None:
    grid = grid_strategy(levels=2, spacing_bps=20, stop_loss_pct=3)
    grid.on_snapshot(view({"BTC/USD": 60_000}))
    resting = order("b2", Side.BUY, "0.001", "59760.0")
    crashed = view({"BTC/USD": 57_000}, {"BTC/USD": ("0.001", "59880")}, [resting])
    actions = grid.on_snapshot(crashed)
    assert CancelOrder("b2") in actions
    [sell] = intents(actions)
    assert (sell.side, sell.order_type, sell.amount) == (
        Side.SELL,
        OrderType.MARKET,
        Decimal("0.001"),
    )
    assert grid.on_snapshot(view({"BTC/USD": 60_000})) == []  # stopped


def test_grid_take_profit_sells_everything() -> None:
    grid = grid_strategy(levels=1, take_profit_pct=2)
    grid.on_snapshot(view({"BTC/USD": 60_000}))
    [sell] = intents(grid.on_snapshot(view({"BTC/USD": 61_300}, {"BTC/USD": ("0.003", "59880")})))
    assert (sell.side, sell.amount) == (Side.SELL, Decimal("0.003"))


def test_grid_takes_down_orders_an_earlier_session_left() -> None:
    grid = grid_strategy(levels=1)
    stale = order("old", Side.BUY, "0.001", "58000.0")
    actions = grid.on_snapshot(view({"BTC/USD": 60_000}, open_orders=[stale]))
    assert CancelOrder("old") in actions


# ----------------------------------------------------------------- intel


def signal(kind: SignalKind, confidence: float, symbol: str = "BTC/USD") -> Signal:
    return Signal(
        symbol,
        kind,
        confidence,
        0.6,
        VolumeClass.MODERATE,
        1.0,
        SpreadClass.TIGHT,
        1.0,
        0.5,
        0.5,
        0.9,
        False,
    )


def intel(**params: Any) -> IntelStrategy:
    return IntelStrategy(IntelStrategy.Params(**params), context())


def test_intel_buys_a_strong_buy_with_the_signals_confidence() -> None:
    strategy = intel(order_notional=200)
    [buy] = intents(
        strategy.on_snapshot(
            view({"BTC/USD": 100}, signals={"BTC/USD": signal(SignalKind.STRONG_BUY, 0.9)})
        )
    )
    assert (buy.side, buy.confidence, buy.amount) == (Side.BUY, 0.9, Decimal("1.99004975"))
    [half] = intents(
        intel().on_snapshot(
            view({"BTC/USD": 100}, signals={"BTC/USD": signal(SignalKind.BUY, 0.8)})
        )
    )
    assert half.amount == Decimal("0.99502487")  # half the notional on a plain buy


def test_intel_ignores_unsure_and_neutral_signals() -> None:
    for weak in (signal(SignalKind.STRONG_BUY, 0.6), signal(SignalKind.NEUTRAL, 1.0)):
        assert intel().on_snapshot(view({"BTC/USD": 100}, signals={"BTC/USD": weak})) == []


def test_intel_does_not_buy_again_while_its_buy_is_open() -> None:
    pending = order("o1", Side.BUY, "1")
    strong = {"BTC/USD": signal(SignalKind.STRONG_BUY, 0.9)}
    assert intel().on_snapshot(view({"BTC/USD": 100}, open_orders=[pending], signals=strong)) == []


def test_intel_sells_on_a_sell_signal_after_holding_and_on_its_stop() -> None:
    strategy = intel(hold_ticks=1, stop_loss_pct=1.5)
    holding = {"BTC/USD": ("2", "100")}
    sell_signal = {"BTC/USD": signal(SignalKind.SELL, 0.8)}
    assert strategy.on_snapshot(view({"BTC/USD": 100}, holding, signals=sell_signal)) == []
    [sell] = intents(strategy.on_snapshot(view({"BTC/USD": 100}, holding, signals=sell_signal)))
    assert (sell.side, sell.amount, sell.confidence) == (Side.SELL, Decimal("2"), 0.8)
    neutral = {"BTC/USD": signal(SignalKind.NEUTRAL, 0.9)}
    [stop] = intents(intel().on_snapshot(view({"BTC/USD": 98.4}, holding, signals=neutral)))
    assert (stop.side, stop.confidence) == (Side.SELL, 1.0)


# ----------------------------------------------------------------- property: sane intents only


def all_strategy_classes() -> list[tuple[type[Strategy[Any]], dict[str, Any]]]:
    [momentum] = resolve_strategies(load_settings(None, strategies=[{"path": str(EXAMPLE)}]))
    return [
        (BUILTINS["pulse"], {}),
        (BUILTINS["intel"], {"min_confidence": 0.0, "hold_ticks": 0}),
        (BUILTINS["crossover"], {"fast": 1, "slow": 2}),
        (BUILTINS["grid"], {"levels": 2}),
        (momentum.cls, {"lookback": 2, "threshold_bps": 0}),
    ]


STRATEGY_CLASSES = all_strategy_classes()

any_float = st.floats(allow_nan=True, allow_infinity=True) | st.floats(1e-9, 1e9)
level = st.tuples(any_float, any_float)
tick = st.fixed_dictionaries(
    {
        "bid": any_float,
        "ask": any_float,
        "bids": st.lists(level, max_size=4),
        "asks": st.lists(level, max_size=4),
        "trade": st.tuples(any_float, any_float),
    }
)
amounts = st.decimals(min_value=0, max_value=10_000, allow_nan=False, places=8)


def sane(intent: OrderIntent) -> bool:
    amount_ok = (
        isinstance(intent.amount, Decimal) and intent.amount.is_finite() and intent.amount > 0
    )
    price_ok = intent.price is None or (intent.price.is_finite() and intent.price > 0)
    limit_ok = intent.order_type is OrderType.MARKET or intent.price is not None
    return amount_ok and price_ok and limit_ok and 0 <= intent.confidence <= 1


@settings(max_examples=150, deadline=None)
@given(
    ticks=st.lists(tick, min_size=1, max_size=12),
    held=amounts,
    entry=amounts,
    fill_price=amounts,
)
def test_no_strategy_emits_a_non_finite_or_non_positive_amount_or_price(
    ticks: list[dict[str, Any]], held: Decimal, entry: Decimal, fill_price: Decimal
) -> None:
    symbol = "BTC/USD"
    for cls, params in STRATEGY_CLASSES:
        strategy = cls(cls.Params(**params), context((symbol,)))
        tape, state = TradeTape(), SignalState()
        emitted: list[Action] = []
        for t in ticks:
            quotes = {symbol: Quote(symbol, t["bid"], t["ask"], t["bid"], 1.0, 1.0, 0.0)}
            books = {symbol: OrderBook(symbol, tuple(t["bids"]), tuple(t["asks"]), 0.0)}
            tape.record([PublicTrade(symbol, *t["trade"])], quotes, 0.0)
            signals = compute_signals(quotes, books, tape, state)
            current = StrategyView(
                now=0.0,
                state=TradingState.ACTIVE,
                mode=Mode.PAPER,
                symbols=(symbol,),
                quotes=quotes,
                books=books,
                signals=signals,
                positions={symbol: StrategyPosition(symbol, held, entry, Decimal(0))},
                open_orders=(),
                budget_left=None,
                equity=0.0,
                tape=tape,
            )
            emitted += strategy.on_snapshot(current)
            for action in list(emitted):
                if isinstance(action, OrderIntent) and action.price is not None:
                    placed = order("o", action.side, str(action.amount), str(action.price))
                    emitted += strategy.on_fill(
                        fill_of(placed, str(action.amount), str(fill_price or 1)), placed
                    )
        bad = [a for a in intents(emitted) if not sane(a)]
        assert bad == [], f"{cls.name}: {bad[:3]}"
