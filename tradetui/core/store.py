"""Provides the SQLite store: schema, a single writer task, and write-ahead order persistence."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiosqlite

from tradetui.core.model import (
    Decision,
    Fill,
    MarketRecord,
    Mode,
    Order,
    OrderStatus,
    OrderType,
    Side,
)
from tradetui.core.schema import Key, SchemaError, migrate

log = logging.getLogger("tradetui.store")


class StoreError(Exception):
    """The database cannot be used (corrupt, locked, unwritable); the message says which file."""


_Write = tuple[str, Sequence[Any], "asyncio.Future[None]"]


class Store:
    """All persistence. Writes go through one writer task that commits in batches."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: aiosqlite.Connection | None = None
        self._queue: asyncio.Queue[_Write | None] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self.writes_queued = 0
        """Writes queued since the store was made (a test reads it to see who writes)."""

    async def open(self) -> None:
        """Open (creating if needed, owner-only) and migrate the database."""
        try:
            await asyncio.to_thread(self._prepare)
            self._db = await aiosqlite.connect(self.path)
            await self._db.execute("PRAGMA synchronous=NORMAL")
        except BaseException as exc:
            # A half-opened connection's thread would keep the process alive: always close it.
            if self._db is not None:
                await self._db.close()
                self._db = None
            if isinstance(exc, sqlite3.DatabaseError):
                raise StoreError(
                    f"database {self.path} cannot be used ({exc}); move it aside to start fresh"
                ) from None
            if isinstance(exc, SchemaError):
                raise StoreError(f"database {self.path}: {exc}") from None
            raise
        self._writer = asyncio.create_task(self._write_loop(), name="store-writer")

    def _prepare(self) -> None:
        """Create the file owner-only, switch it to WAL and migrate it (blocking)."""
        new_file = not self.path.exists()
        db = sqlite3.connect(self.path)
        try:
            if new_file:
                os.chmod(self.path, 0o600)
            db.execute("PRAGMA journal_mode=WAL")
            migrate(db)
        finally:
            db.close()

    async def close(self) -> None:
        """Flush pending writes and close (the connection closes even if the flush fails)."""
        try:
            if self._writer is not None:
                await self._queue.put(None)
                await self._writer
        finally:
            self._writer = None
            if self._db is not None:
                await self._db.close()
                self._db = None

    async def _write_loop(self) -> None:
        # Type narrowing for mypy; the value is set on this path.
        assert self._db is not None  # nosec B101
        while True:
            item = await self._queue.get()
            batch = [item]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            writes = [w for w in batch if w is not None]
            try:
                for sql, params, _ in writes:
                    await self._db.execute(sql, params)
                await self._db.commit()
            except sqlite3.Error as exc:
                for _, _, done in writes:
                    if not done.done():
                        done.set_exception(StoreError(f"write to {self.path} failed: {exc}"))
            else:
                for _, _, done in writes:
                    if not done.done():
                        done.set_result(None)
            if None in batch:
                return

    def _submit(self, sql: str, params: Sequence[Any]) -> asyncio.Future[None]:
        self.writes_queued += 1
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((sql, params, done))
        return done

    async def save_order(self, order: Order) -> None:
        """Insert or update an order; returns once it is committed (write-ahead)."""
        await self.queue_order(order)

    def queue_order(self, order: Order) -> asyncio.Future[None]:
        """Queue an order update without waiting for the commit (writes keep their order).

        For updates after the venue answered: the venue already holds the truth, and a crash
        before the commit is repaired by reconciliation by client id.
        """
        done = self._submit(
            "INSERT OR REPLACE INTO orders VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                order.client_id,
                order.mode.value,
                order.symbol,
                order.side.value,
                order.order_type.value,
                str(order.amount),
                _opt(order.price),
                order.status.value,
                str(order.filled),
                _opt(order.average_price),
                order.venue_id,
                order.strategy,
                order.created_at,
                order.updated_at,
                order.error,
            ),
        )
        done.add_done_callback(_log_write_failure)
        return done

    async def save_fill(self, fill: Fill) -> None:
        """Record a fill (idempotent on fill_id)."""
        await self._submit(
            "INSERT OR IGNORE INTO fills VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                fill.fill_id,
                fill.client_id,
                fill.mode.value,
                fill.symbol,
                fill.side.value,
                str(fill.amount),
                str(fill.price),
                str(fill.fee),
                fill.fee_currency,
                fill.timestamp,
            ),
        )

    def audit(self, ts: float, mode: Mode, decision: Decision, client_id: str | None) -> None:
        """Queue one audit row for a risk decision (not awaited: it never delays an order)."""
        intent = decision.intent
        gates = [
            {
                "gate": g.gate,
                "passed": g.passed,
                "code": g.code,
                "value": g.value,
                "limit": g.limit,
                "detail": g.detail,
            }
            for g in decision.gates
        ]
        rejected = decision.rejected_by
        self._submit(
            "INSERT INTO audit (ts, mode, strategy, symbol, side, order_type, amount_requested,"
            " amount_allowed, verdict, gate, code, client_id, gates)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                ts,
                mode.value,
                intent.strategy,
                intent.symbol,
                intent.side.value,
                intent.order_type.value,
                str(intent.amount),
                str(decision.amount),
                decision.verdict.value,
                rejected.gate if rejected else None,
                rejected.code if rejected else None,
                client_id,
                json.dumps(gates),
            ),
        )

    def put_value(self, key: Key, value: str, qualifier: str = "") -> asyncio.Future[None]:
        """Queue a key-value pair for writing; await the result to know it is on disk."""
        return self._submit("INSERT OR REPLACE INTO kv VALUES (?, ?)", (_kv(key, qualifier), value))

    async def get_value(self, key: Key, qualifier: str = "") -> str | None:
        """Read a key-value pair."""
        rows = await self._read("SELECT value FROM kv WHERE key = ?", (_kv(key, qualifier),))
        return str(rows[0][0]) if rows else None

    async def orders(self, statuses: Iterable[OrderStatus] | None = None) -> list[Order]:
        """Orders, optionally only those in the given statuses, oldest first."""
        if statuses is None:
            rows = await self._read("SELECT * FROM orders ORDER BY created_at", ())
        else:
            wanted = [s.value for s in statuses]
            marks = ",".join("?" * len(wanted))
            rows = await self._read(
                # Only '?' placeholders are formatted in; values are bound parameters.
                f"SELECT * FROM orders WHERE status IN ({marks}) ORDER BY created_at",  # nosec B608
                wanted,
            )
        return [_order_from_row(row) for row in rows]

    async def live_orders_updated_since(self, since: float) -> list[Order]:
        """Live orders with a venue id touched since ``since`` (engine clock), any status."""
        rows = await self._read(
            "SELECT * FROM orders WHERE mode = ? AND venue_id IS NOT NULL AND updated_at >= ?",
            (Mode.LIVE.value, since),
        )
        return [_order_from_row(row) for row in rows]

    async def fills(self, mode: Mode) -> list[Fill]:
        """All fills of one ledger, oldest first."""
        rows = await self._read("SELECT * FROM fills WHERE mode = ? ORDER BY ts", (mode.value,))
        return [_fill_from_row(row) for row in rows]

    async def market_registry(self, venue: str) -> list[MarketRecord]:
        """Every market of ``venue`` the listing monitor has seen, with its last known status."""
        rows = await self._read(
            "SELECT symbol, status, first_seen, last_seen, changed_at FROM markets"
            " WHERE venue = ? ORDER BY symbol",
            (venue,),
        )
        return [MarketRecord(row[0], row[1], row[2], row[3], row[4]) for row in rows]

    def save_market(self, venue: str, record: MarketRecord) -> asyncio.Future[None]:
        """Queue one market registry row (insert or replace by venue and symbol)."""
        return self._submit(
            "INSERT OR REPLACE INTO markets VALUES (?,?,?,?,?,?)",
            (
                venue,
                record.symbol,
                record.status,
                record.first_seen,
                record.last_seen,
                record.changed_at,
            ),
        )

    def touch_markets(self, venue: str, seen_at: float) -> asyncio.Future[None]:
        """Queue one statement marking every listed market of ``venue`` as seen at ``seen_at``."""
        return self._submit(
            "UPDATE markets SET last_seen = ? WHERE venue = ? AND status != 'removed'",
            (seen_at, venue),
        )

    async def _read(self, sql: str, params: Sequence[Any]) -> list[Any]:
        # Type narrowing for mypy; the value is set on this path.
        assert self._db is not None, "store is not open"  # nosec B101
        async with self._db.execute(sql, params) as cursor:
            return list(await cursor.fetchall())


def _kv(key: Key, qualifier: str) -> str:
    return f"{key.value}:{qualifier}" if qualifier else key.value


def _log_write_failure(done: asyncio.Future[None]) -> None:
    if not done.cancelled() and done.exception() is not None:
        log.error("%s", done.exception())


def _opt(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _order_from_row(row: Sequence[Any]) -> Order:
    return Order(
        client_id=row[0],
        mode=Mode(row[1]),
        symbol=row[2],
        side=Side(row[3]),
        order_type=OrderType(row[4]),
        amount=Decimal(row[5]),
        price=_dec(row[6]),
        status=OrderStatus(row[7]),
        filled=Decimal(row[8]),
        average_price=_dec(row[9]),
        venue_id=row[10],
        strategy=row[11],
        created_at=row[12],
        updated_at=row[13],
        error=row[14],
    )


def _fill_from_row(row: Sequence[Any]) -> Fill:
    return Fill(
        fill_id=row[0],
        client_id=row[1],
        mode=Mode(row[2]),
        symbol=row[3],
        side=Side(row[4]),
        amount=Decimal(row[5]),
        price=Decimal(row[6]),
        fee=Decimal(row[7]),
        fee_currency=row[8],
        timestamp=row[9],
    )
