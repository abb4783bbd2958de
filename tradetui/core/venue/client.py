"""Provides the ccxt/ccxt.pro client factory (imported lazily), the nonce hook and error classification."""

from __future__ import annotations

import logging
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from tradetui.core.model import MarketInfo
from tradetui.core.venue.loader import ccxt_module, pro_exchange_class

log = logging.getLogger("tradetui.gateway")


NONCE_JUMP_MS = 1_000
"""How far past the clock nonces jump after the venue rejects one."""


class GatewayError(Exception):
    """A venue problem a user can act on, with a one-line message."""


def create_exchange(exchange_id: str, config: dict[str, Any], nonce_file: Path | None) -> Any:
    """Build a ccxt.pro client; ccxt is imported here, not at module import, to keep start-up fast."""
    from tradetui.core.venue.nonce import NonceManager

    try:
        cls = pro_exchange_class(exchange_id)
    except AttributeError:
        raise GatewayError(
            f"unknown exchange '{exchange_id}': use a ccxt.pro exchange id or 'sim'"
        ) from None
    exchange = cls(config)
    # One nonce source per key, persisted, so a restart or a second process never reuses one.
    nonces = NonceManager(nonce_file)
    exchange.nonce = nonces.next_nonce
    _retry_invalid_nonce_once(exchange, nonces)
    return exchange


def _retry_invalid_nonce_once(exchange: Any, nonces: Any) -> None:
    """Wrap every REST request: after InvalidNonce, jump ahead and send it once more.

    The venue rejects a stale nonce before acting on the request, so the retry cannot
    duplicate an order. The jump clears nonces another process (or a request that arrived
    out of order) pushed past ours.
    """
    fetch2 = exchange.fetch2
    invalid_nonce = ccxt_module().InvalidNonce

    async def fetch2_with_nonce_recovery(*args: Any, **kwargs: Any) -> Any:
        try:
            return await fetch2(*args, **kwargs)
        except invalid_nonce:
            nonces.bump(max(nonces.last_nonce, int(time.time() * 1000)) + NONCE_JUMP_MS)
            log.warning(
                "venue rejected a nonce; jumped %d ms ahead and retried once",
                NONCE_JUMP_MS,
                extra={"event": "nonce_recovered"},
            )
            return await fetch2(*args, **kwargs)

    exchange.fetch2 = fetch2_with_nonce_recovery


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
            status=str((market.get("info") or {}).get("status") or "online"),
        )
    return infos


def _dec(value: Any, default: str) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(default)
