"""Pure pieces of the simulator: checksum, nonce rule, holds, determinism, import hygiene."""

from __future__ import annotations

import subprocess
import sys
import zlib
from decimal import Decimal

import pytest

from tradetui.sim.errors import KrakenError
from tradetui.sim.instruments import DEFAULT_PAIRS
from tradetui.sim.venue.accounts import Account
from tradetui.sim.venue.exchange import SimExchange
from tradetui.sim.venue.order_params import build_request, valid_cl_ord_id
from tradetui.sim.ws.render import book_checksum

BTC, SOL = DEFAULT_PAIRS[0], DEFAULT_PAIRS[2]


def reference_checksum(asks: list[tuple[str, str]], bids: list[tuple[str, str]]) -> int:
    """Kraken's documented recipe on decimal strings: drop the point, strip leading zeros."""

    def part(price: str, qty: str) -> str:
        return price.replace(".", "").lstrip("0") + qty.replace(".", "").lstrip("0")

    text = "".join(part(*level) for level in asks[:10]) + "".join(
        part(*level) for level in bids[:10]
    )
    return zlib.crc32(text.encode())


def test_book_checksum_matches_kraken_recipe() -> None:
    asks = [(600_012 + 60 * i, 5_000_000 + i) for i in range(12)]
    bids = [(599_952 - 60 * i, 123_456_789 + i) for i in range(12)]

    def as_text(levels: list[tuple[int, int]]) -> list[tuple[str, str]]:
        return [(f"{p / 10:.1f}", f"{q / 1e8:.8f}") for p, q in levels]

    assert book_checksum(asks, bids) == reference_checksum(as_text(asks), as_text(bids))


def test_nonce_must_increase_unless_a_window_is_set() -> None:
    account = Account("t", "key", "c2VjcmV0", {})
    assert account.accept_nonce(100, window=0)
    assert not account.accept_nonce(100, window=0)
    assert not account.accept_nonce(99, window=0)
    assert account.accept_nonce(101, window=0)
    assert account.accept_nonce(98, window=5), "inside the window and unseen"
    assert not account.accept_nonce(98, window=5), "already seen"
    assert not account.accept_nonce(90, window=5), "older than the window"


def test_same_seed_gives_same_market_and_credentials() -> None:
    first, second, other = SimExchange(seed=3), SimExchange(seed=3), SimExchange(seed=4)
    for _ in range(50):
        for exchange in (first, second, other):
            exchange.tick()
    books = [ex.market.pairs["XXBTZUSD"].top(True, 25) for ex in (first, second, other)]
    assert books[0] == books[1] != books[2]
    assert first.main_account.secret == second.main_account.secret != other.main_account.secret


def test_book_keeps_depth_and_spread_while_walking() -> None:
    exchange = SimExchange(seed=1)
    pm = exchange.market.pairs["XETHZUSD"]
    for _ in range(500):
        exchange.tick()
        bids, asks = pm.top(True, 100), pm.top(False, 100)
        assert len(bids) >= 25 and len(asks) >= 25
        spread_bps = (asks[0][0] - bids[0][0]) / bids[0][0] * 1e4
        assert 0 < spread_bps < 10
    assert 2_000 < pm.mid < 4_500


def test_holds_and_balances_never_go_negative() -> None:
    exchange = SimExchange(seed=5)
    account = exchange.main_account
    pm = exchange.market.pairs["SOLUSD"]
    for i in range(300):
        best_bid = pm.price(pm.best_bid()[0])  # type: ignore[index]
        side = "buy" if i % 2 else "sell"
        price = best_bid + Decimal("0.05") * (i % 5 - 2)
        request = build_request(SOL, side, "limit", "3.5", str(price))
        try:
            exchange.engine.place(account, request)
        except KrakenError:
            pass
        if i % 7 == 0:
            exchange.engine.place(account, build_request(SOL, "buy", "market", "1.25"))
        if i % 11 == 0:
            exchange.engine.cancel_all(account)
        exchange.tick()
        for asset, amount in account.balances.items():
            assert amount >= 0
            assert Decimal(0) <= account.hold_of(asset) <= amount
    assert account.fills, "the scenario should have traded"
    exchange.engine.cancel_all(account)
    assert all(hold == 0 for hold in account.holds.values())


@pytest.mark.parametrize(
    ("value", "ok"),
    [("abc", True), ("x" * 18, True), ("x" * 19, False),
     ("6d1b345e-2821-40e2-ad83-4ecb18a06876", True), ("", False)],
)  # fmt: skip
def test_cl_ord_id_rules(value: str, ok: bool) -> None:
    assert valid_cl_ord_id(value) is ok


def test_order_parameters_are_validated_like_kraken() -> None:
    with pytest.raises(KrakenError, match="EGeneral:Invalid arguments:volume"):
        build_request(BTC, "buy", "limit", "0.000000001", "50000")
    with pytest.raises(KrakenError, match="EOrder:Invalid price"):
        build_request(BTC, "buy", "limit", "0.01", "50000.05")
    with pytest.raises(KrakenError, match="EGeneral:Invalid arguments:ordertype"):
        build_request(BTC, "buy", "stop-loss", "0.01", "50000")
    request = build_request(BTC, "sell", "market", "0.010", None, timeinforce="GTC")
    assert (request.volume, request.timeinforce) == (Decimal("0.010"), "IOC")


def test_simulator_never_imports_textual_or_rich() -> None:
    code = (
        "import sys, tradetui.sim.server, tradetui.cli.sim; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')]; "
        "assert not bad, bad"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
