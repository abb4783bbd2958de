"""/health and /metrics over HTTP, for a real engine trading the simulator over 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import go_live, quiet_settings, wait_until
from tradetui.core.engine import Engine
from tradetui.core.model import OrderIntent, Side, Verdict
from tradetui.logs import flush_logging, setup_logging, shutdown_logging
from tradetui.ops.http import OpsError, OpsServer, start_ops_server

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def get_health(client: aiohttp.ClientSession, server: OpsServer) -> tuple[int, Any]:
    async with client.get(f"{server.url}/health") as response:
        return response.status, await response.json()


async def await_health(
    client: aiohttp.ClientSession, server: OpsServer, status: str, within_s: float = 20.0
) -> tuple[int, Any]:
    """Poll /health until it reports ``status``; fail the test after ``within_s`` seconds."""
    deadline = asyncio.get_running_loop().time() + within_s
    while True:
        code, document = await get_health(client, server)
        if document["status"] == status:
            return code, document
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"/health never said {status!r}; last: {document}")
        await asyncio.sleep(0.1)


async def scrape(client: aiohttp.ClientSession, server: OpsServer) -> Samples:
    """Every sample of /metrics, parsed by prometheus-client's own parser."""
    async with client.get(f"{server.url}/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == CONTENT_TYPE_LATEST
        text = await response.text()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def total(samples: Samples, name: str, **labels: str) -> float:
    """Sum of the samples called ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, lbls), v in samples.items() if n == name and wanted <= set(lbls))


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def served(engine: Engine) -> AsyncIterator[OpsServer]:
    server = OpsServer(engine, "127.0.0.1", 0)
    await server.start()
    yield server
    await server.stop()


async def test_health_is_down_then_ok_then_degraded_on_a_ws_stall_then_halted(
    make_engine: Callable[..., Engine], client: aiohttp.ClientSession
) -> None:
    engine = make_engine()
    server = OpsServer(engine, "127.0.0.1", 0)
    await server.start()
    assert server.port != 0  # port 0 asked for a free one; the bound one is known
    try:
        code, document = await get_health(client, server)
        assert (code, document["status"], document["connected"]) == (503, "down", False)

        await engine.start()
        code, document = await await_health(client, server, "ok")
        assert code == 200 and document["trading_state"] == "ACTIVE"
        assert document["mode"] == "PAPER"
        components = document["components"]
        assert set(components) == {
            "market_data",
            "balances_stream",
            "order_stream",
            "breakers",
            "store",
            "strategy",
        }
        assert set(components["market_data"]["symbols"]) == set(engine.settings.symbols)
        assert set(components["breakers"]) == {"market_data", "account", "orders"}

        engine.venue.sim.server.faults.update({"ws_stall": 0.1})  # type: ignore[union-attr]
        code, document = await await_health(client, server, "degraded")
        assert code == 200
        symbols = document["components"]["market_data"]["symbols"]
        assert any(s["status"] == "degraded" for s in symbols.values())
        assert document["reasons"]

        engine.halt()
        code, document = await get_health(client, server)
        assert (code, document["status"], document["trading_state"]) == (503, "halted", "HALTED")

        await engine.stop()
        code, document = await get_health(client, server)
        assert (code, document["status"]) == (503, "down")
    finally:
        await server.stop()
        await engine.stop()


async def test_metrics_parse_and_counters_move_with_trading(
    engine: Engine, served: OpsServer, client: aiohttp.ClientSession, tmp_path: Path
) -> None:
    setup_logging(tmp_path / "logs")
    try:
        before = await scrape(client, served)
        assert total(before, "tradetui_orders_submitted_total") == 0
        assert total(before, "tradetui_trading_state", tradetui_trading_state="ACTIVE") == 1
        assert total(before, "tradetui_health_status", tradetui_health_status="ok") == 1
        assert total(before, "tradetui_quote_age_seconds", symbol="SOL/USD") < 5

        buy = OrderIntent("SOL/USD", Side.BUY, Decimal("0.5"), confidence=0.9)
        assert (await engine.submit(buy)).verdict is Verdict.APPROVE
        doubtful = OrderIntent("SOL/USD", Side.BUY, Decimal("0.5"), confidence=0.1)
        rejected = await engine.submit(doubtful)
        assert rejected.rejected_by is not None
        logging.getLogger("tradetui.test").warning("a record for the log counter")
        flush_logging()
        messages_before = total(before, "tradetui_messages_received_total")
        await wait_until(
            lambda: sum(s.received for s in engine.metrics.streams.values()) > messages_before,
            what="more market data",
        )

        after = await scrape(client, served)
        assert total(after, "tradetui_messages_received_total") > messages_before
        assert total(after, "tradetui_messages_received_total", stream="ticker") > 0
        assert total(after, "tradetui_orders_submitted_total", mode="PAPER") == 1
        assert (
            total(
                after,
                "tradetui_orders_rejected_total",
                gate="signal_confidence",
                code="LOW_CONFIDENCE",
            )
            == 1
        )
        assert total(after, "tradetui_orders_finished_total", mode="PAPER", status="FILLED") == 1
        assert total(after, "tradetui_risk_evaluation_seconds_count") == 2
        assert total(after, "tradetui_risk_evaluation_seconds_bucket", le="+Inf") == 2
        assert total(after, "tradetui_open_positions") == 1
        assert total(after, "tradetui_equity") > 0
        assert total(after, "tradetui_log_records_total", level="WARNING") >= 1
    finally:
        shutdown_logging()


async def test_an_open_breaker_degrades_health_and_shows_in_metrics(
    make_engine: Callable[..., Engine], client: aiohttp.ClientSession
) -> None:
    engine = make_engine(quiet_settings(venue={"breaker_open_s": 30.0}))
    await engine.start()
    server = OpsServer(engine, "127.0.0.1", 0)
    await server.start()
    try:
        await wait_until(lambda: len(engine.snapshot().quotes) == 3, what="quotes")
        await go_live(engine)
        faults = engine.venue.sim.server.faults  # type: ignore[union-attr]
        faults.update({"error_rate": 1.0, "error_kind": "http5xx"})
        for _ in range(3):
            await engine.submit(OrderIntent("SOL/USD", Side.BUY, Decimal("0.5"), confidence=0.9))
        faults.update({"error_rate": 0.0})

        code, document = await get_health(client, server)
        assert (code, document["status"]) == (200, "degraded")
        assert document["components"]["breakers"]["orders"]["state"] == "open"
        assert "orders circuit breaker is open" in document["reasons"]
        samples = await scrape(client, server)
        assert total(samples, "tradetui_breaker_state", category="orders") == 2
        assert total(samples, "tradetui_breaker_state", category="account") == 0
        assert (
            total(samples, "tradetui_breaker_transitions_total", category="orders", to="open") == 1
        )
        assert total(samples, "tradetui_orders_submitted_total", mode="LIVE") == 3
    finally:
        await server.stop()
        await engine.stop()


async def test_a_taken_port_is_one_clear_error_and_the_engine_runs_on(
    make_engine: Callable[..., Engine], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="tradetui.ops")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        engine = make_engine(quiet_settings(ops={"http_port": port}))
        with pytest.raises(OpsError, match=f"127.0.0.1:{port}.*ops.http_port"):
            await OpsServer(engine, "127.0.0.1", port).start()
        assert await start_ops_server(engine) is None
    assert any("cannot serve /health" in r.message for r in caplog.records)


async def test_a_non_loopback_address_is_served_with_a_warning(
    make_engine: Callable[..., Engine], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="tradetui.ops")  # whatever earlier tests left set
    server = OpsServer(make_engine(), "0.0.0.0", 0)  # every interface: the point of the test
    await server.start()
    try:
        assert any("not loopback" in r.message for r in caplog.records)
        assert server.port != 0
    finally:
        await server.stop()
    loopback = OpsServer(make_engine(), "127.0.0.1", 0)
    caplog.clear()
    await loopback.start()
    await loopback.stop()
    assert not any("not loopback" in r.message for r in caplog.records)
