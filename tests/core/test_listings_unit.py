"""Unit tests of the listing monitor's diff, its status words, and the market_status gate."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.core.markets import BTC
from tradetui.config import RiskSettings
from tradetui.core.model import (
    MarketInfo,
    MarketRecord,
    OrderIntent,
    Quote,
    Side,
    TradingState,
    Verdict,
)
from tradetui.core.risk import RiskContext, RiskGuard
from tradetui.core.services.listings import REMOVED, diff_markets, event_kind, registry_status
from tradetui.core.venue.parse import market_info
from tradetui.sim.schedule import ListingSchedule

NOW = 1_800_000_000.0


def known(**statuses: str) -> dict[str, MarketRecord]:
    return {
        s: MarketRecord(s, status, NOW - 600, NOW - 60, NOW - 600) for s, status in statuses.items()
    }


def test_an_unchanged_venue_gives_no_events_and_no_writes() -> None:
    events, changed = diff_markets(
        known(BTC="active", DOT="active"), {"BTC": "active", "DOT": "active"}, NOW
    )
    assert events == [] and changed == []


def test_a_new_symbol_is_listed_with_its_first_sighting() -> None:
    events, changed = diff_markets(known(BTC="active"), {"BTC": "active", "LINK": "active"}, NOW)
    assert [(e.kind, e.symbol, e.status, e.previous) for e in events] == [
        ("listed", "LINK", "active", None)
    ]
    assert changed == [MarketRecord("LINK", "active", NOW, NOW, NOW)]


def test_a_status_change_keeps_first_seen_and_stamps_the_change() -> None:
    events, changed = diff_markets(known(DOT="active"), {"DOT": "reduce_only"}, NOW)
    assert [(e.kind, e.status, e.previous) for e in events] == [
        ("status_changed", "reduce_only", "active")
    ]
    assert changed == [MarketRecord("DOT", "reduce_only", NOW - 600, NOW, NOW)]


def test_a_symbol_that_disappears_is_delisted_once() -> None:
    events, changed = diff_markets(known(DOT="cancel_only"), {}, NOW)
    assert [(e.kind, e.status, e.previous) for e in events] == [
        ("delisted", REMOVED, "cancel_only")
    ]
    assert changed[0].status == REMOVED and changed[0].last_seen == NOW - 60
    again, _ = diff_markets({"DOT": changed[0]}, {}, NOW + 60)
    assert again == []


def test_a_removed_symbol_that_returns_is_listed_again() -> None:
    events, _ = diff_markets(known(DOT=REMOVED), {"DOT": "active"}, NOW)
    assert [(e.kind, e.previous) for e in events] == [("listed", REMOVED)]


@pytest.mark.parametrize(
    ("status", "previous", "kind"),
    [
        ("active", None, "listed"),
        ("delisted", "cancel_only", "delisted"),
        (REMOVED, "active", "delisted"),
        ("cancel_only", "active", "status_changed"),
        ("active", "reduce_only", "status_changed"),
    ],
)
def test_event_kinds(status: str, previous: str | None, kind: str) -> None:
    assert event_kind(status, previous) == kind


@given(
    st.dictionaries(
        st.sampled_from("ABCDEFGH"), st.sampled_from(["active", "cancel_only", REMOVED])
    ),
    st.dictionaries(
        st.sampled_from("ABCDEFGH"), st.sampled_from(["active", "reduce_only", "cancel_only"])
    ),
)
def test_applying_the_changes_makes_the_registry_match_the_venue(
    before: dict[str, str], venue: dict[str, str]
) -> None:
    registry = known(**before)
    events, changed = diff_markets(registry, venue, NOW)
    registry.update({r.symbol: r for r in changed})
    assert {s: r.status for s, r in registry.items() if r.status != REMOVED} == venue
    assert all(r.status == REMOVED for s, r in registry.items() if s not in venue)
    assert len(events) == len(changed), "every write is an event, and the other way round"
    assert diff_markets(registry, venue, NOW + 1) == ([], []), "a second look finds nothing new"


@pytest.mark.parametrize(
    ("market", "status"),
    [
        ({"active": True, "info": {"status": "online"}}, "active"),
        ({"active": None, "info": {}}, "active"),
        ({"active": False, "info": {"status": "reduce_only"}}, "reduce_only"),
        ({"active": False, "info": {"status": "CANCEL_ONLY"}}, "cancel_only"),
        ({"active": False, "info": {}}, "inactive"),
    ],
)
def test_registry_status_of_ccxt_markets(market: dict[str, object], status: str) -> None:
    rules = market_info("BTC/USD", {"base": "BTC", "quote": "USD", **market})
    assert registry_status(rules) == status


guard = RiskGuard(RiskSettings())
BUY = OrderIntent("BTC/USD", Side.BUY, Decimal("0.01"), confidence=0.9)
SELL = OrderIntent("BTC/USD", Side.SELL, Decimal("0.01"), confidence=0.9, reduce_only=True)


def holding_context(market: MarketInfo) -> RiskContext:
    """0.01 BTC held, a fresh quote, plenty of cash."""
    return RiskContext(
        now=NOW,
        state=TradingState.ACTIVE,
        breaker_open=False,
        market=market,
        quote=Quote("BTC/USD", 59_990.0, 60_010.0, 60_000.0, 1.0, 1.0, NOW - 0.5),
        market_data_down=False,
        equity=10_600.0,
        balances_known=True,
        position_amount=Decimal("0.01"),
        open_position_symbols=frozenset({"BTC/USD"}),
        free_quote=10_000.0,
        free_base=0.01,
        day_start_equity=10_600.0,
        peak_equity=10_600.0,
        correlation_known=True,
    )


def test_a_reduce_only_market_refuses_buys_and_takes_sells() -> None:
    market = replace(BTC, status="reduce_only", active=False)
    assert guard.evaluate(BUY, holding_context(BTC)).verdict is Verdict.APPROVE
    refused = guard.evaluate(BUY, holding_context(market))
    assert refused.rejected_by is not None
    assert (refused.rejected_by.gate, refused.rejected_by.code) == ("market_status", "REDUCE_ONLY")
    assert guard.evaluate(SELL, holding_context(market)).verdict is Verdict.APPROVE


@pytest.mark.parametrize(
    ("status", "code"),
    [("cancel_only", "CANCEL_ONLY"), (REMOVED, "DELISTED"), ("delisted", "DELISTED")],
)
def test_cancel_only_and_delisted_markets_refuse_sells_too(status: str, code: str) -> None:
    """Regression: the venue refuses every new order there, and a refusal counts against the
    order path's circuit breaker, so even an exit is not sent."""
    market = replace(BTC, status=status, active=False)
    decision = guard.evaluate(SELL, holding_context(market))
    assert decision.rejected_by is not None and decision.rejected_by.code == code


def test_the_simulator_schedule_scales_every_step() -> None:
    fast = ListingSchedule().scaled(0.05)
    assert (
        fast.list_after_s,
        fast.reduce_only_after_s,
        fast.cancel_only_after_s,
        fast.remove_after_s,
    ) == pytest.approx((9.0, 10.5, 12.0, 18.0))
    assert ListingSchedule(list_after_s=None).scaled(2).list_after_s is None
