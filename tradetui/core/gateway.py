"""Provides the ccxt/ccxt.pro client factory (imported lazily), the nonce hook and error classification."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

from tradetui.core.ccxt_loader import ccxt_module, pro_exchange_class
from tradetui.core.model import MarketInfo

log = logging.getLogger("tradetui.gateway")


class GatewayError(Exception):
    """A venue problem a user can act on, with a one-line message."""


def create_exchange(exchange_id: str, config: dict[str, Any], nonce_file: Path | None) -> Any:
    """Build a ccxt.pro client; ccxt is imported here, not at module import, to keep start-up fast."""
    from tradetui.core.nonce import NonceManager

    try:
        cls = pro_exchange_class(exchange_id)
    except AttributeError:
        raise GatewayError(
            f"unknown exchange '{exchange_id}': use a ccxt.pro exchange id or 'sim'"
        ) from None
    exchange = cls(config)
    # One nonce source per key, persisted, so a restart or a second process never reuses one.
    exchange.nonce = NonceManager(nonce_file).next_nonce
    return exchange


def is_transport_error(exc: BaseException) -> bool:
    """True for failures that say nothing about the request itself: timeouts, outages, disconnects.

    These count toward the circuit breaker; business errors (funds, invalid order, unknown
    order) and nonce errors do not.
    """
    ccxt = ccxt_module()
    if isinstance(exc, ccxt.InvalidNonce):
        return False
    return isinstance(exc, ccxt.NetworkError | OSError | TimeoutError)


def is_order_not_found(exc: BaseException) -> bool:
    """True when the venue says the order does not exist."""
    return isinstance(exc, ccxt_module().OrderNotFound)


def market_infos(markets: dict[str, dict[str, Any]], symbols: list[str]) -> dict[str, MarketInfo]:
    """Copy the trading rules of ``symbols`` out of ccxt's market structures.

    Raises GatewayError naming any symbol the venue does not list.
    """
    unknown = [s for s in symbols if s not in markets]
    if unknown:
        raise GatewayError(f"unknown symbol(s) on this venue: {', '.join(unknown)}")
    infos: dict[str, MarketInfo] = {}
    for symbol in symbols:
        market = markets[symbol]
        precision = market.get("precision") or {}
        limits = market.get("limits") or {}
        infos[symbol] = MarketInfo(
            symbol=symbol,
            base=str(market["base"]),
            quote=str(market["quote"]),
            amount_step=_dec(precision.get("amount"), "0.00000001"),
            price_step=_dec(precision.get("price"), "0.01"),
            min_amount=_dec((limits.get("amount") or {}).get("min"), "0"),
            min_cost=_dec((limits.get("cost") or {}).get("min"), "0"),
            active=market.get("active") is not False,
        )
    return infos


def _dec(value: Any, default: str) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(default)
