"""The store's schema: versioned migrations, a newer database refused, kv keys as an enum."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tradetui.core import schema as store_module
from tradetui.core.schema import Key, migrate, schema_version
from tradetui.core.store import Store, StoreError


def version_of(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT value FROM kv WHERE key = 'schema_version'").fetchone()[0])


async def test_a_new_database_is_created_at_the_current_schema(tmp_path: Path) -> None:
    store = Store(tmp_path / "t.db")
    await store.open()
    await store.close()
    assert version_of(tmp_path / "t.db") == schema_version() >= 1
    with sqlite3.connect(tmp_path / "t.db") as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"kv", "orders", "fills", "audit", "markets"} <= tables


async def test_an_older_database_runs_only_the_steps_it_lacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "t.db"
    with sqlite3.connect(path) as db:
        assert migrate(db) == 0  # an empty file is version 0
        db.execute("INSERT INTO kv VALUES ('trading_state', 'HALTED')")
    ran: list[int] = []

    def add_notes(db: sqlite3.Connection) -> None:
        ran.append(2)
        db.execute("CREATE TABLE notes (text TEXT NOT NULL)")

    monkeypatch.setattr(store_module, "MIGRATIONS", (*store_module.MIGRATIONS, add_notes))
    for _ in range(2):  # the second open finds nothing to do
        store = Store(path)
        await store.open()
        assert await store.get_value(Key.TRADING_STATE) == "HALTED"  # data kept
        await store.close()
    assert ran == [2] and version_of(path) == 2


async def test_a_database_of_a_newer_tradetui_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    with sqlite3.connect(path) as db:
        migrate(db)
        db.execute("UPDATE kv SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match=r"schema 99 is newer than this tradetui's \(1\)"):
        await Store(path).open()
    assert version_of(path) == 99


async def test_qualified_keys_are_stored_as_key_colon_qualifier(tmp_path: Path) -> None:
    store = Store(tmp_path / "t.db")
    await store.open()
    await store.put_value(Key.DAY_START, "2026-12-04 10000.0", "PAPER")
    assert await store.get_value(Key.DAY_START, "PAPER") == "2026-12-04 10000.0"
    assert await store.get_value(Key.DAY_START, "LIVE") is None
    await store.close()
    with sqlite3.connect(tmp_path / "t.db") as db:
        keys = {row[0] for row in db.execute("SELECT key FROM kv")}
    assert "day_start:PAPER" in keys
