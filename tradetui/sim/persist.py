"""Saves the venue's accounts, orders, fills, nonces and id counters to a JSON file and back."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import tempfile
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from tradetui.sim.instruments import PairSpec
from tradetui.sim.venue.accounts import Account, BalanceChange
from tradetui.sim.venue.exchange import SimExchange
from tradetui.sim.venue.orders import Fill, Order

log = logging.getLogger(__name__)
FORMAT_VERSION = 1
SAVE_INTERVAL_S = 1.0


class SimStateError(Exception):
    """The state file cannot be read; the message names the file and what to do."""


# -- snapshot ----------------------------------------------------------------------------


def _order_json(order: Order) -> dict[str, Any]:
    return {
        "txid": order.txid,
        "pair": order.pair.pair_id,
        "side": order.side,
        "ordertype": order.ordertype,
        "vol": str(order.vol),
        "price": None if order.price is None else str(order.price),
        "opentm": order.opentm,
        "oflags": sorted(order.oflags),
        "timeinforce": order.timeinforce,
        "cl_ord_id": order.cl_ord_id,
        "userref": order.userref,
        "quote_volume": None if order.quote_volume is None else str(order.quote_volume),
        "status": order.status,
        "vol_exec": str(order.vol_exec),
        "cost": str(order.cost),
        "fee": str(order.fee),
        "closetm": order.closetm,
        "reason": order.reason,
        "trade_ids": list(order.trade_ids),
        "hold_asset": order.hold_asset,
        "hold_remaining": str(order.hold_remaining),
    }


def _fill_json(fill: Fill) -> dict[str, Any]:
    return {
        "txid": fill.txid,
        "trade_id": fill.trade_id,
        "order_txid": fill.order_txid,
        "postxid": fill.postxid,
        "pair": fill.pair.pair_id,
        "side": fill.side,
        "ordertype": fill.ordertype,
        "price": str(fill.price),
        "vol": str(fill.vol),
        "cost": str(fill.cost),
        "fee": str(fill.fee),
        "time": fill.time,
        "maker": fill.maker,
    }


def _account_json(account: Account) -> dict[str, Any]:
    return {
        "name": account.name,
        "api_key": account.api_key,
        "secret": account.secret,
        "balances": {asset: str(amount) for asset, amount in account.balances.items()},
        "holds": {asset: str(amount) for asset, amount in account.holds.items()},
        "orders": [_order_json(order) for order in account.orders.values()],
        "fills": [_fill_json(fill) for fill in account.fills],
        "last_nonce": account.last_nonce,
        "recent_nonces": list(account.recent_nonces),
    }


def snapshot(exchange: SimExchange) -> dict[str, Any]:
    """Everything a restarted simulator needs to meet its clients where they left it."""
    version, internal, gauss = exchange.ids.rng.getstate()
    return {
        "version": FORMAT_VERSION,
        "seed": exchange.seed,
        "schedule_elapsed_s": exchange.clock() - exchange.schedule.started_at,
        "ids": {
            "rng": [version, list(internal), gauss],
            "trade_seq": exchange.ids.trade_seq,
        },
        "accounts": [_account_json(account) for account in exchange.accounts.by_key.values()],
    }


# -- restore -----------------------------------------------------------------------------


def _decimal(value: Any) -> Decimal:
    if not isinstance(value, str):
        raise ValueError(f"expected a decimal string, got {value!r}")
    return Decimal(value)


def _pair(exchange: SimExchange, pair_id: Any) -> PairSpec:
    pair = exchange.instruments.pair(str(pair_id))
    if pair is None:
        raise ValueError(f"unknown pair {pair_id!r}")
    return pair


def _order(exchange: SimExchange, raw: dict[str, Any]) -> Order:
    order = Order(
        txid=str(raw["txid"]),
        pair=_pair(exchange, raw["pair"]),
        side=str(raw["side"]),
        ordertype=str(raw["ordertype"]),
        vol=_decimal(raw["vol"]),
        price=None if raw["price"] is None else _decimal(raw["price"]),
        opentm=float(raw["opentm"]),
        oflags=frozenset(raw["oflags"]),
        timeinforce=str(raw["timeinforce"]),
        cl_ord_id=raw["cl_ord_id"],
        userref=raw["userref"],
        quote_volume=None if raw["quote_volume"] is None else _decimal(raw["quote_volume"]),
    )
    order.status = str(raw["status"])
    order.vol_exec = _decimal(raw["vol_exec"])
    order.cost = _decimal(raw["cost"])
    order.fee = _decimal(raw["fee"])
    order.closetm = raw["closetm"]
    order.reason = raw["reason"]
    order.trade_ids = [str(txid) for txid in raw["trade_ids"]]
    order.hold_asset = raw["hold_asset"]
    order.hold_remaining = _decimal(raw["hold_remaining"])
    return order


def _fill(exchange: SimExchange, raw: dict[str, Any]) -> Fill:
    return Fill(
        txid=str(raw["txid"]),
        trade_id=int(raw["trade_id"]),
        order_txid=str(raw["order_txid"]),
        postxid=str(raw["postxid"]),
        pair=_pair(exchange, raw["pair"]),
        side=str(raw["side"]),
        ordertype=str(raw["ordertype"]),
        price=_decimal(raw["price"]),
        vol=_decimal(raw["vol"]),
        cost=_decimal(raw["cost"]),
        fee=_decimal(raw["fee"]),
        time=float(raw["time"]),
        maker=bool(raw["maker"]),
    )


def _restore_account(exchange: SimExchange, raw: dict[str, Any]) -> None:
    registry = exchange.accounts
    name = str(raw["name"])
    account = next((a for a in registry.by_key.values() if a.name == name), None)
    if account is None:
        account = registry.create(name)
    # Keys are restored rather than re-derived so a changed seed keeps the same credentials.
    registry.by_key.pop(account.api_key, None)
    account.api_key, account.secret = str(raw["api_key"]), str(raw["secret"])
    registry.by_key[account.api_key] = account
    account.balances = {str(a): _decimal(v) for a, v in raw["balances"].items()}
    account.holds = {str(a): _decimal(v) for a, v in raw["holds"].items()}
    orders = [_order(exchange, order) for order in raw["orders"]]
    account.orders = {order.txid: order for order in orders}
    account.open_orders = {order.txid: order for order in orders if order.is_open}
    account.fills = [_fill(exchange, fill) for fill in raw["fills"]]
    account.last_nonce = int(raw["last_nonce"])
    account.recent_nonces.clear()
    account.recent_nonces.extend(int(nonce) for nonce in raw["recent_nonces"])
    for order in account.open_orders.values():
        exchange.engine.adopt(account, order)


def restore(exchange: SimExchange, state: dict[str, Any]) -> None:
    """Load a `snapshot()` into a freshly built exchange; raises ValueError/KeyError/TypeError."""
    if state.get("version") != FORMAT_VERSION:
        raise ValueError(f"unsupported format version {state.get('version')!r}")
    version, internal, gauss = state["ids"]["rng"]
    exchange.ids.rng.setstate((int(version), tuple(int(word) for word in internal), gauss))
    exchange.ids.trade_seq = int(state["ids"]["trade_seq"])
    # The listing timetable carries on where it stopped, so pairs listed before the
    # restart (and orders on them) exist again before the accounts are restored.
    now = exchange.clock()
    exchange.schedule.started_at = now - float(state["schedule_elapsed_s"])
    exchange.schedule.apply(exchange, now)
    for raw_account in state["accounts"]:
        _restore_account(exchange, raw_account)


def load(exchange: SimExchange, path: Path) -> bool:
    """Restore `path` into `exchange` if the file exists; False when there was nothing to load."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise SimStateError(f"cannot read simulator state {path}: {exc.strerror}") from None
    try:
        state = json.loads(text)
        if not isinstance(state, dict):
            raise ValueError("not a JSON object")
        restore(exchange, state)
    except (ValueError, KeyError, TypeError, AttributeError, InvalidOperation) as exc:
        raise SimStateError(
            f"simulator state {path} is unreadable ({type(exc).__name__}: {exc}); "
            "delete it to start the venue afresh"
        ) from None
    return True


def write_atomically(path: Path, text: str) -> None:
    """Write to a temp file in the same directory, fsync, then rename over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as temp:
            temp.write(text)
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise


class StateSaver:
    """Saves an exchange's state when it changed: every second while running, and at stop.

    It listens to the matching engine for order, fill and balance events; nonces
    move on every private request, so their high-water marks are compared too.
    """

    def __init__(self, exchange: SimExchange, path: Path) -> None:
        self.exchange = exchange
        self.path = path
        self.dirty = False
        self._saved_nonces = self._nonces()
        self._task: asyncio.Task[None] | None = None
        self._writing: asyncio.Future[None] | None = None
        exchange.engine.listeners.append(self)

    def _nonces(self) -> tuple[int, ...]:
        return tuple(account.last_nonce for account in self.exchange.accounts.by_key.values())

    def start(self) -> None:
        self._task = asyncio.create_task(self._save_loop(), name="sim-state-saver")

    async def _save_loop(self) -> None:
        while True:
            await asyncio.sleep(SAVE_INTERVAL_S)
            try:
                await self.save_if_dirty()
            except OSError as exc:
                log.warning("cannot save simulator state %s: %s", self.path, exc)

    async def save_if_dirty(self) -> None:
        if self.dirty or self._nonces() != self._saved_nonces:
            await self.save()

    async def save(self) -> None:
        # Serialise on the loop so the snapshot is consistent; only the disk write leaves it.
        text = json.dumps(snapshot(self.exchange))
        self.dirty, self._saved_nonces = False, self._nonces()
        if self._writing is not None and not self._writing.done():
            await asyncio.shield(self._writing)
        self._writing = asyncio.ensure_future(asyncio.to_thread(write_atomically, self.path, text))
        # Shielded: a cancelled save loop must not leave an older write to land after a newer one.
        await asyncio.shield(self._writing)

    async def stop(self) -> None:
        """Stop the periodic saves and write the final state."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._writing is not None:
            with contextlib.suppress(OSError):
                await self._writing
        await self.save()

    # -- ExchangeListener ----------------------------------------------------------------

    def on_order(self, account: Account, order: Order, exec_type: str) -> None:
        self.dirty = True

    def on_fill(self, account: Account, order: Order, fill: Fill) -> None:
        self.dirty = True

    def on_balances(self, account: Account, changes: list[BalanceChange]) -> None:
        self.dirty = True
