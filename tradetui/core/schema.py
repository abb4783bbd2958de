"""Provides the store's schema: the kv keys, the tables, and the migrations that take a database
from any older schema version to this tradetui's."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from enum import StrEnum


class SchemaError(Exception):
    """The database's schema is not one this tradetui can use (one line)."""


class Key(StrEnum):
    """The keys of the ``kv`` table. A key marked per ledger or per leader is stored as
    ``<key>:<qualifier>`` (``day_start:PAPER``, ``copy:whale``)."""

    SCHEMA_VERSION = "schema_version"
    """Which migration the database is at."""
    TRADING_STATE = "trading_state"
    """ACTIVE, PAUSED or HALTED: restored at start-up, so a kill switch survives a restart."""
    SESSION = "session"
    """``running`` while an engine runs, ``clean`` after a clean stop: tells a crash apart."""
    COOLDOWNS = "cooldowns"
    """JSON: cooldown end time by symbol (``*`` for all)."""
    DAY_START = "day_start"
    """Per ledger: ``<UTC day> <equity>``, the daily-loss reference."""
    PEAK_EQUITY = "peak_equity"
    """Per ledger: the highest fully priced equity, the drawdown reference."""
    COPY = "copy"
    """Per leader: the copy trader's handled fills and tallies (JSON)."""
    LIVE_SEEN = "live_seen"
    """``yes`` once the engine has traded live on this data dir: the first live start pauses."""


_SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
    client_id TEXT PRIMARY KEY, mode TEXT NOT NULL, symbol TEXT NOT NULL, side TEXT NOT NULL,
    order_type TEXT NOT NULL, amount TEXT NOT NULL, price TEXT, status TEXT NOT NULL,
    filled TEXT NOT NULL, average_price TEXT, venue_id TEXT, strategy TEXT NOT NULL,
    created_at REAL NOT NULL, updated_at REAL NOT NULL, error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS orders_status ON orders (status);
CREATE TABLE IF NOT EXISTS fills (
    fill_id TEXT PRIMARY KEY, client_id TEXT NOT NULL, mode TEXT NOT NULL, symbol TEXT NOT NULL,
    side TEXT NOT NULL, amount TEXT NOT NULL, price TEXT NOT NULL, fee TEXT NOT NULL,
    fee_currency TEXT NOT NULL, ts REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, mode TEXT NOT NULL,
    strategy TEXT NOT NULL, symbol TEXT NOT NULL, side TEXT NOT NULL, order_type TEXT NOT NULL,
    amount_requested TEXT NOT NULL, amount_allowed TEXT NOT NULL, verdict TEXT NOT NULL,
    gate TEXT, code TEXT, client_id TEXT, gates TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS markets (
    venue TEXT NOT NULL, symbol TEXT NOT NULL, status TEXT NOT NULL, first_seen REAL NOT NULL,
    last_seen REAL NOT NULL, changed_at REAL NOT NULL, PRIMARY KEY (venue, symbol)
);
"""

Migration = Callable[[sqlite3.Connection], None]
"""One step of the schema, run inside one transaction on a plain sqlite3 connection."""


def _create_v1(db: sqlite3.Connection) -> None:
    db.executescript(_SCHEMA_V1)


MIGRATIONS: tuple[Migration, ...] = (_create_v1,)
"""``MIGRATIONS[n]`` takes a database from schema version ``n`` to ``n + 1`` (0: empty file)."""


def schema_version() -> int:
    """The schema version this tradetui writes."""
    return len(MIGRATIONS)


def migrate(db: sqlite3.Connection) -> int:
    """Bring ``db`` to the current schema; returns the version it was at. A database of a newer
    tradetui is refused (SchemaError), never rewritten."""
    has_kv = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kv'")
    row = (
        db.execute("SELECT value FROM kv WHERE key = ?", (Key.SCHEMA_VERSION.value,)).fetchone()
        if has_kv.fetchone()
        else None
    )
    found = int(row[0]) if row is not None else 0
    if found > schema_version():
        raise SchemaError(
            f"database schema {found} is newer than this tradetui's ({schema_version()}); "
            "upgrade tradetui or use another --data-dir"
        )
    for version in range(found, schema_version()):
        with db:  # one transaction per step: a failed step leaves the previous version whole
            MIGRATIONS[version](db)
            db.execute(
                "INSERT OR REPLACE INTO kv VALUES (?, ?)",
                (Key.SCHEMA_VERSION.value, str(version + 1)),
            )
    return found
