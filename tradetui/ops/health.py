"""Provides the /health document: one overall status, an HTTP code, and every component's state.

Statuses, worst first:

- ``down``: the engine is not started or not connected, or the store failed a write lately.
- ``halted``: the kill switch is engaged (TradingState.HALTED); nothing new is sent.
- ``degraded``: still trading, but something needs a look: a quote missing, older than
  ``risk.max_quote_age_s`` or bridged over REST because its stream went quiet, a circuit breaker
  open or half-open, a private stream reconnecting, or the strategy loop late.
- ``ok``: none of the above.

HTTP status: 200 for ``ok`` and ``degraded``, 503 for ``halted`` and ``down``. A degraded engine
still guards every order (the risk gates refuse what stale data cannot justify) and usually heals
itself (REST bridges a quiet stream; a breaker closes after a trial), so a probe that restarts or
removes a process on 503 must not act on it; alerting reads ``status`` in the body or the
``tradetui_health_status`` metric instead. Halted and down are not trading at all: that is what
a probe should page someone about.

Building the document only reads the engine's snapshot and counters: no exchange calls, no awaits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from tradetui.config import Settings
from tradetui.core.metrics import EngineMetrics, StreamStats
from tradetui.core.model import BreakerState, EngineSnapshot, TradingState

OK, DEGRADED, HALTED, DOWN = "ok", "degraded", "halted", "down"
OFF = "off"
"""A component that does not run in this configuration (strategy disabled, no credentials)."""
STATUSES = (OK, DEGRADED, HALTED, DOWN)
HTTP_STATUS = {OK: 200, DEGRADED: 200, HALTED: 503, DOWN: 503}
STORE_FAILURE_WINDOW_S = 60.0
"""A store write failure this recent means orders cannot be persisted, so none can be sent."""
STRATEGY_LATE_FACTOR = 3.0
STRATEGY_SLACK_S = 10.0
"""The strategy loop is late once it has not woken for 3 intervals plus this (a slow submit)."""
PRIVATE_STREAMS = {"balances_stream": ("balances",), "order_stream": ("orders", "fills")}
"""Health components and the supervised streams behind each."""


@runtime_checkable
class MonitoredEngine(Protocol):
    """What /health and /metrics read from the engine (the UI's test stand-in has no metrics)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def metrics(self) -> EngineMetrics: ...

    def snapshot(self) -> EngineSnapshot: ...


@dataclass(frozen=True, slots=True)
class Health:
    """The outcome of one health check."""

    status: str
    http_status: int
    document: dict[str, Any]
    reasons: tuple[str, ...] = ()


def check(engine: MonitoredEngine) -> Health:
    """Assess ``engine`` as it is now."""
    return assess(engine.snapshot(), engine.metrics, engine.settings)


def assess(snapshot: EngineSnapshot, metrics: EngineMetrics, settings: Settings) -> Health:
    """Build the health document from a snapshot and the engine's counters (pure)."""
    now = snapshot.taken_at
    reasons: list[str] = []
    components = {
        "market_data": _market_data(snapshot, settings.risk.max_quote_age_s, reasons),
        **{
            name: _private_stream(name, [metrics.streams.get(label) for label in labels], now)
            for name, labels in PRIVATE_STREAMS.items()
        },
        "breakers": _breakers(snapshot, reasons),
        "store": _store(snapshot, metrics, now),
        "strategy": _strategy(snapshot, metrics, settings, now),
    }
    for name in (*PRIVATE_STREAMS, "store", "strategy"):
        component = components[name]
        if component["status"] in (DEGRADED, DOWN):
            reasons.append(f"{name.replace('_', ' ')}: {component['detail']}")
    if not snapshot.connected:
        status = DOWN
        reasons.insert(0, snapshot.starting_note() or "engine not running or not connected")
    elif components["store"]["status"] == DOWN:
        status = DOWN
    elif snapshot.state is TradingState.HALTED:
        status = HALTED
        reasons.insert(0, "trading is halted (kill switch)")
    elif reasons:
        status = DEGRADED
    else:
        status = OK
    document = {
        "status": status,
        "reasons": reasons,
        "taken_at": round(snapshot.taken_at, 3),
        "trading_state": snapshot.state.value,
        "mode": snapshot.mode.value,
        "venue": snapshot.venue,
        "connected": snapshot.connected,
        "components": components,
    }
    return Health(status, HTTP_STATUS[status], document, tuple(reasons))


def _market_data(snapshot: EngineSnapshot, max_age_s: float, reasons: list[str]) -> dict[str, Any]:
    symbols: dict[str, Any] = {}
    for symbol in snapshot.symbols:
        quote = snapshot.quotes.get(symbol)
        age = snapshot.quote_age_s(symbol)
        if quote is None or age is None:
            entry: dict[str, Any] = {"status": DEGRADED, "detail": "no quote yet"}
        else:
            entry = {"status": OK, "quote_age_s": round(age, 3), "source": quote.source}
            if age > max_age_s:
                entry |= {"status": DEGRADED, "detail": f"quote older than {max_age_s:g}s"}
            elif quote.source != "ws":
                entry |= {"status": DEGRADED, "detail": "stream quiet; quotes polled over REST"}
        if entry["status"] != OK:
            reasons.append(f"{symbol}: {entry['detail']}")
        symbols[symbol] = entry
    worst = DEGRADED if any(s["status"] != OK for s in symbols.values()) else OK
    return {"status": worst, "max_quote_age_s": max_age_s, "symbols": symbols}


def _private_stream(name: str, streams: list[StreamStats | None], now: float) -> dict[str, Any]:
    # ccxt's private watch_* calls return only when something changes, so silence is normal here:
    # only a failing receive (the supervisor reconnecting) counts against the stream.
    running = [s for s in streams if s is not None]
    if not running:
        return {"status": OFF, "detail": "no venue credentials: not streamed"}
    failing = [s.failing_since for s in running if s.failing_since is not None]
    last = max(
        (s.last_received_at for s in running if s.last_received_at is not None), default=None
    )
    component: dict[str, Any] = {
        "status": OK,
        "messages": sum(s.received for s in running),
        "reconnects": sum(s.failures for s in running),
        "last_message_age_s": None if last is None else round(max(0.0, now - last), 3),
    }
    if failing:
        component["status"] = DEGRADED
        component["detail"] = f"reconnecting for {max(0.0, now - min(failing)):.1f}s"
    return component


def _breakers(snapshot: EngineSnapshot, reasons: list[str]) -> dict[str, Any]:
    breakers: dict[str, Any] = {}
    for breaker in snapshot.breakers:
        tripped = breaker.state is not BreakerState.CLOSED
        breakers[breaker.category] = {
            "status": DEGRADED if tripped else OK,
            "state": breaker.state.value,
            "consecutive_failures": breaker.consecutive_failures,
            "seconds_until_half_open": round(breaker.seconds_until_half_open, 3),
        }
        if tripped:
            reasons.append(f"{breaker.category} circuit breaker is {breaker.state.value}")
    return breakers


def _store(snapshot: EngineSnapshot, metrics: EngineMetrics, now: float) -> dict[str, Any]:
    component: dict[str, Any] = {"status": OK, "write_errors": metrics.store_errors}
    failed_at = metrics.store_failed_at
    if failed_at is not None and now - failed_at < STORE_FAILURE_WINDOW_S:
        component |= {"status": DOWN, "detail": f"a write failed {now - failed_at:.0f}s ago"}
    elif not snapshot.connected:
        component |= {"status": DOWN, "detail": "not open"}
    return component


def _strategy(
    snapshot: EngineSnapshot, metrics: EngineMetrics, settings: Settings, now: float
) -> dict[str, Any]:
    if not settings.strategy.enabled:
        return {"status": OFF, "detail": "strategies disabled"}
    ticked_at = metrics.strategy_ticked_at
    if ticked_at is None or not snapshot.connected:
        return {"status": DOWN, "detail": "strategy loop not running"}
    age = max(0.0, now - ticked_at)
    late_after = STRATEGY_LATE_FACTOR * settings.strategy.interval_s + STRATEGY_SLACK_S
    component: dict[str, Any] = {
        "status": OK,
        "last_tick_age_s": round(age, 3),
        "late_after_s": late_after,
    }
    if age > late_after:
        component |= {"status": DEGRADED, "detail": f"no tick for {age:.0f}s"}
    return component
