"""Secrets the engine handles (the venue key and secret) never reach a log line."""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from tests.conftest import go_live, wait_until
from tradetui.core.engine import Engine
from tradetui.core.model import OrderIntent, Side
from tradetui.logs import LOG_FILE_NAME, flush_logging, setup_logging, shutdown_logging


async def test_venue_credentials_are_masked_in_every_log_record(
    make_engine: Callable[..., Engine], tmp_path: Path
) -> None:
    sink = setup_logging(tmp_path / "logs", "DEBUG", stdout=False)
    engine = make_engine()
    try:
        await engine.start()
        await go_live(engine)
        await wait_until(lambda: bool(engine.snapshot().quotes.get("BTC/USD")), what="quote")
        await engine.submit(OrderIntent("BTC/USD", Side.BUY, Decimal("0.001"), confidence=0.9))
        api_key, secret = engine.venue.client.exchange.apiKey, engine.venue.client.exchange.secret
        # What a careless error path would do: put both in a message.
        logging.getLogger("tradetui.gateway").error("auth failed for %s with %s", api_key, secret)
    finally:
        await engine.stop()
        flush_logging()
        shutdown_logging()
    written = (tmp_path / "logs" / LOG_FILE_NAME).read_text(encoding="utf-8")
    shown = "\n".join(line.message for line in sink.lines())
    assert "order tt" in written and "auth failed for *** with ***" in written
    for text in (written, shown):
        assert api_key not in text and secret not in text
