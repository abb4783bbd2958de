"""Provides the guard that drops a malformed WebSocket frame with one warning: ccxt.pro's receive
loop would raise on it, which asyncio logs as an ERROR traceback, and stop reading the socket
until the keepalive gives up on it."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from tradetui.core.venue.loader import ccxt_module

log = logging.getLogger("tradetui.streams")

FRAME_SHOWN = 120
"""Characters of a malformed frame quoted in its warning."""
SELF_HEALING_CHANNELS = frozenset(
    {"ticker", "trade", "ohlc", "heartbeat", "status", "balances", "executions"}
)
"""Channels where losing one message does no lasting harm: the next carries whole values
(tickers, balances), or the message stands alone (prints, candles), or REST backs it up (order
updates and fills). A lost ``book`` update does: every later update applies to a wrong book."""
_FRAME_KIND = re.compile(r'\A\s*\{\s*"(channel|method)"\s*:\s*"(\w+)"')


def drop_malformed_frames(exchange: Any) -> None:
    """Make every WebSocket client ``exchange`` opens drop a frame that is not valid JSON with
    one warning naming it; any other error in handling a frame is left to ccxt as it is."""
    make_client = exchange.client

    def client(url: str) -> Any:
        ws_client = make_client(url)
        if not getattr(ws_client, "_tradetui_guarded", False):
            _guard(ws_client, url)
        return ws_client

    exchange.client = client


def _guard(ws_client: Any, url: str) -> None:
    handle = ws_client.handle_text_or_binary_message

    def handle_valid_json(data: Any) -> None:
        try:
            handle(data)
        except json.JSONDecodeError as exc:  # orjson's error (ccxt's parser) is a subclass
            text = data.decode(errors="replace") if isinstance(data, bytes) else str(data)
            shown = text if len(text) <= FRAME_SHOWN else text[:FRAME_SHOWN] + "..."
            log.warning(
                "dropped a malformed frame from %s: %r (%s)",
                url,
                shown,
                exc,
                extra={"event": "malformed_frame"},
            )
            if not _harmless_to_lose(text):
                # Possibly a book update: reconnect, so that every book restarts from a snapshot.
                ws_client.on_error(ccxt_module().NetworkError(f"malformed frame from {url}"))

    ws_client.handle_text_or_binary_message = handle_valid_json
    ws_client._tradetui_guarded = True


def _harmless_to_lose(text: str) -> bool:
    kind = _FRAME_KIND.match(text)
    return kind is not None and (kind[1] == "method" or kind[2] in SELF_HEALING_CHANNELS)
