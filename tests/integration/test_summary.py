"""The end-of-session summary: figures from a constructed ledger, and a headless run printing it."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.test_headless import stop_after_first_paper_fill
from tradetui.core.model import Mode
from tradetui.core.schema import migrate
from tradetui.core.summary import format_summary, summarize


def ledger(path: Path, fills: list[tuple[str, str, str, str, str, float]]) -> Path:
    """A database holding ``fills`` as (symbol, side, amount, price, fee, ts), paper mode."""
    database = path / "t.db"
    with sqlite3.connect(database) as db:
        migrate(db)
        for n, (symbol, side, amount, price, fee, ts) in enumerate(fills):
            db.execute(
                "INSERT INTO fills VALUES (?,?,?,?,?,?,?,?,?,?)",
                (f"f{n}", f"o{n}", "PAPER", symbol, side, amount, price, fee, "USD", ts),
            )
        for gate, code in [("signal_confidence", "LOW_CONFIDENCE")] * 2 + [("order_rate", "RATE")]:
            db.execute(
                "INSERT INTO audit (ts, mode, strategy, symbol, side, order_type, amount_requested,"
                " amount_allowed, verdict, gate, code, client_id, gates)"
                " VALUES (50, 'PAPER', 's', 'A/USD', 'buy', 'market', '1', '0', 'REJECT', ?, ?,"
                " NULL, '[]')",
                (gate, code),
            )
    return database


def test_round_trips_win_rate_pnl_fees_and_drawdown(tmp_path: Path) -> None:
    database = ledger(
        tmp_path,
        [
            ("A/USD", "buy", "1", "100", "0.1", 5.0),  # before the session: opens a position
            ("A/USD", "sell", "1", "103", "0.1", 11.0),  # closes it in the session: +3, a win
            ("A/USD", "buy", "2", "100", "0.2", 12.0),
            ("A/USD", "sell", "1", "95", "0.1", 13.0),  # partly closed at a loss: -5
            ("A/USD", "sell", "1", "99", "0.1", 14.0),  # closed: -1; the trip lost
            ("B/USD", "buy", "1", "50", "0.05", 15.0),  # still open at the end
        ],
    )
    summary = summarize(
        database, Mode.PAPER, since=10.0, until=40.0, marks={"B/USD": 52.0}, refusals={"BUDGET": 4}
    )
    assert summary.fills == 5
    assert (summary.round_trips, summary.winning_trips, summary.win_rate) == (2, 1, 0.5)
    assert summary.fees == pytest.approx(0.55)
    assert summary.realized_pnl == pytest.approx(3 - 5 - 1 - 0.55)
    assert summary.unrealized_pnl == pytest.approx(2.0)
    assert summary.pnl == pytest.approx(-1.55)
    # Peak +2.9 after the first close; trough after the sale at 95: realized -2.4 and the
    # remaining unit marked at 95 (-5), so -7.4.
    assert summary.max_drawdown == pytest.approx(2.9 + 7.4)
    assert summary.rejections == {
        "signal_confidence:LOW_CONFIDENCE": 2,
        "order_rate:RATE": 1,
        "strategy:BUDGET": 4,
    }
    table = "\n".join(format_summary(summary))
    assert "win rate" in table and "50.0 %" in table
    assert "signal_confidence:LOW_CONFIDENCE  2" in table


def test_no_closed_trip_has_no_win_rate(tmp_path: Path) -> None:
    database = ledger(tmp_path, [("A/USD", "buy", "1", "100", "0", 20.0)])
    summary = summarize(database, Mode.PAPER, since=10.0, until=40.0, marks={"A/USD": 90.0})
    assert summary.win_rate is None
    assert summary.max_drawdown == pytest.approx(10.0)
    assert "n/a" in "\n".join(format_summary(summary))


HEADLESS_ENV = {"TRADETUI_STRATEGY__INTERVAL_S": "0.3", "TRADETUI_OPS__HTTP_ENABLED": "false"}


def headless(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tradetui", "--no-ui", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
        env={**os.environ, **HEADLESS_ENV},
    )


def test_a_headless_run_with_a_chosen_strategy_ends_with_the_summary(tmp_path: Path) -> None:
    data_dir = tmp_path / "d"
    process = subprocess.Popen(
        [sys.executable, "-m", "tradetui", "--no-ui", "--data-dir", str(data_dir)]
        + ["--strategy", "pulse"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **HEADLESS_ENV},
    )
    out, err = stop_after_first_paper_fill(process, data_dir)
    assert process.returncode == 0, err
    lines = out.strip().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("session summary: PAPER"))
    table = lines[start:]  # the table is the end of the output
    labels = [line.split("  ")[1].strip() for line in table[1:8]]
    assert labels == [
        "trades",
        "round trips",
        "win rate",
        "PnL",
        "fees",
        "max drawdown",
        "rejections",
    ]
    with sqlite3.connect(data_dir / "tradetui.db") as db:
        fills = db.execute("SELECT COUNT(*) FROM fills WHERE mode = 'PAPER'").fetchone()[0]
    assert fills >= 1
    assert table[1].split()[1] == str(fills)  # "trades  N fills, M orders"


def test_with_json_logs_the_summary_is_a_json_record_and_stdout_stays_json(tmp_path: Path) -> None:
    result = headless(
        tmp_path / "d", "--strategy", "grid", "--run-for", "1", "--log-format", "json"
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines() if line]
    [summary] = [r for r in records if r.get("event") == "summary"]
    assert summary["fills"] >= 0 and "rejections" in summary and "max_drawdown" in summary
    assert records[-1] is summary
