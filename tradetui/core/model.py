"""Provides the engine's domain types: orders, fills, quotes, intents, decisions and snapshots."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tradetui.core.services.signals import Signal


class TradingState(StrEnum):
    """What the engine may do: ACTIVE trades, PAUSED adds no exposure, HALTED sends nothing new."""

    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    HALTED = "HALTED"


class Mode(StrEnum):
    """Which ledger orders go to: the paper broker or the venue."""

    PAPER = "PAPER"
    LIVE = "LIVE"


class Side(StrEnum):
    """Order side."""

    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    """Order type."""

    MARKET = "market"
    LIMIT = "limit"


class OrderStatus(StrEnum):
    """Lifecycle of an order as the engine knows it."""

    PENDING_SUBMIT = "PENDING_SUBMIT"
    OPEN = "OPEN"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"

    @property
    def is_terminal(self) -> bool:
        """True once the order can no longer change."""
        return self in _TERMINAL


_TERMINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED})


class Verdict(StrEnum):
    """Outcome of a risk evaluation."""

    APPROVE = "APPROVE"
    REDUCE = "REDUCE"
    REJECT = "REJECT"


NOT_EVALUATED = "NOT_EVALUATED"
"""Reason code of a gate that has not judged any intent yet."""


class BreakerState(StrEnum):
    """Circuit-breaker state."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


@dataclass(frozen=True, slots=True)
class MarketInfo:
    """Static trading rules of one market, taken from ccxt's market structure."""

    symbol: str
    base: str
    quote: str
    amount_step: Decimal
    price_step: Decimal
    min_amount: Decimal
    min_cost: Decimal
    active: bool = True
    status: str = "online"
    """The venue's word for the market: online, cancel_only, post_only, delisted ..."""


@dataclass(frozen=True, slots=True)
class Quote:
    """Top of book for one symbol, copied out of ccxt's live objects."""

    symbol: str
    bid: float
    ask: float
    last: float
    bid_volume: float
    ask_volume: float
    received_at: float
    """Engine clock time (seconds) when the engine received this quote."""
    source: str = "ws"
    """``ws`` from the stream, ``rest`` from the polling fallback."""

    @property
    def mid(self) -> float:
        """Mid price."""
        return (self.bid + self.ask) / 2

    @property
    def spread_bps(self) -> float:
        """Spread in basis points of mid; infinite when the mid is not positive."""
        mid = self.mid
        return (self.ask - self.bid) / mid * 10_000 if mid > 0 else float("inf")


@dataclass(frozen=True, slots=True)
class OrderBook:
    """A copy of the top levels of one symbol's book: (price, amount) pairs, best first."""

    symbol: str
    bids: tuple[tuple[float, float], ...]
    asks: tuple[tuple[float, float], ...]
    received_at: float


@dataclass(frozen=True, slots=True)
class PublicTrade:
    """One trade printed by the venue's market (anyone's), copied out of ccxt."""

    symbol: str
    price: float
    amount: float


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """What a strategy (or an operator) wants to trade; nothing reaches a broker without a Decision."""

    symbol: str
    side: Side
    amount: Decimal
    order_type: OrderType = OrderType.MARKET
    price: Decimal | None = None
    strategy: str = "manual"
    confidence: float = 1.0
    reduce_only: bool = False
    flatten: bool = False
    """Set only by the kill switch's FLATTEN step: the one kind of order HALTED lets through."""


@dataclass(slots=True)
class GateResult:
    """One gate's verdict on one intent, with the numbers behind it.

    Not frozen, but never mutated: the guard builds nine per evaluation, and a frozen dataclass
    pays object.__setattr__ per field (about 6x slower to construct).
    """

    gate: str
    passed: bool
    code: str
    """Stable reason code, e.g. ``OK``, ``QUOTE_STALE``, ``POSITION_TOO_LARGE``."""
    value: float | None = None
    limit: float | None = None
    detail: str = ""
    floor: bool = False
    """True when the limit is a minimum (balance, confidence) rather than a maximum."""

    @property
    def headroom(self) -> float | None:
        """How far the value is from the limit; positive means room left either way."""
        if self.value is None or self.limit is None:
            return None
        return self.value - self.limit if self.floor else self.limit - self.value


@dataclass(slots=True)
class Decision:
    """The risk guard's answer to one intent (never mutated; not frozen for speed, see GateResult)."""

    verdict: Verdict
    intent: OrderIntent
    amount: Decimal
    """Amount allowed: the intent's amount on APPROVE, less on REDUCE, zero on REJECT."""
    gates: tuple[GateResult, ...]
    rejected_by: GateResult | None = None

    @property
    def approved(self) -> bool:
        """True when an order may be sent (APPROVE or REDUCE)."""
        return self.verdict is not Verdict.REJECT


@dataclass(slots=True)
class Order:
    """An order the engine created; persisted before it is sent."""

    client_id: str
    symbol: str
    side: Side
    order_type: OrderType
    amount: Decimal
    price: Decimal | None
    mode: Mode
    strategy: str
    status: OrderStatus = OrderStatus.PENDING_SUBMIT
    filled: Decimal = Decimal(0)
    average_price: Decimal | None = None
    venue_id: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0
    error: str = ""

    @property
    def remaining(self) -> Decimal:
        """Amount not yet filled."""
        return self.amount - self.filled


@dataclass(frozen=True, slots=True)
class CancelReport:
    """What one cancel-all did with the open orders it found."""

    canceled: tuple[str, ...] = ()
    """Client ids of the orders it canceled."""
    failed: tuple[str, ...] = ()
    """One line per order it could not cancel and that may still be open."""


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of (part of) an order."""

    fill_id: str
    client_id: str
    symbol: str
    side: Side
    amount: Decimal
    price: Decimal
    fee: Decimal
    fee_currency: str
    mode: Mode
    timestamp: float


@dataclass(frozen=True, slots=True)
class Balance:
    """One currency's balance."""

    currency: str
    free: Decimal
    used: Decimal
    total: Decimal


@dataclass(frozen=True, slots=True)
class Position:
    """A spot position in one symbol, marked to the current mid."""

    symbol: str
    amount: Decimal
    average_entry: Decimal
    realized_pnl: Decimal
    mark: float | None
    unrealized_pnl: float

    @property
    def notional(self) -> float:
        """Position value at the mark (0 when there is no mark)."""
        return float(self.amount) * self.mark if self.mark is not None else 0.0


@dataclass(frozen=True, slots=True)
class BreakerSnapshot:
    """State of one circuit breaker."""

    category: str
    state: BreakerState
    consecutive_failures: int
    threshold: int
    seconds_until_half_open: float


@dataclass(frozen=True, slots=True)
class MarketRecord:
    """One row of the market registry: a symbol the venue listed, and its last known status."""

    symbol: str
    status: str
    """``active``, the venue's word for a restricted market (``reduce_only``, ``cancel_only``,
    ``delisted`` ...), or ``removed`` once the venue no longer lists it."""
    first_seen: float
    last_seen: float
    """When a reload last found it listed (engine clock)."""
    changed_at: float
    """When its status last changed."""


@dataclass(frozen=True, slots=True)
class ListingEvent:
    """A change in the venue's market list, found by the listing monitor."""

    kind: str
    """``listed``, ``status_changed`` or ``delisted`` (removed, or status ``delisted``)."""
    symbol: str
    status: str
    """The new status (see MarketRecord.status)."""
    previous: str | None
    """The status before (None for a new listing)."""
    at: float
    """When the monitor noticed it (engine clock)."""


@dataclass(frozen=True, slots=True)
class CopyDrift:
    """How far our position in one symbol is from what copying one leader calls for."""

    leader: str
    symbol: str
    leader_amount: Decimal
    """The leader's net amount bought (+) or sold (-) since we started following it."""
    target_amount: Decimal
    """What the copy rule says we should hold from those fills (ratio or fixed notional,
    before caps; never below 0 on spot)."""
    our_amount: Decimal
    """Our position in the symbol in the current ledger, whatever opened it."""
    copied: int = 0
    """Leader fills we mirrored."""
    skipped: int = 0
    """Leader fills we did not (too old, capped out, below minimums, rejected)."""
    last_copy_at: float | None = None

    @property
    def drift_amount(self) -> Decimal:
        """Ours minus target: positive means we hold more than the copy rule asks."""
        return self.our_amount - self.target_amount

    @property
    def drift_pct(self) -> float | None:
        """Drift as a percentage of the target (None while the target is 0)."""
        if not self.target_amount:
            return None
        return float(self.drift_amount / self.target_amount) * 100


@dataclass(frozen=True, slots=True)
class EngineSnapshot:
    """Everything the UI, metrics and strategies read, frozen at one instant."""

    taken_at: float
    state: TradingState
    mode: Mode
    venue: str
    connected: bool
    symbols: tuple[str, ...]
    quotes: dict[str, Quote]
    balances: dict[str, Balance]
    positions: dict[str, Position]
    open_orders: tuple[Order, ...]
    recent_orders: tuple[Order, ...]
    gates: tuple[GateResult, ...]
    """The latest verdict of every gate (from the last evaluation)."""
    last_rejections: dict[str, GateResult]
    """The last rejection of each gate, by gate name."""
    breakers: tuple[BreakerSnapshot, ...]
    equity: float
    day_pnl: float
    peak_equity: float = 0.0
    """Highest fully priced equity of this ledger, persisted (the drawdown reference)."""
    quote_currency: str = "USD"
    fills_count: int = 0
    """Distinct fills applied to this ledger."""
    trends: dict[str, tuple[float, ...]] = field(default_factory=dict)
    """Recent mid prices per symbol, oldest first, one point per few seconds (sparklines)."""
    signals: dict[str, Signal] = field(default_factory=dict)
    """The latest market-intelligence call per symbol (``core/signals.py``), once a second."""
    listing_events: tuple[ListingEvent, ...] = ()
    """The listing monitor's recent events, oldest first (at most 50)."""
    copy_drift: dict[str, CopyDrift] = field(default_factory=dict)
    """Copy trading: leader vs our position, keyed ``<leader>:<symbol>``."""

    @classmethod
    def not_connected(
        cls,
        taken_at: float,
        venue: str,
        *,
        state: TradingState = TradingState.ACTIVE,
        mode: Mode = Mode.PAPER,
        symbols: tuple[str, ...] = (),
    ) -> EngineSnapshot:
        """A snapshot with no data yet: what a console shows until its engine answers."""
        return cls(
            taken_at=taken_at,
            state=state,
            mode=mode,
            venue=venue,
            connected=False,
            symbols=symbols,
            quotes={},
            balances={},
            positions={},
            open_orders=(),
            recent_orders=(),
            gates=(),
            last_rejections={},
            breakers=(),
            equity=0.0,
            day_pnl=0.0,
        )

    def quote_age_s(self, symbol: str) -> float | None:
        """Seconds since the last quote for ``symbol`` (None if none yet)."""
        quote = self.quotes.get(symbol)
        return None if quote is None else max(0.0, self.taken_at - quote.received_at)
