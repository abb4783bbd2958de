"""Publishes the private WS v2 channels (`executions`, `balances`) from matching events."""

from __future__ import annotations

import json
from typing import Any

from tradetui.sim.venue.accounts import Account, BalanceChange
from tradetui.sim.venue.exchange import SimExchange
from tradetui.sim.venue.orders import Fill, Order
from tradetui.sim.ws.render import (
    balance_snapshot,
    balance_update,
    order_entry,
    trade_entry,
)
from tradetui.sim.ws.session import WsSession

SNAPSHOT_TRADES = 50


class PrivateFeeds:
    """Subscriptions per account; an ExchangeListener of the matching engine."""

    def __init__(self, exchange: SimExchange) -> None:
        self.exchange = exchange
        self._executions: dict[str, set[WsSession]] = {}
        self._balances: dict[str, set[WsSession]] = {}
        exchange.engine.listeners.append(self)

    def _subscribers(self, channel: str) -> dict[str, set[WsSession]]:
        return self._executions if channel == "executions" else self._balances

    def is_subscribed(self, session: WsSession, channel: str, account: Account) -> bool:
        return session in self._subscribers(channel).get(account.name, ())

    def subscribe_executions(
        self, session: WsSession, account: Account, snap_orders: bool, snap_trades: bool
    ) -> None:
        self._executions.setdefault(account.name, set()).add(session)
        now = self.exchange.clock()
        if snap_trades:
            fills = account.fills[-SNAPSHOT_TRADES:]
            data = [trade_entry(self.exchange.instruments, account.orders[f.order_txid], f)
                    for f in fills]  # fmt: skip
            self._send(session, "executions", "snapshot", data)
        if snap_orders:
            data = [order_entry(order, "new", now) for order in account.open_orders.values()]
            self._send(session, "executions", "snapshot", data)

    def subscribe_balances(self, session: WsSession, account: Account) -> None:
        self._balances.setdefault(account.name, set()).add(session)
        data = balance_snapshot(self.exchange.instruments, account)
        self._send(session, "balances", "snapshot", data)

    def unsubscribe(self, session: WsSession, channel: str, account: Account) -> bool:
        subscribers = self._subscribers(channel).get(account.name, set())
        found = session in subscribers
        subscribers.discard(session)
        return found

    def drop(self, session: WsSession) -> None:
        for channel in (self._executions, self._balances):
            for subscribers in channel.values():
                subscribers.discard(session)

    @staticmethod
    def _send(session: WsSession, channel: str, kind: str, data: list[dict[str, Any]]) -> None:
        session.send_sequenced(json.dumps({"channel": channel, "type": kind, "data": data}))

    def _fan_out(self, channel: str, account: Account, data: list[dict[str, Any]]) -> None:
        subscribers = self._subscribers(channel).get(account.name)
        if not subscribers:
            return
        text = json.dumps({"channel": channel, "type": "update", "data": data})
        for session in subscribers:
            session.send_sequenced(text)

    # -- ExchangeListener ----------------------------------------------------------------

    def on_order(self, account: Account, order: Order, exec_type: str) -> None:
        if self._executions.get(account.name):
            entry = order_entry(order, exec_type, self.exchange.clock())
            self._fan_out("executions", account, [entry])

    def on_fill(self, account: Account, order: Order, fill: Fill) -> None:
        if self._executions.get(account.name):
            entry = trade_entry(self.exchange.instruments, order, fill)
            self._fan_out("executions", account, [entry])

    def on_balances(self, account: Account, changes: list[BalanceChange]) -> None:
        if self._balances.get(account.name):
            now = self.exchange.clock()
            data = [balance_update(self.exchange.instruments, change, now) for change in changes]
            self._fan_out("balances", account, data)
