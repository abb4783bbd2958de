"""Plans a taker's fills across the synthetic book and other accounts' resting orders, and
checks an order against Kraken's minimums and the account's funds before it trades.

Price-time priority: the better price trades first; at one price the synthetic
liquidity, which was there before any account order, trades before the account
orders, and those trade in the order they arrived.
"""

from __future__ import annotations

from decimal import ROUND_UP, Decimal

from tradetui.sim import errors
from tradetui.sim.errors import KrakenError
from tradetui.sim.fmt import quant
from tradetui.sim.instruments import TAKER_FEE_RATE
from tradetui.sim.market import PairMarket
from tradetui.sim.venue.accounts import Account
from tradetui.sim.venue.orders import ZERO, Order, OrderRequest

Piece = tuple[int, int, Order | None]
"""(price ticks, lots, the resting account order hit, or None for synthetic liquidity)."""


def plan_taker(
    pm: PairMarket,
    counter: list[Order],
    owners: dict[str, Account],
    taker: Account,
    taker_buys: bool,
    max_lots: int | None,
    limit_ticks: int | None = None,
    quote_budget: Decimal | None = None,
) -> list[Piece]:
    """What a taker would hit, best first, without changing anything.

    `counter` is the opposite side's resting orders in priority order. The taker's own
    orders are passed over (a simple self-trade prevention).
    """
    synthetic = pm.synthetic_levels(not taker_buys)
    others = [order for order in counter if owners.get(order.txid) is not taker]
    lot_scale = 10**pm.spec.lot_decimals
    pieces: list[Piece] = []
    remaining, budget = max_lots, quote_budget
    next_synthetic = next_order = 0
    while next_synthetic < len(synthetic) or next_order < len(others):
        level = synthetic[next_synthetic] if next_synthetic < len(synthetic) else None
        order = others[next_order] if next_order < len(others) else None
        if order is not None and (
            level is None
            or (order.limit_ticks < level[0] if taker_buys else order.limit_ticks > level[0])
        ):
            price, available, resting = order.limit_ticks, order.remaining_lots, order
            next_order += 1
        else:
            # Type narrowing for mypy; the value is set on this path.
            assert level is not None  # nosec B101
            price, available, resting = level[0], level[1], None
            next_synthetic += 1
        if limit_ticks is not None and (price > limit_ticks if taker_buys else price < limit_ticks):
            break
        take = available if remaining is None else min(available, remaining)
        if budget is not None:
            take = min(take, int(budget / pm.price(price) * lot_scale))
        if take <= 0:
            break
        pieces.append((price, take, resting))
        if remaining is not None:
            remaining -= take
            if remaining == 0:
                break
        if budget is not None:
            budget -= pm.price(price) * pm.qty(take)
    return pieces


def check_order(
    account: Account, req: OrderRequest, pm: PairMarket, plan: list[Piece], quote_places: int
) -> None:
    """Raise the KrakenError Kraken would answer for an order below minimums or unfunded."""
    spec = req.pair
    if req.viqc and (req.ordertype != "market" or req.side != "buy"):
        raise errors.invalid_argument("viqc")
    if not req.viqc and req.volume < spec.ordermin:
        raise KrakenError(errors.ORDER_MINIMUM)
    plan_cost = sum((pm.price(price) * pm.qty(lots) for price, lots, _ in plan), ZERO)
    if req.viqc:
        notional = req.volume
    elif req.price is not None:
        notional = req.price * req.volume
    else:
        best = pm.best_ask() if req.side == "buy" else pm.best_bid()
        reference = pm.price(best[0]) if best else pm.price(pm.last_ticks)
        notional = reference * req.volume
    if notional < spec.costmin:
        raise KrakenError(errors.COST_MINIMUM)
    if req.side == "sell":
        if account.available(spec.base) < req.volume:
            raise KrakenError(errors.INSUFFICIENT_FUNDS)
        return
    spend = plan_cost if req.ordertype == "market" and not req.viqc else notional
    need = quant(spend * (1 + TAKER_FEE_RATE), quote_places, ROUND_UP)
    if account.available(spec.quote) < need:
        raise KrakenError(errors.INSUFFICIENT_FUNDS)
