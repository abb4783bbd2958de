"""Unit tests of copy trading's scaling and clipping, fill parsing and persisted state."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.core.markets import BTC
from tradetui.config import ConfigError, CopyLeader, load_settings
from tradetui.core.model import CopyDrift, Side
from tradetui.core.services.copy_trading import (
    LeaderFill,
    _FollowState,
    _SymbolTally,
    plan_copy,
    scaled_amount,
)
from tradetui.core.venue.parse import CcxtTrade, trade_report

PRICE = Decimal(60_000)


def fill(side: Side = Side.BUY, amount: str = "0.2", price: Decimal = PRICE) -> LeaderFill:
    return LeaderFill(
        "T1", "O1", "BTC/USD", side, Decimal(amount), price, Decimal(0), "USD", 1_800_000_000.0
    )


def rule(**changes: object) -> CopyLeader:
    values: dict[str, object] = {
        "name": "whale",
        "ratio": "0.5",
        "max_notional_per_trade": 0,
        "max_position_notional": 0,
    }
    values.update(changes)
    return CopyLeader.model_validate(values)


def test_ratio_scales_the_leader_amount() -> None:
    plan = plan_copy(fill(), rule(), PRICE, Decimal(0), BTC)
    assert (plan.amount, plan.skip, plan.clipped_by) == (Decimal("0.1"), "", "")


def test_fixed_notional_buys_that_much_at_the_leader_price() -> None:
    fixed = rule(ratio=None, fixed_notional=300)
    assert scaled_amount(fill(), fixed) == Decimal("0.005")
    assert plan_copy(fill(), fixed, PRICE, Decimal(0), BTC).amount == Decimal("0.005")


def test_the_per_trade_cap_clips_to_its_notional() -> None:
    plan = plan_copy(fill(), rule(max_notional_per_trade=1200), PRICE, Decimal(0), BTC)
    assert (plan.amount, plan.clipped_by) == (Decimal("0.02"), "max_notional_per_trade")


def test_the_position_cap_leaves_only_the_room_left_then_refuses() -> None:
    capped = rule(max_position_notional=3000)
    plan = plan_copy(fill(), capped, PRICE, Decimal("0.04"), BTC)  # 2400 held: 600 of room
    assert (plan.amount, plan.clipped_by) == (Decimal("0.01"), "max_position_notional")
    full = plan_copy(fill(), capped, PRICE, Decimal("0.05"), BTC)
    assert (full.amount, full.skip) == (Decimal(0), "CAP_REACHED")


def test_sells_never_exceed_what_we_hold_and_need_a_holding() -> None:
    plan = plan_copy(fill(Side.SELL), rule(), PRICE, Decimal("0.03"), BTC)
    assert (plan.amount, plan.clipped_by) == (Decimal("0.03"), "position")
    assert plan_copy(fill(Side.SELL), rule(), PRICE, Decimal(0), BTC).skip == "NO_POSITION"


def test_a_copy_below_the_venue_minimum_is_skipped() -> None:
    tiny = plan_copy(fill(amount="0.0001"), rule(), PRICE, Decimal(0), BTC)  # 0.00005 < 0.0001
    assert (tiny.amount, tiny.skip) == (Decimal(0), "BELOW_MINIMUM")


amounts = st.decimals(min_value=Decimal("0.00001"), max_value=Decimal(5), places=8)
caps = st.sampled_from([Decimal(0), Decimal(50), Decimal(1000), Decimal(100_000)])


@given(
    leader=amounts,
    ratio=st.sampled_from([Decimal("0.1"), Decimal("0.5"), Decimal(1), Decimal(2)]),
    per_trade=caps,
    per_position=caps,
    held=st.decimals(min_value=Decimal(0), max_value=Decimal(3), places=8),
    side=st.sampled_from(Side),
)
def test_a_copy_respects_every_cap_step_and_minimum(
    leader: Decimal,
    ratio: Decimal,
    per_trade: Decimal,
    per_position: Decimal,
    held: Decimal,
    side: Side,
) -> None:
    copy_rule = rule(
        ratio=ratio, max_notional_per_trade=per_trade, max_position_notional=per_position
    )
    plan = plan_copy(fill(side, str(leader)), copy_rule, PRICE, held, BTC)
    assert plan.amount <= leader * ratio
    if not plan.amount:
        assert plan.skip
        return
    assert plan.amount % BTC.amount_step == 0
    assert plan.amount >= BTC.min_amount and plan.amount * PRICE >= BTC.min_cost
    if per_trade:
        assert plan.amount * PRICE <= per_trade
    if side is Side.SELL:
        assert plan.amount <= held
    elif per_position:
        assert (held + plan.amount) * PRICE <= max(per_position, held * PRICE)


def test_leader_fills_are_read_from_ccxt_trades_or_refused() -> None:
    trade: CcxtTrade = {
        "id": "TX1",
        "symbol": "BTC/USD",
        "side": "sell",
        "amount": 0.25,
        "price": 61000.5,
        "timestamp": 1_800_000_000_123,
    }
    parsed = trade_report(trade)
    assert parsed == LeaderFill(
        "TX1",
        "",
        "BTC/USD",
        Side.SELL,
        Decimal("0.25"),
        Decimal("61000.5"),
        Decimal(0),
        "USD",
        1_800_000_000.123,
    )
    assert trade_report({**trade, "timestamp": None}) is None  # type: ignore[typeddict-item]
    assert trade_report({**trade, "amount": 0}) is None
    assert trade_report({**trade, "side": "short"}) is None


def test_follow_state_survives_a_round_trip() -> None:
    state = _FollowState(
        since=1.5,
        seen={"TX1": 2.0},
        tallies={"BTC/USD": _SymbolTally(Decimal("0.2"), Decimal("0.1"), 1, 2, 3.0)},
    )
    assert _FollowState.loads(state.dumps()) == state


def test_drift_is_ours_against_the_target() -> None:
    drift = CopyDrift("whale", "BTC/USD", Decimal("0.4"), Decimal("0.2"), Decimal("0.15"))
    assert drift.drift_amount == Decimal("-0.05") and drift.drift_pct == pytest.approx(-25.0)
    assert CopyDrift("w", "BTC/USD", Decimal(0), Decimal(0), Decimal(1)).drift_pct is None


@pytest.mark.parametrize(
    ("leader", "message"),
    [
        ({"name": "w"}, "give exactly one of ratio or fixed_notional"),
        ({"name": "w", "ratio": 0.5, "fixed_notional": 100}, "give exactly one"),
        ({"name": "w", "ratio": -1}, "greater than 0"),
        ({"name": "w", "ratio": 1, "slippage": 3}, "Extra inputs are not permitted"),
    ],
)
def test_a_bad_leader_is_one_clear_config_line(leader: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(None, copy_trading={"leaders": [leader]})


def test_leader_names_are_unique() -> None:
    twice = [{"name": "w", "ratio": 1}, {"name": "w", "ratio": 2}]
    with pytest.raises(ConfigError, match="leader names must be unique"):
        load_settings(None, copy_trading={"leaders": twice})
