"""Injects venue faults: REST latency, errors, rate limits, lost acks, WS and session faults."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import math
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tradetui.sim import errors
from tradetui.sim.venue.exchange import SimExchange

log = logging.getLogger(__name__)
ERROR_KINDS = ("unavailable", "http5xx")
RATE_WINDOW_S = 1.0
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class FaultsError(ValueError):
    """A fault setting could not be understood; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Faults:
    """What the simulator gets wrong on purpose; the defaults make a well-behaved venue."""

    rest_latency_ms: float = 0.0
    """Delay before every REST request is handled."""
    error_rate: float = 0.0
    """Share (0..1) of REST requests refused before they are handled, drawn from a seeded RNG."""
    error_kind: str = "unavailable"
    """`unavailable` answers `EService:Unavailable`; `http5xx` answers HTTP 503 with no JSON."""
    rate_limit_per_s: int = 0
    """REST requests allowed per API key (per address when public) in any 1 s; 0 is unlimited."""
    lose_acks: int = 0
    """The next N accepted AddOrder requests are placed, then the connection drops unanswered.

    Counts down as answers are lost."""
    lose_ack_rate: float = 0.0
    """Share (0..1) of further accepted AddOrder requests whose answer is lost likewise."""
    ws_disconnect_every_s: float = 0.0
    """Close every WebSocket this many seconds after it connected; 0 never."""
    ws_stall_s: float | None = None
    """Stop sending on every WebSocket this many seconds after it connected (it stays open)."""
    malformed_frame_every_n: int = 0
    """Send every Nth WebSocket frame of a connection cut in half (not JSON); 0 never."""
    token_ttl_s: float = 0.0
    """WS tokens stop working this many seconds after GetWebSocketsToken issued them; 0 never."""
    cancel_only: frozenset[str] = frozenset()
    """Pairs (REST id, altname or WS symbol) where AddOrder is refused and cancels still work."""
    nonce_window: int = 0
    """Kraken's per-key nonce window; 0 means strictly increasing nonces."""

    def to_json(self) -> dict[str, Any]:
        """The settings as a JSON-able dict keyed by field name."""
        result = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        result["cancel_only"] = sorted(self.cancel_only)
        return result

    def updated(self, changes: Mapping[str, object]) -> Faults:
        """A copy with `changes` applied; keys are field names or the short CLI aliases."""
        converted: dict[str, Any] = {}
        for key, value in changes.items():
            name = ALIASES.get(key, key)
            converter = _CONVERTERS.get(name)
            if converter is None:
                known = ", ".join(sorted(set(_CONVERTERS) | set(ALIASES)))
                raise FaultsError(f"unknown fault {key!r}; known faults: {known}")
            try:
                converted[name] = converter(value)
            except (TypeError, ValueError) as exc:
                raise FaultsError(f"bad value {value!r} for fault {key!r}: {exc}") from None
        return dataclasses.replace(self, **converted)


def _non_negative(value: object) -> float:
    if isinstance(value, bool):
        raise ValueError("expected a number >= 0")
    number = float(str(value))
    if not (math.isfinite(number) and number >= 0):
        raise ValueError("expected a number >= 0")
    return number


def _count(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError("expected a whole number >= 0")
    number = int(str(value))
    if number < 0:
        raise ValueError("expected a whole number >= 0")
    return number


def _share(value: object) -> float:
    number = _non_negative(value)
    if number > 1:
        raise ValueError("expected a share between 0 and 1")
    return number


def _kind(value: object) -> str:
    if value not in ERROR_KINDS:
        raise ValueError(f"expected one of {', '.join(ERROR_KINDS)}")
    return str(value)


def _stall(value: object) -> float | None:
    """`off`/`false`/None turn stalls off; `on`/`true` stall from the first frame."""
    if value is None or str(value).lower() in ("off", "false", "no", "none"):
        return None
    if value is True or str(value).lower() in ("on", "true", "yes"):
        return 0.0
    return _non_negative(value)


def _pairs(value: object) -> frozenset[str]:
    if isinstance(value, str):
        names = value.replace("+", " ").replace(";", " ").split()
    elif isinstance(value, list | tuple | set | frozenset):
        names = [str(name) for name in value]
    else:
        raise ValueError("expected pair names")
    return frozenset(name.strip() for name in names if name.strip())


_CONVERTERS: dict[str, Callable[[object], Any]] = {
    "rest_latency_ms": _non_negative,
    "error_rate": _share,
    "error_kind": _kind,
    "rate_limit_per_s": _count,
    "lose_acks": _count,
    "lose_ack_rate": _share,
    "ws_disconnect_every_s": _non_negative,
    "ws_stall_s": _stall,
    "malformed_frame_every_n": _count,
    "token_ttl_s": _non_negative,
    "cancel_only": _pairs,
    "nonce_window": _count,
}
ALIASES = {
    "latency": "rest_latency_ms",
    "rate_limit": "rate_limit_per_s",
    "lose_acks_rate": "lose_ack_rate",
    "ws_disconnect": "ws_disconnect_every_s",
    "ws_stall": "ws_stall_s",
    "malformed": "malformed_frame_every_n",
    # A setting name (token lifetime), not a password.
    "token_ttl": "token_ttl_s",  # nosec B105
}


def parse_faults(text: str, base: Faults | None = None) -> Faults:
    """Parse `latency=50,error_rate=0.1,cancel_only=XXBTZUSD+XETHZUSD` (the `--faults` flag)."""
    changes: dict[str, object] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep:
            raise FaultsError(f"fault {item.strip()!r} needs a value, e.g. latency=50")
        changes[key.strip()] = value.strip()
    return (base or Faults()).updated(changes)


class FaultInjector:
    """Holds the live faults of one simulator and applies them to REST, WS and the venue."""

    def __init__(
        self,
        exchange: SimExchange,
        faults: Faults | None = None,
        *,
        seed: int = 7,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.exchange = exchange
        self.monotonic = monotonic
        """The clock of rate-limit windows and WS fault timers; tests may freeze it."""
        # Simulated market or benchmark data, not security.
        self._rng = random.Random(f"{seed}:faults")  # nosec B311
        self._requests_by_caller: dict[str, deque[float]] = {}
        self.faults = Faults()
        self.apply(faults or Faults())

    def apply(self, faults: Faults) -> None:
        """Make `faults` the live settings; raises FaultsError for an unknown pair."""
        self.exchange.engine.cancel_only = frozenset(map(self._pair_id, faults.cancel_only))
        self.exchange.nonce_window = faults.nonce_window
        self.exchange.accounts.token_ttl_s = faults.token_ttl_s
        self.faults = faults

    def _pair_id(self, name: str) -> str:
        instruments = self.exchange.instruments
        pair = instruments.pair(name) or instruments.pair_by_symbol(name)
        if pair is None:
            raise FaultsError(f"unknown pair {name!r} in cancel_only")
        return pair.pair_id

    def update(self, changes: Mapping[str, object]) -> Faults:
        """Apply a partial change (the admin endpoint's JSON body) and return the result."""
        self.apply(self.faults.updated(changes))
        return self.faults

    # -- REST ----------------------------------------------------------------------------

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Wraps the REST routes (`/0/...`); other routes pass untouched."""
        if not request.path.startswith("/0/"):
            return await handler(request)
        faults = self.faults
        if faults.rest_latency_ms > 0:
            await asyncio.sleep(faults.rest_latency_ms / 1000)
        if self._over_rate_limit(request):
            return _error_response(errors.RATE_LIMIT)
        if faults.error_rate > 0 and self._rng.random() < faults.error_rate:
            if faults.error_kind == "http5xx":
                return web.Response(status=503, text="503 Service Unavailable")
            return _error_response(errors.SERVICE_UNAVAILABLE)
        response = await handler(request)
        if request.path == "/0/private/AddOrder" and self._lose_this_ack(response):
            log.info("fault: dropping the answer to an accepted AddOrder")
            _drop_connection(request)
        return response

    def _over_rate_limit(self, request: web.Request) -> bool:
        limit = self.faults.rate_limit_per_s
        if limit <= 0:
            return False
        caller = request.headers.get("API-Key") or f"addr:{request.remote}"
        now = self.monotonic()
        recent = self._requests_by_caller.setdefault(caller, deque())
        while recent and recent[0] <= now - RATE_WINDOW_S:
            recent.popleft()
        if len(recent) >= limit:
            return True
        recent.append(now)
        return False

    def _lose_this_ack(self, response: web.StreamResponse) -> bool:
        if not isinstance(response, web.Response) or not _is_success(response):
            return False
        if self.faults.lose_acks > 0:
            # Counted down in the live settings, so GET /admin/faults shows what is left.
            self.faults = dataclasses.replace(self.faults, lose_acks=self.faults.lose_acks - 1)
            return True
        rate = self.faults.lose_ack_rate
        return rate > 0 and self._rng.random() < rate

    # -- WebSocket -----------------------------------------------------------------------

    def ws_stalled(self, connected_at: float) -> bool:
        """Whether a socket connected at `connected_at` (monotonic) must stay silent now."""
        stall = self.faults.ws_stall_s
        return stall is not None and self.monotonic() - connected_at >= stall

    def ws_disconnect_due(self, connected_at: float) -> bool:
        every = self.faults.ws_disconnect_every_s
        return every > 0 and self.monotonic() - connected_at >= every

    def ws_disconnect_wait(self, connected_at: float, longest: float) -> float:
        """Seconds until a socket's disconnect is due, capped so a runtime change is seen."""
        every = self.faults.ws_disconnect_every_s
        if every <= 0:
            return longest
        return min(longest, max(0.0, connected_at + every - self.monotonic()))

    def ws_malformed(self, frame_number: int) -> bool:
        """Whether the `frame_number`th frame (from 1) of a connection goes out corrupted."""
        every = self.faults.malformed_frame_every_n
        return every > 0 and frame_number % every == 0


def _error_response(message: str) -> web.Response:
    # Kraken answers its own errors with HTTP 200 and the error in the envelope.
    return web.json_response({"error": [message]})


def _is_success(response: web.Response) -> bool:
    """Whether an envelope answered without errors, i.e. the order really was placed."""
    if not isinstance(response.body, bytes):
        return False
    try:
        envelope = json.loads(response.body)
    except ValueError:
        return False
    return isinstance(envelope, dict) and envelope.get("error") == []


def _drop_connection(request: web.Request) -> None:
    """Close the socket under the request so that its answer is never delivered."""
    transport = request.transport
    if transport is not None:
        transport.abort()
