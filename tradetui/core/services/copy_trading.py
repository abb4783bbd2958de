"""Provides copy trading: a leader account's fills mirrored as intents, scaled, capped and checked."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from tradetui.config import CopyLeader
from tradetui.core.model import (
    CopyDrift,
    Decision,
    MarketInfo,
    OrderIntent,
    Quote,
    Side,
    TradeReport,
)
from tradetui.core.schema import Key
from tradetui.core.store import Store, StoreError
from tradetui.core.venue.client import VenueClient
from tradetui.core.venue.streams import cancel_tasks, supervise

log = logging.getLogger("tradetui.copy")

ZERO = Decimal(0)
REST_POLL_S = 15.0
"""How often the leader's trade history is read over REST while its executions stream is up."""
REST_POLL_STREAM_DOWN_S = 2.0
"""... and while the stream is down."""
MEMORY_S = 3600.0
"""Fills older than this (or twice max_delay_s) are forgotten: they could only ever be skipped."""
STOP_TIMEOUT_S = 10.0


LeaderFill = TradeReport
"""One fill of the leader's, as the venue reports it (the venue client drops incomplete ones)."""


@dataclass(frozen=True, slots=True)
class CopyPlan:
    """What to do about one leader fill: an amount to send, or a reason not to."""

    amount: Decimal
    skip: str = ""
    """Why nothing is sent (``CAP_REACHED``, ``NO_POSITION``, ``BELOW_MINIMUM`` ...)."""
    clipped_by: str = ""
    """The cap or holding that made the amount smaller than the copy rule's."""


def scaled_amount(fill: LeaderFill, rule: CopyLeader) -> Decimal:
    """The copy rule's amount for ``fill`` before any cap: its amount times ``ratio``, or
    ``fixed_notional`` worth at the leader's price."""
    if rule.ratio is not None:
        return fill.amount * rule.ratio
    # The settings validator demands one of the two (type narrowing for mypy).
    assert rule.fixed_notional is not None  # nosec B101
    return rule.fixed_notional / fill.price


def _round_down(amount: Decimal, step: Decimal) -> Decimal:
    return amount - amount % step if step > 0 else amount


def plan_copy(
    fill: LeaderFill, rule: CopyLeader, price: Decimal, our_amount: Decimal, market: MarketInfo
) -> CopyPlan:
    """Scale ``fill`` by the rule, then clip it: the per-trade notional cap, the position cap
    (buys), our holding (sells: spot cannot go short), the venue's amount step and minimums.

    ``price`` values our position and the order (our current mid, or the leader's price).
    """
    amount, clipped_by = scaled_amount(fill, rule), ""
    per_trade = rule.max_notional_per_trade
    if per_trade and amount * price > per_trade:
        amount, clipped_by = per_trade / price, "max_notional_per_trade"
    if fill.side is Side.BUY:
        cap = rule.max_position_notional
        if cap:
            room = max(ZERO, cap - max(ZERO, our_amount) * price) / price
            if amount > room:
                amount, clipped_by = room, "max_position_notional"
                if room <= 0:
                    return CopyPlan(ZERO, "CAP_REACHED", clipped_by)
    else:
        if our_amount <= 0:
            return CopyPlan(ZERO, "NO_POSITION")
        if amount > our_amount:
            amount, clipped_by = our_amount, "position"
    amount = _round_down(amount, market.amount_step)
    if amount <= 0 or amount < market.min_amount or amount * price < market.min_cost:
        return CopyPlan(ZERO, "BELOW_MINIMUM", clipped_by)
    return CopyPlan(amount, "", clipped_by)


@dataclass
class _SymbolTally:
    leader: Decimal = ZERO
    target: Decimal = ZERO
    copied: int = 0
    skipped: int = 0
    last_copy_at: float | None = None


@dataclass
class _FollowState:
    """What is persisted (``kv`` key ``copy:<leader>``), so a restart copies nothing twice."""

    since: float
    """Fills before this are history, not part of the drift: the first start less max_delay_s."""
    seen: dict[str, float] = field(default_factory=dict)
    """Leader trade ids already handled (copied or skipped), with their times."""
    tallies: dict[str, _SymbolTally] = field(default_factory=dict)

    def dumps(self) -> str:
        tallies = {
            symbol: {
                "leader": str(t.leader),
                "target": str(t.target),
                "copied": t.copied,
                "skipped": t.skipped,
                "last_copy_at": t.last_copy_at,
            }
            for symbol, t in self.tallies.items()
        }
        return json.dumps({"since": self.since, "seen": self.seen, "tallies": tallies})

    @classmethod
    def loads(cls, text: str) -> _FollowState:
        raw = json.loads(text)
        tallies = {
            symbol: _SymbolTally(
                Decimal(t["leader"]),
                Decimal(t["target"]),
                int(t["copied"]),
                int(t["skipped"]),
                t.get("last_copy_at"),
            )
            for symbol, t in raw.get("tallies", {}).items()
        }
        return cls(float(raw["since"]), {k: float(v) for k, v in raw["seen"].items()}, tallies)


class CopyTrader:
    """Follows one leader: its fills arrive over its executions stream (``watch_my_trades``) with
    its trade history over REST as the fallback, and each new one becomes an intent through the
    engine's one order path, strategy ``copy:<name>``.

    A fill is marked handled and that mark committed before its copy is sent: after a crash
    a copy may be missing (the drift report shows it), never doubled.
    """

    def __init__(
        self,
        rule: CopyLeader,
        client: VenueClient,
        store: Store,
        clock: Callable[[], float],
        *,
        markets: Mapping[str, MarketInfo],
        quotes: Callable[[], Mapping[str, Quote]],
        position: Callable[[str], Decimal],
        submit: Callable[[OrderIntent], Awaitable[Decision]],
    ) -> None:
        self.rule = rule
        self.client = client
        """The leader's venue client (its own key and nonce file); closed by stop()."""
        self._store = store
        self._clock = clock
        self._markets = markets
        self._quotes = quotes
        self._position = position
        self._submit = submit
        self.strategy = f"copy:{rule.name}"
        self._key = rule.name
        # Fills up to max_delay_s old at the first start are still fresh enough to copy.
        self._state = _FollowState(since=clock() - rule.max_delay_s)
        self._queue: asyncio.Queue[list[LeaderFill] | None] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._processor: asyncio.Task[None] | None = None
        self._stream_up = False
        self._stopping = False
        self.caught_up = asyncio.Event()
        """Set once the leader's trade history has been read and handled after start."""

    async def load(self) -> None:
        """Restore what was handled before, or start following now."""
        saved = await self._store.get_value(Key.COPY, self._key)
        if saved is not None:
            self._state = _FollowState.loads(saved)
        else:
            log.info(
                "copy %s: following the leader's fills from now on",
                self.rule.name,
                extra={"event": "copy_follow"},
            )

    def start(self) -> None:
        """Start the stream, the REST poll and the one task that handles fills in order."""
        self._processor = asyncio.create_task(self._process(), name=f"{self.strategy} fills")
        self._tasks = [
            self._processor,
            asyncio.create_task(
                supervise(f"{self.strategy} executions", self._watch_once, self._stream_health),
                name=f"{self.strategy} stream",
            ),
            asyncio.create_task(self._poll(), name=f"{self.strategy} REST"),
        ]

    async def stop(self) -> None:
        """Finish the fill being handled (an order half-sent is never left behind), then stop."""
        self._stopping = True
        self._queue.put_nowait(None)
        if self._processor is not None:
            await asyncio.wait({self._processor}, timeout=STOP_TIMEOUT_S)
        await cancel_tasks(self._tasks)
        self._tasks = []
        with contextlib.suppress(Exception):
            await self.client.close()

    def drift(self) -> dict[str, CopyDrift]:
        """Leader vs our position per symbol, keyed ``<leader>:<symbol>``."""
        return {
            f"{self.rule.name}:{symbol}": CopyDrift(
                self.rule.name,
                symbol,
                tally.leader,
                tally.target,
                self._position(symbol),
                tally.copied,
                tally.skipped,
                tally.last_copy_at,
            )
            for symbol, tally in self._state.tallies.items()
        }

    # ----------------------------------------------------------------- sources

    async def _watch_once(self) -> None:
        trades = await self.client.watch_my_trades()
        self._enqueue(trades)

    def _stream_health(self, healthy: bool) -> None:
        self._stream_up = healthy

    async def _poll(self) -> None:
        failing = False
        while True:
            try:
                since_ms = int((self._clock() - self._memory_s()) * 1000)
                self._enqueue(await self.client.fetch_my_trades(since_ms=since_ms))
            except Exception as exc:  # noqa: BLE001 - read again on the next round
                log.log(
                    logging.DEBUG if failing else logging.WARNING,
                    "copy %s: reading the leader's trades failed: %s",
                    self.rule.name,
                    exc,
                )
                failing = True
            else:
                failing = False
                self._queue.put_nowait([])  # marks the end of the history read
            await asyncio.sleep(REST_POLL_S if self._stream_up else REST_POLL_STREAM_DOWN_S)

    def _enqueue(self, fills: list[TradeReport]) -> None:
        if fills:
            self._queue.put_nowait(sorted(fills, key=lambda f: f.timestamp))

    def _memory_s(self) -> float:
        return max(MEMORY_S, 2 * self.rule.max_delay_s)

    # ----------------------------------------------------------------- handling

    async def _process(self) -> None:
        while True:
            batch = await self._queue.get()
            if batch is None or self._stopping:
                return
            if not batch:
                self.caught_up.set()
            for fill in batch:
                if self._stopping:
                    return
                try:
                    await self._handle(fill)
                except StoreError as exc:
                    log.error("copy %s: %s; fill %s not copied", self.rule.name, exc, fill.trade_id)
                except Exception:  # noqa: BLE001 - one bad fill must not end the following
                    log.exception("copy %s: fill %s not copied", self.rule.name, fill.trade_id)

    async def _handle(self, fill: LeaderFill) -> None:
        state, now = self._state, self._clock()
        horizon = now - self._memory_s()
        if fill.trade_id in state.seen or fill.timestamp < horizon:
            return
        if self.rule.symbols and fill.symbol not in self.rule.symbols:
            state.seen[fill.trade_id] = fill.timestamp
            return
        tally = state.tallies.setdefault(fill.symbol, _SymbolTally())
        if fill.timestamp >= state.since:
            scaled = scaled_amount(fill, self.rule)
            if fill.side is Side.BUY:
                tally.leader += fill.amount
                tally.target += scaled
            else:
                tally.leader -= fill.amount
                tally.target = max(ZERO, tally.target - scaled)
        plan = self._plan(fill, now)
        if plan.skip:
            tally.skipped += 1
        state.seen[fill.trade_id] = fill.timestamp
        state.seen = {k: ts for k, ts in state.seen.items() if ts >= horizon}
        await self._store.put_value(
            Key.COPY, state.dumps(), self._key
        )  # committed before anything is sent
        if plan.skip:
            self._log_skip(fill, plan.skip, now)
            return
        log.info(
            "copy %s: leader %s %s %s @ %s -> %s %s%s",
            self.rule.name,
            "bought" if fill.side is Side.BUY else "sold",
            fill.amount,
            fill.symbol,
            fill.price,
            fill.side.value,
            plan.amount,
            f" (clipped by {plan.clipped_by})" if plan.clipped_by else "",
            extra={"event": "copy", "leader": self.rule.name, "symbol": fill.symbol},
        )
        decision = await self._submit(
            OrderIntent(
                fill.symbol,
                fill.side,
                plan.amount,
                strategy=self.strategy,
                confidence=1.0,  # the leader's decision is the signal; every other gate applies
                reduce_only=fill.side is Side.SELL,
            )
        )
        if decision.approved:
            tally.copied += 1
            tally.last_copy_at = self._clock()
        else:
            tally.skipped += 1
        self._store.put_value(Key.COPY, state.dumps(), self._key)

    def _plan(self, fill: LeaderFill, now: float) -> CopyPlan:
        age = now - fill.timestamp
        if age > self.rule.max_delay_s:
            return CopyPlan(ZERO, f"STALE ({age:.1f}s old, limit {self.rule.max_delay_s:g}s)")
        market = self._markets.get(fill.symbol)
        if market is None:
            return CopyPlan(ZERO, "UNWATCHED (not one of the engine's symbols)")
        quote = self._quotes().get(fill.symbol)
        price = Decimal(repr(quote.mid)) if quote is not None and quote.mid > 0 else fill.price
        return plan_copy(fill, self.rule, price, self._position(fill.symbol), market)

    def _log_skip(self, fill: LeaderFill, reason: str, now: float) -> None:
        log.info(
            "copy %s: skipped leader fill %s (%s %s %s @ %s): %s",
            self.rule.name,
            fill.trade_id,
            fill.symbol,
            fill.side.value,
            fill.amount,
            fill.price,
            reason,
            extra={
                "event": "copy_skipped",
                "leader": self.rule.name,
                "symbol": fill.symbol,
                "reason": reason.split(" ")[0],
            },
        )
