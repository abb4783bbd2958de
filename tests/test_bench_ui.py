"""Tests the UI benchmarks: the figures each reports, and the snapshots the frame benchmark feeds."""

from __future__ import annotations

import math

from tradetui.cli.bench.figures import Figure
from tradetui.cli.bench.synthetic import SyntheticEngine
from tradetui.cli.bench.ui import bench_ui_first_paint, bench_ui_frame


def _assert_measured(figures: list[Figure], expected: list[tuple[str, str]]) -> None:
    assert [(f.name, f.unit) for f in figures] == expected
    assert all(math.isfinite(f.value) and f.value > 0 for f in figures)


def test_ui_frame_reports_p50_and_p99_in_ms() -> None:
    figures = bench_ui_frame(samples=5, warmup=1)
    _assert_measured(
        figures,
        [("ui_frame.p50", "ms"), ("ui_frame.p99", "ms"), ("ui_frame_every_pane.p50", "ms")],
    )
    assert figures[0].value <= figures[1].value


def test_ui_first_paint_reports_median_and_max_in_ms() -> None:
    """Raises unless the app drew its first frame and then quit on q (no process left behind)."""
    figures = bench_ui_first_paint(runs=1)
    _assert_measured(figures, [("ui_first_paint.median", "ms"), ("ui_first_paint.max", "ms")])
    assert figures[0].value <= figures[1].value


def test_each_synthetic_snapshot_moves_every_quote_of_twenty_symbols() -> None:
    """Guards the frame benchmark's meaning: 20 symbols, all of them changed per snapshot."""
    engine = SyntheticEngine()
    before = engine.snapshot()
    after = engine.advance()
    assert engine.snapshot() is after
    assert len(after.symbols) == len(after.quotes) == 20
    assert all(after.quotes[s] != before.quotes[s] for s in after.symbols)
    assert after.taken_at > before.taken_at
    assert after.positions and after.open_orders and after.gates and after.breakers
    assert all(len(after.trends[s]) > 1 for s in after.symbols)


def test_ui_benchmarks_are_registered() -> None:
    from tradetui.cli.bench import BENCHMARKS

    assert {"ui_first_paint", "ui_frame"} <= set(BENCHMARKS)


def test_frame_benchmark_frames_reach_its_driver_as_terminal_bytes() -> None:
    """Guards what ui_frame times: Textual's own terminal encoding, delivered to the driver."""
    import asyncio

    from tradetui.cli.bench.ui import FRAME_SIZE, _FrameBenchApp

    async def run() -> _FrameBenchApp:
        app = _FrameBenchApp(SyntheticEngine())
        async with app.run_test(headless=False, size=FRAME_SIZE) as pilot:
            for _ in range(500):
                if app.snapshots_shown and app.frame_ends_cpu_ns:
                    break
                await pilot.pause(0.01)
            assert not app.is_headless
        return app

    app = asyncio.run(run())
    assert app.frame_ends_cpu_ns
    # A full 160x48 screen of text and escape sequences, not an empty write.
    assert app.terminal_chars_written > FRAME_SIZE[0] * FRAME_SIZE[1]


def test_tradetui_imports_no_private_textual_module() -> None:
    """Textual's underscore modules change without notice; only its public API is used."""
    import ast
    from pathlib import Path

    import tradetui

    offenders = []
    for path in Path(tradetui.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            if any(
                part.startswith("_") and name.startswith("textual.")
                for name in names
                for part in name.split(".")[1:]
            ):
                offenders.append(f"{path}:{node.lineno}")
    assert offenders == []
