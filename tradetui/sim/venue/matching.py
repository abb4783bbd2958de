"""Matches orders against the synthetic book: takers walk levels, resting limits fill on ticks."""

from __future__ import annotations

import functools
from bisect import insort
from collections.abc import Callable, Iterable
from decimal import ROUND_UP

from tradetui.sim import errors
from tradetui.sim.errors import KrakenError
from tradetui.sim.fmt import quant
from tradetui.sim.instruments import MAKER_FEE_RATE, TAKER_FEE_RATE, Instruments
from tradetui.sim.market import MarketSim, PairMarket
from tradetui.sim.venue.accounts import Account, BalanceChange
from tradetui.sim.venue.book_walk import Piece, check_order, plan_taker
from tradetui.sim.venue.events import ExchangeListener
from tradetui.sim.venue.orders import ZERO, Fill, IdGen, Order, OrderRequest


def _buy_priority(order: Order) -> int:
    return -order.limit_ticks


def _sell_priority(order: Order) -> int:
    return order.limit_ticks


class MatchingEngine:
    """Owns order placement, cancellation and fills, and keeps balances and holds right."""

    def __init__(
        self,
        instruments: Instruments,
        market: MarketSim,
        ids: IdGen,
        clock: Callable[[], float],
    ) -> None:
        self.listeners: list[ExchangeListener] = []
        self._instruments = instruments
        self._market = market
        self._ids = ids
        self._clock = clock
        self._resting: dict[str, tuple[list[Order], list[Order]]] = {}
        self._owners: dict[str, Account] = {}
        for pair_id in market.pairs:
            self.add_pair(pair_id)
        self.cancel_only: frozenset[str] = frozenset()
        """Pair ids where new orders are refused (a fault); cancels still work."""

    def _decimals(self, asset: str) -> int:
        return self._instruments.assets[asset].decimals

    # -- placement -----------------------------------------------------------------------

    def place(self, account: Account, req: OrderRequest) -> Order:
        """Check, accept and execute an order; raises KrakenError when Kraken would refuse it."""
        status = self._instruments.status.get(req.pair.pair_id)
        if status == "reduce_only" and req.pair.pair_id not in self.cancel_only:
            # A pair being delisted: holders may still sell out, nobody may buy in.
            if req.side != "sell":
                raise KrakenError(errors.REDUCE_ONLY)
        elif req.pair.pair_id in self.cancel_only or not self._instruments.is_trading(
            req.pair.pair_id
        ):
            raise KrakenError(errors.CANCEL_ONLY)
        if req.cl_ord_id is not None and any(
            order.cl_ord_id == req.cl_ord_id for order in account.open_orders.values()
        ):
            # Kraken keeps cl_ord_id unique among a client's open orders.
            raise KrakenError(errors.DUPLICATE_ORDER)
        pm = self._market.pairs[req.pair.pair_id]
        plan = self._plan(pm, account, req)
        check_order(account, req, pm, plan, self._decimals(req.pair.quote))
        taken = sum(lots for _, lots, _ in plan)
        order = Order(
            txid="" if req.validate else self._ids.order_id(),
            pair=req.pair,
            side=req.side,
            ordertype=req.ordertype,
            vol=pm.qty(taken) if req.viqc else req.volume,
            price=req.price,
            opentm=self._clock(),
            oflags=req.oflags,
            timeinforce=req.timeinforce,
            cl_ord_id=req.cl_ord_id,
            userref=req.userref,
            quote_volume=req.volume if req.viqc else None,
        )
        if req.validate:
            return order
        account.orders[order.txid] = order
        account.open_orders[order.txid] = order
        self._emit_order(account, order, "pending_new")
        order.status = "open"
        self._emit_order(account, order, "new")
        taker_buys = req.side == "buy"
        if req.post_only and self._crosses(pm, order):
            self._close(account, order, "canceled", "Post only order")
            return order
        for price, lots, resting in plan:
            if resting is None:
                pm.consume(taker_buys, [(price, lots)])
            else:
                # The resting account order is the maker; the taker's fill prints the trade.
                owner = self._owners[resting.txid]
                self._fill(owner, resting, pm, price, lots, maker=True, printed=False)
            self._fill(account, order, pm, price, lots, maker=False)
        if order.is_open:
            if order.ordertype == "limit" and order.timeinforce == "GTC":
                self._rest(account, order)
            else:
                reason = "Insufficient liquidity" if order.ordertype == "market" else "IOC"
                self._close(account, order, "closed" if order.vol_exec else "canceled", reason)
        return order

    def _plan(self, pm: PairMarket, account: Account, req: OrderRequest) -> list[Piece]:
        taker_buys = req.side == "buy"
        buys, sells = self._resting[req.pair.pair_id]
        counter = sells if taker_buys else buys
        if req.ordertype == "market":
            if req.viqc:
                return plan_taker(pm, counter, self._owners, account, taker_buys, None,
                                  quote_budget=req.volume)  # fmt: skip
            lots = int(req.volume.scaleb(req.pair.lot_decimals))
            return plan_taker(pm, counter, self._owners, account, taker_buys, lots)
        if req.post_only or req.price is None:
            return []
        limit_ticks = int(req.price.scaleb(req.pair.pair_decimals))
        lots = int(req.volume.scaleb(req.pair.lot_decimals))
        return plan_taker(pm, counter, self._owners, account, taker_buys, lots, limit_ticks)

    @staticmethod
    def _crosses(pm: PairMarket, order: Order) -> bool:
        if order.side == "buy":
            best = pm.best_ask()
            return best is not None and best[0] <= order.limit_ticks
        best = pm.best_bid()
        return best is not None and best[0] >= order.limit_ticks

    def _rest(self, account: Account, order: Order) -> None:
        spec = order.pair
        if order.side == "buy":
            # Type narrowing for mypy; the value is set on this path.
            assert order.price is not None  # nosec B101
            asset = spec.quote
            wanted = order.price * order.remaining * (1 + TAKER_FEE_RATE)
            hold = min(quant(wanted, self._decimals(asset), ROUND_UP), account.available(asset))
        else:
            asset = spec.base
            hold = order.remaining
        account.change_hold(asset, hold)
        order.hold_asset, order.hold_remaining = asset, hold
        buys, sells = self._resting[spec.pair_id]
        if order.side == "buy":
            insort(buys, order, key=_buy_priority)
        else:
            insort(sells, order, key=_sell_priority)
        self._owners[order.txid] = account
        self._market.pairs[spec.pair_id].add_own(order.side == "buy", order.limit_ticks,
                                                 order.remaining_lots)  # fmt: skip
        self._emit_balances(account, [account.change(asset)])

    def add_pair(self, pair_id: str) -> None:
        """Make room for a newly listed pair's resting orders."""
        self._resting.setdefault(pair_id, ([], []))
        pm = self._market.pairs[pair_id]
        pm.on_own_hit = functools.partial(self._background_hit, pm)

    def _background_hit(self, pm: PairMarket, taker_buys: bool, price: int, lots: int) -> None:
        """Another trader's market order reached account orders resting at `price`."""
        buys, sells = self._resting[pm.spec.pair_id]
        for order in [o for o in (sells if taker_buys else buys) if o.limit_ticks == price]:
            take = min(lots, order.remaining_lots)
            if take <= 0:
                return
            self._fill(self._owners[order.txid], order, pm, price, take, maker=True)
            lots -= take

    def cancel_pair(self, pair_id: str, accounts: Iterable[Account]) -> None:
        """Cancel every open order on a pair that is being delisted."""
        for account in accounts:
            for order in list(account.open_orders.values()):
                if order.pair.pair_id == pair_id:
                    self._close(account, order, "canceled", "Market delisted")

    def adopt(self, account: Account, order: Order) -> None:
        """Rest an open order restored from saved state; its holds are already in the account."""
        buys, sells = self._resting[order.pair.pair_id]
        if order.side == "buy":
            insort(buys, order, key=_buy_priority)
        else:
            insort(sells, order, key=_sell_priority)
        self._owners[order.txid] = account
        pm = self._market.pairs[order.pair.pair_id]
        pm.add_own(order.side == "buy", order.limit_ticks, order.remaining_lots)

    # -- fills ---------------------------------------------------------------------------

    def _fill(
        self,
        account: Account,
        order: Order,
        pm: PairMarket,
        ticks: int,
        lots: int,
        maker: bool,
        printed: bool = True,
    ) -> None:
        """Book one execution; `printed=False` when the other side's fill prints the trade."""
        if order.txid in self._owners:  # a resting order: its public liquidity shrinks
            pm.add_own(order.side == "buy", order.limit_ticks, -lots)
        spec = order.pair
        quote_places = self._decimals(spec.quote)
        price, qty = pm.price(ticks), pm.qty(lots)
        cost = quant(price * qty, quote_places)
        fee = quant(cost * (MAKER_FEE_RATE if maker else TAKER_FEE_RATE), quote_places)
        remaining_before = order.remaining
        now = self._clock()
        fill = Fill(
            txid=self._ids.trade_txid(),
            trade_id=self._ids.trade_id(),
            order_txid=order.txid,
            postxid=self._ids.trade_txid(),
            pair=spec,
            side=order.side,
            ordertype=order.ordertype,
            price=price,
            vol=qty,
            cost=cost,
            fee=fee,
            time=now,
            maker=maker,
        )
        order.vol_exec += qty
        order.cost += cost
        order.fee += fee
        order.trade_ids.append(fill.txid)
        if order.hold_asset is not None and order.hold_remaining:
            if order.remaining == 0:
                release = order.hold_remaining
            else:
                share = order.hold_remaining * qty / remaining_before
                places = self._decimals(order.hold_asset)
                release = min(order.hold_remaining, quant(share, places, ROUND_UP))
            account.change_hold(order.hold_asset, -release)
            order.hold_remaining -= release
        if order.side == "buy":
            account.apply(spec.quote, -(cost + fee))
            account.apply(spec.base, qty)
            base_amount, quote_amount = qty, -cost
        else:
            account.apply(spec.base, -qty)
            account.apply(spec.quote, cost - fee)
            base_amount, quote_amount = -qty, cost
        account.fills.append(fill)
        taker_side = order.side if not maker else "sell" if order.side == "buy" else "buy"
        if printed:
            taker_type = order.ordertype if not maker else "market"
            pm.record_trade(ticks, lots, taker_side, taker_type, now)
        if order.remaining == 0:
            order.status, order.closetm = "closed", now
            self._retire(account, order)
        for listener in self.listeners:
            listener.on_fill(account, order, fill)
        self._emit_order(account, order, "filled" if order.status == "closed" else "status")
        changes = [
            account.change(spec.quote, quote_amount, fee, fill.txid, "trade"),
            account.change(spec.base, base_amount, ZERO, fill.txid, "trade"),
        ]
        self._emit_balances(account, changes)

    def on_tick(self) -> None:
        """Fill resting limits the market has moved through (buys when ask <= limit, etc.)."""
        for pair_id, (buys, sells) in self._resting.items():
            if buys or sells:
                pm = self._market.pairs[pair_id]
                self._sweep(pm, buys, resting_buys=True)
                self._sweep(pm, sells, resting_buys=False)

    def _sweep(self, pm: PairMarket, resting: list[Order], resting_buys: bool) -> None:
        while resting:
            order = resting[0]
            plan = pm.plan_take(resting_buys, order.remaining_lots, order.limit_ticks)
            if not plan:
                return
            pm.consume(resting_buys, plan)
            lots = sum(lots for _, lots in plan)
            self._fill(self._owners[order.txid], order, pm, order.limit_ticks, lots, maker=True)
            if order.is_open:
                return

    # -- cancellation --------------------------------------------------------------------

    def cancel(self, account: Account, txid: str | None, cl_ord_id: str | None = None) -> int:
        """Cancel by txid (or userref), or by cl_ord_id; returns how many were open.

        As Kraken answers: a txid names an open order or is unknown (a closed order's txid
        raises Unknown order), while a cl_ord_id of an order that has closed answers count 0.
        """
        if cl_ord_id is not None:
            targets = [o for o in account.orders.values() if o.cl_ord_id == cl_ord_id]
        elif txid is not None and txid in account.open_orders:
            targets = [account.open_orders[txid]]
        elif txid is not None and txid.lstrip("-").isdigit():
            targets = [o for o in account.open_orders.values() if o.userref == int(txid)]
        else:
            targets = []
        if not targets:
            raise KrakenError(errors.UNKNOWN_ORDER)
        count = 0
        for order in targets:
            if order.is_open:
                self._close(account, order, "canceled", "User requested")
                count += 1
        return count

    def cancel_all(self, account: Account) -> int:
        orders = list(account.open_orders.values())
        for order in orders:
            self._close(account, order, "canceled", "User requested")
        return len(orders)

    def _close(self, account: Account, order: Order, status: str, reason: str) -> None:
        order.status, order.reason, order.closetm = status, reason, self._clock()
        changes: list[BalanceChange] = []
        if order.hold_asset is not None and order.hold_remaining:
            account.change_hold(order.hold_asset, -order.hold_remaining)
            order.hold_remaining = ZERO
            changes.append(account.change(order.hold_asset))
        self._retire(account, order)
        self._emit_order(account, order, "canceled" if status == "canceled" else "filled")
        if changes:
            self._emit_balances(account, changes)

    def _retire(self, account: Account, order: Order) -> None:
        account.open_orders.pop(order.txid, None)
        if self._owners.pop(order.txid, None) is not None:
            buys, sells = self._resting[order.pair.pair_id]
            (buys if order.side == "buy" else sells).remove(order)
            pm = self._market.pairs.get(order.pair.pair_id)
            if pm is not None and order.remaining_lots:
                pm.add_own(order.side == "buy", order.limit_ticks, -order.remaining_lots)

    def _emit_order(self, account: Account, order: Order, exec_type: str) -> None:
        for listener in self.listeners:
            listener.on_order(account, order, exec_type)

    def _emit_balances(self, account: Account, changes: list[BalanceChange]) -> None:
        for listener in self.listeners:
            listener.on_balances(account, changes)
