"""Market rules shared by the unit tests (Kraken's BTC/USD precisions)."""

from __future__ import annotations

from decimal import Decimal

from tradetui.core.model import MarketInfo

BTC = MarketInfo(
    symbol="BTC/USD",
    base="BTC",
    quote="USD",
    amount_step=Decimal("0.00000001"),
    price_step=Decimal("0.1"),
    min_amount=Decimal("0.0001"),
    min_cost=Decimal("0.5"),
)
