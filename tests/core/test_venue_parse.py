"""The venue boundary: ccxt's dicts become typed reports, ccxt's exceptions become VenueErrors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradetui.core.model import OrderStatus, OrderType, Side
from tradetui.core.venue import parse
from tradetui.core.venue.client import venue_error
from tradetui.core.venue.errors import (
    AuthenticationFailed,
    OrderNotFound,
    VenueError,
    VenueUnavailable,
)
from tradetui.core.venue.loader import ccxt_module

REST_ORDER: parse.CcxtOrder = {
    "id": "OABC-123",
    "clientOrderId": "tt0123456789abcdef",
    "symbol": "BTC/USD",
    "side": "buy",
    "type": "limit",
    "amount": 0.5,
    "price": 60000.1,
    "status": "open",
    "filled": 0.1,
    "average": None,
    "timestamp": 1_800_000_000_500,
    "info": {"cl_ord_id": "ignored-on-rest"},
}


def test_a_rest_order_report_is_typed_with_its_client_id() -> None:
    report = parse.order_report(REST_ORDER)
    assert report.venue_id == "OABC-123" and report.client_id == "tt0123456789abcdef"
    assert (report.side, report.order_type, report.status) == (
        Side.BUY,
        OrderType.LIMIT,
        OrderStatus.OPEN,
    )
    assert (report.amount, report.price, report.filled) == (
        Decimal("0.5"),
        Decimal("60000.1"),
        Decimal("0.1"),
    )
    assert report.average_price is None and report.timestamp == 1_800_000_000.5


def test_on_the_stream_the_client_id_is_krakens_own_cl_ord_id() -> None:
    """ccxt derives clientOrderId from the numeric userref on WS; cl_ord_id is ours."""
    stream = {**REST_ORDER, "clientOrderId": "42", "info": {"cl_ord_id": "tt-from-ws"}}
    assert parse.order_report(stream, stream=True).client_id == "tt-from-ws"  # type: ignore[arg-type]


@pytest.mark.parametrize("missing", [None, "", "0"])
def test_an_order_without_a_client_id_says_so(missing: str | None) -> None:
    order: parse.CcxtOrder = {**REST_ORDER, "clientOrderId": missing}
    assert parse.order_report(order).client_id is None


def test_kinds_and_statuses_the_engine_does_not_know_are_none_not_a_guess() -> None:
    order: parse.CcxtOrder = {**REST_ORDER, "type": "stop-loss", "status": "pending"}
    report = parse.order_report(order)
    assert report.order_type is None and report.status is None
    expired: parse.CcxtOrder = {**REST_ORDER, "status": "expired"}
    assert parse.order_report(expired).status is OrderStatus.CANCELED


def test_a_trade_report_defaults_its_fee_currency_to_the_quote() -> None:
    trade: parse.CcxtTrade = {
        "id": "T1",
        "order": "OABC-123",
        "symbol": "ETH/USD",
        "side": "sell",
        "amount": 1.5,
        "price": 3000,
        "fee": {"cost": 1.17},
        "timestamp": 1_800_000_000_000,
    }
    report = parse.trade_report(trade)
    assert report is not None
    assert (report.order_id, report.fee, report.fee_currency) == (
        "OABC-123",
        Decimal("1.17"),
        "USD",
    )


@pytest.mark.parametrize(
    ("market", "active", "status"),
    [
        ({"active": True, "info": {"status": "online"}}, True, "online"),
        ({"active": None, "info": {}}, True, "online"),
        ({"active": False, "info": {"status": " Reduce_Only "}}, False, "reduce_only"),
        ({"active": False, "info": {}}, False, "inactive"),
    ],
)
def test_market_rules_carry_the_venues_status(
    market: dict[str, object], active: bool, status: str
) -> None:
    rules = parse.market_info("BTC/USD", {"base": "BTC", "quote": "USD", **market})
    assert (rules.active, rules.status) == (active, status)
    assert rules.amount_step == Decimal("0.00000001")  # no precision given: the fallback


def test_balances_keep_free_used_and_total_and_the_stream_only_totals() -> None:
    raw = {"free": {"USD": 90}, "used": {"USD": 10}, "total": {"USD": 100, "BTC": None}}
    balances = parse.balances(raw)
    assert (balances["USD"].free, balances["USD"].used, balances["USD"].total) == (90, 10, 100)
    assert balances["BTC"].total == 0
    assert parse.balance_totals({"total": {"USD": 100, "BTC": None}}) == {"USD": Decimal(100)}


@pytest.mark.parametrize(
    ("ccxt_error", "kind", "transport"),
    [
        ("RequestTimeout", VenueUnavailable, True),
        ("ExchangeNotAvailable", VenueUnavailable, True),
        ("RateLimitExceeded", VenueUnavailable, True),
        ("InvalidNonce", VenueError, False),
        ("OrderNotFound", OrderNotFound, False),
        ("AuthenticationError", AuthenticationFailed, False),
        ("InsufficientFunds", VenueError, False),
    ],
)
def test_ccxt_errors_become_venue_errors_that_keep_ccxts_words(
    ccxt_error: str, kind: type[VenueError], transport: bool
) -> None:
    original = getattr(ccxt_module(), ccxt_error)('kraken {"error":["EGeneral:Whatever"]}')
    translated = venue_error(original)
    assert type(translated) is kind and isinstance(translated, VenueError)
    assert translated.transport is transport
    assert str(translated) == f'{ccxt_error}: kraken {{"error":["EGeneral:Whatever"]}}'


def test_other_exceptions_pass_through_untranslated() -> None:
    bug = KeyError("a bug of ours")
    assert venue_error(bug) is bug


def test_an_error_without_a_message_still_names_its_class() -> None:
    """Guards "outcome unknown: " with nothing after it: timeouts often carry no message."""
    from tradetui.core.execution.orders import one_line

    translated = venue_error(ccxt_module().RequestTimeout())
    assert isinstance(translated, VenueUnavailable)
    assert one_line(translated) == "RequestTimeout (no message)"
    assert one_line(venue_error(TimeoutError())) == "TimeoutError (no message)"
    assert one_line(ValueError()) == "ValueError (no message)"
    assert one_line(ValueError("bad\nsecond line")) == "ValueError: bad"


def test_a_cancel_that_canceled_nothing_is_told_apart() -> None:
    assert not parse.cancel_took_effect({"info": {"error": [], "result": {"count": 0}}})
    assert not parse.cancel_took_effect({"info": {"result": {"count": "0", "pending": False}}})
    assert parse.cancel_took_effect({"info": {"error": [], "result": {"count": "1"}}})
    assert parse.cancel_took_effect({"info": {"result": {"count": 0, "pending": True}}})
    assert parse.cancel_took_effect({"info": {"count": 2}})
    assert parse.cancel_took_effect({"info": {"order_id": "O1"}})  # says neither: done
    assert parse.cancel_took_effect({})
