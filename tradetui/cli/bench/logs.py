"""Provides the logging benchmark: records/s written with rotation on, and the caller's cost."""

from __future__ import annotations

import base64
import logging
import os
import tempfile
import time
from pathlib import Path

from tradetui.cli.bench.figures import Figure, percentile
from tradetui.logs import flush_logging, register_secret, setup_logging, shutdown_logging

RATE_RECORDS = 200_000
"""About 35 MB of JSON lines: the 10 MiB log file rotates three times during the run."""
ENQUEUE_SAMPLES = 20_000
ENQUEUE_CHUNK = 1_000
"""Records timed between two flushes, so the writer's backlog stays as small as in real use."""


def _record(log: logging.Logger, i: int) -> None:
    """One structured record shaped like the engine's fill lines."""
    log.info(
        "fill %s %s %s @ %s (%s)",
        "buy",
        "0.0125",
        "BTC/USD",
        60_012.5 + i % 100,
        "paper",
        extra={"event": "fill", "mode": "paper"},
    )


def bench_logging(
    records: int = RATE_RECORDS, samples: int = ENQUEUE_SAMPLES, log_dir: Path | None = None
) -> list[Figure]:
    """Structured records/s through the real setup (queue, writer thread, redaction, JSON, 10 MiB
    rotation) until the file is flushed; and the p99 cost of one ``log.info`` to its caller.

    An API key and secret are registered first, as a live session registers its credentials, so
    every record is also searched for them: more representative than a run with none registered,
    where redaction skips that search."""
    for size in (42, 66):  # base64 of this many random bytes: 56 and 88 characters, Kraken-shaped
        register_secret(base64.b64encode(os.urandom(size)).decode())
    with tempfile.TemporaryDirectory(prefix="tradetui-bench-") as directory:
        setup_logging(log_dir or Path(directory), "INFO")
        try:
            log = logging.getLogger("tradetui.cli.bench.logging")
            for i in range(2_000):  # warm-up: first-call costs and the file's first write
                _record(log, i)
            flush_logging()
            rate, rate_per_cpu = _written_per_second(log, records)
            enqueue_ns = _enqueue_costs_ns(log, samples)
        finally:
            shutdown_logging()
    return [
        Figure("logging.rate", rate, "records/s"),
        Figure("logging.rate_per_cpu", rate_per_cpu, "records/cpu-s"),
        Figure("logging.enqueue_p50_us", percentile(enqueue_ns, 50) / 1000, "us"),
        Figure("logging.enqueue_p99_us", percentile(enqueue_ns, 99) / 1000, "us"),
    ]


def _written_per_second(log: logging.Logger, records: int) -> tuple[float, float]:
    """Records per second of wall time, and per second of this process's CPU time: the second
    says what the first would be on an idle machine (the caller and the writer share the GIL)."""
    started, cpu_started = time.perf_counter(), time.process_time()
    for i in range(records):
        _record(log, i)
    flush_logging()  # end to end: every record is in the file, not just queued
    cpu_s = time.process_time() - cpu_started
    return records / (time.perf_counter() - started), records / cpu_s


def _enqueue_costs_ns(log: logging.Logger, samples: int) -> list[int]:
    clock = time.perf_counter_ns
    costs_ns: list[int] = []
    for chunk_start in range(0, samples, ENQUEUE_CHUNK):
        for i in range(chunk_start, chunk_start + ENQUEUE_CHUNK):
            start = clock()
            _record(log, i)
            costs_ns.append(clock() - start)
        flush_logging()
    costs_ns.sort()
    return costs_ns
