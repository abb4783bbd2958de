"""Carries one client WS v2 request and answers it in Kraken's response shape."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tradetui.sim import errors
from tradetui.sim.fmt import iso
from tradetui.sim.instruments import Instruments, PairSpec
from tradetui.sim.ws.session import WsSession


@dataclass(slots=True)
class WsRequest:
    """A parsed `{"method", "params", "req_id"}` message from one session."""

    session: WsSession
    method: str
    req_id: object
    params: dict[str, Any]
    time_in: str
    clock: Callable[[], float]

    def ok(self, result: dict[str, Any] | None = None) -> None:
        """Answer `success: true` (ccxt resolves the future keyed by `req_id`)."""
        message: dict[str, Any] = {"method": self.method, "req_id": self.req_id}
        if result is not None:
            message["result"] = result
        message.update(success=True, time_in=self.time_in, time_out=iso(self.clock()))
        self.session.send(message)

    def fail(self, error: str, **extra: Any) -> None:
        """Answer `success: false`; ccxt rejects `req_id` with the class its broad table maps."""
        message: dict[str, Any] = {"error": error, "method": self.method, "req_id": self.req_id}
        message.update(extra)
        message.update(success=False, time_in=self.time_in, time_out=iso(self.clock()))
        self.session.send(message)


def requested_pairs(request: WsRequest, instruments: Instruments) -> list[PairSpec] | None:
    """The pairs a request's `symbol` list names; unknown ones are refused one by one, as
    Kraken does. None (after failing the request) when the list itself is missing or empty."""
    symbols = request.params.get("symbol")
    if not isinstance(symbols, list) or not symbols:
        request.fail(errors.INVALID_ARGUMENTS)
        return None
    pairs = []
    for symbol in symbols:
        pair = instruments.pair_by_symbol(symbol) if isinstance(symbol, str) else None
        if pair is None:
            request.fail(f"Currency pair not supported {symbol}", symbol=symbol)
        else:
            pairs.append(pair)
    return pairs
