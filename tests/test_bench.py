"""Tests `tradetui bench`: JSON-lines output, the figures each benchmark reports, unknown names."""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

import pytest

from tradetui.cli.bench import BENCHMARKS, main


def _json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_nonce_json_prints_one_parseable_line_with_a_positive_rate(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["nonce", "--json"]) == 0
    figures = _json_lines(capsys.readouterr().out)
    assert [f["name"] for f in figures] == ["nonce.rate"]
    assert figures[0]["unit"] == "nonces/s"
    value = figures[0]["value"]
    assert isinstance(value, float) and value > 0


def test_risk_eval_json_reports_p50_and_p99_in_microseconds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["risk_eval", "--json"]) == 0
    figures = {str(f["name"]): f for f in _json_lines(capsys.readouterr().out)}
    assert set(figures) == {"risk_eval.p50", "risk_eval.p99"}
    assert all(f["unit"] == "us" for f in figures.values())
    p50, p99 = figures["risk_eval.p50"]["value"], figures["risk_eval.p99"]["value"]
    assert isinstance(p50, float) and isinstance(p99, float)
    assert 0 < p50 <= p99


def test_risk_cases_take_the_full_gate_chain() -> None:
    """Guards the benchmark's meaning: its intents must not be rejected early by some gate."""
    from tradetui.cli.bench import _risk_cases
    from tradetui.config import RiskSettings
    from tradetui.core.model import Verdict
    from tradetui.core.risk import GATE_NAMES, RiskGuard

    guard = RiskGuard(RiskSettings())
    decisions = [guard.evaluate(intent, ctx) for intent, ctx in _risk_cases()]
    assert all(len(d.gates) == len(GATE_NAMES) for d in decisions)
    assert Verdict.REDUCE in {d.verdict for d in decisions}
    assert all(d.approved for d in decisions)


def test_table_output_lists_each_figure(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["risk_eval"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["name", "value", "unit"]
    assert [line.split()[0] for line in out[1:]] == ["risk_eval.p50", "risk_eval.p99"]


def test_unknown_benchmark_is_a_one_line_error_with_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["nonce", "warp_drive"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    # Built from the table: benchmarks get added, and each addition must not break this test.
    assert captured.err.strip().splitlines() == [
        f"tradetui bench: unknown benchmark 'warp_drive'; choose from {', '.join(BENCHMARKS)}"
    ]


def test_sim_ws_reports_a_positive_message_rate() -> None:
    """Short run: the figure is named and positive (speed is the benchmark's job, not the test's)."""
    from tradetui.cli.bench.sim import bench_sim_ws

    figures = bench_sim_ws(seconds=0.5, warmup_s=0.2)
    assert [(f.name, f.unit) for f in figures] == [
        ("sim_ws.rate", "msgs/s"),
        ("sim_ws.mixed_rate", "msgs/s"),
    ]
    assert all(f.value > 0 for f in figures)


def test_sim_rest_reports_a_positive_request_rate() -> None:
    from tradetui.cli.bench.sim import bench_sim_rest

    figures = bench_sim_rest(seconds=0.5)
    assert [(f.name, f.unit) for f in figures] == [("sim_rest.rate", "req/s")]
    assert figures[0].value > 0


def test_sim_benchmarks_are_registered(capsys: pytest.CaptureFixture[str]) -> None:
    from tradetui.cli.bench import BENCHMARKS

    assert {"sim_ws", "sim_rest"} <= set(BENCHMARKS)


def test_the_kill_switch_benchmark_halts_and_cancels_fifty_venue_orders() -> None:
    from tradetui.cli.bench.engine import bench_kill_switch

    figures = {f.name: f for f in bench_kill_switch()}  # raises if any order survives
    assert set(figures) == {"kill_switch.halt_ms", "kill_switch.cancel_all_ms"}
    assert 0 < figures["kill_switch.halt_ms"].value <= figures["kill_switch.cancel_all_ms"].value


def test_the_logging_benchmark_writes_through_the_real_setup_and_reports_its_figures(
    tmp_path: Path,
) -> None:
    from tradetui.cli.bench.logs import bench_logging

    figures = {f.name: f for f in bench_logging(records=3_000, samples=1_000, log_dir=tmp_path)}
    assert set(figures) == {
        "logging.rate",
        "logging.rate_per_cpu",
        "logging.enqueue_p50_us",
        "logging.enqueue_p99_us",
    }
    assert all(f.value > 0 for f in figures.values())
    assert "logging" in BENCHMARKS
    # Every record reached the file: warm-up, rate run and timed calls.
    assert len((tmp_path / "tradetui.jsonl").read_text().splitlines()) == 2_000 + 3_000 + 1_000


def test_md_ingest_reports_engine_ccxt_and_feed_figures() -> None:
    """Short run on a short recording: each figure is named, finite and positive; whether the
    feed outran both clients is the feed_rate figure's to say, not this test's."""
    from tradetui.cli.bench.md_ingest import bench_md_ingest

    figures = bench_md_ingest(seconds=0.5, warmup_s=0.2, record_frames=2_000)
    assert [(f.name, f.unit) for f in figures] == [
        ("md_ingest.rate", "msgs/s"),
        ("md_ingest.ccxt_rate", "msgs/s"),
        ("md_ingest.kept", "%"),
        ("md_ingest.engine_us_per_msg", "us"),
        ("md_ingest.ccxt_us_per_msg", "us"),
        ("md_ingest.applied_rate", "updates/s"),
        ("md_ingest.feed_rate", "msgs/cpu-s"),
    ]
    assert all(math.isfinite(f.value) and f.value > 0 for f in figures)
    values = {f.name: f.value for f in figures}
    assert values["md_ingest.kept"] == pytest.approx(
        values["md_ingest.rate"] / values["md_ingest.ccxt_rate"] * 100
    )


def test_the_replay_cycle_opens_with_every_snapshot_and_holds_updates_of_each_channel() -> None:
    """Guards the replay's meaning: ccxt applies book updates only on top of a snapshot, and the
    cycle carries what the engine subscribes to, for every symbol."""
    import asyncio

    from tradetui.cli.bench.replay import CHANNELS, record
    from tradetui.sim.server import SimServer

    symbols = ["BTC/USD", "ETH/USD"]

    async def recorded() -> list[str]:
        server = SimServer(host="127.0.0.1", port=0, seed=7, tick_interval=1e9)
        info = await server.start()
        try:
            return await record(info.ws_public, server, symbols, 500)
        finally:
            await server.stop()

    messages = [json.loads(text) for text in asyncio.run(recorded())]
    assert len(messages) == 500
    first_seen: dict[tuple[str, str], str] = {}
    for message in messages:
        for entry in message.get("data", []):
            first_seen.setdefault((message["channel"], entry["symbol"]), message["type"])
    for symbol in symbols:
        assert first_seen[("book", symbol)] == "snapshot"
        assert first_seen[("ticker", symbol)] == "snapshot"
    kinds = {(m["channel"], m.get("type")) for m in messages}
    assert {(channel, "update") for channel in CHANNELS} <= kinds


def test_ws_frames_and_chunks_round_trip_through_the_length_encodings() -> None:
    from tradetui.cli.bench.replay import chunked, ws_frame

    texts = ["x" * size for size in (0, 125, 126, 65_535, 65_536, 70_000)]
    for text in texts:
        frame = ws_frame(text)
        assert frame[0] == 0x81 and not frame[1] & 0x80  # final text frame, unmasked
        assert frame.endswith(text.encode()) and len(frame) - len(text) in (2, 4, 10)
    chunks = chunked(texts * 3, chunk_bytes=1_000)
    assert sum(count for _, count in chunks) == len(texts) * 3
    assert b"".join(chunk for chunk, _ in chunks) == b"".join(ws_frame(t) for t in texts * 3)


def test_peak_rss_is_the_measured_process_own_not_its_parents() -> None:
    """Guards the rss benchmark against the parent's peak leaking in across fork and exec: with
    ~300 MB held here, a 40 MB child must still measure about 40 MB."""
    from tradetui.cli.bench.engine import peak_rss_kib

    ballast = b"\x01" * (300 << 20)
    child = [sys.executable, "-c", "held = b'x' * (40 << 20)"]
    peak_mib = peak_rss_kib(child, dict(os.environ)) / 1024
    assert len(ballast) == 300 << 20
    assert 40 <= peak_mib < 100


def test_peak_rss_reports_a_failing_process_with_its_stderr() -> None:
    from tradetui.cli.bench.engine import peak_rss_kib

    command = [sys.executable, "-c", "raise SystemExit('no session today')"]
    with pytest.raises(RuntimeError, match="no session today"):
        peak_rss_kib(command, dict(os.environ))
