"""Provides EngineSnapshot, the frozen view of the whole engine, and the parts only it carries."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from tradetui.core.model.enums import BreakerState, Mode, TradingState
from tradetui.core.model.market import Balance, ListingEvent, Quote
from tradetui.core.model.orders import GateResult, Order
from tradetui.core.model.signal import Signal


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
    equity: float | None
    """Equity of this ledger; None while its balances are not known or an asset it holds has no
    price (``core/portfolio.py`` ``equity``)."""
    day_pnl: float | None
    """Equity minus the UTC day's starting equity; None while either is unknown."""
    peak_equity: float | None = None
    """Highest priced equity of this ledger, persisted (the drawdown reference); None before the
    first priced reading."""
    quote_currency: str = "USD"
    fills_count: int = 0
    """Distinct fills applied to this ledger."""
    trends: dict[str, tuple[float, ...]] = field(default_factory=dict)
    """Recent mid prices per symbol, oldest first, one point per few seconds (sparklines)."""
    signals: dict[str, Signal] = field(default_factory=dict)
    """The latest market-intelligence call per symbol (``core/services/signals.py``), once a second."""
    listing_events: tuple[ListingEvent, ...] = ()
    """The listing monitor's recent events, oldest first (at most 50)."""
    copy_drift: dict[str, CopyDrift] = field(default_factory=dict)
    """Copy trading: leader vs our position, keyed ``<leader>:<symbol>``."""
    phase: str = "running"
    """Where the engine's start is: ``starting``, ``connecting`` (to the venue), ``reconciling``
    (its orders with the venue's), ``running``; ``stopped`` after a stop or a failed start."""
    phase_detail: str = ""
    """While not running: why (the venue's last error, and when it is tried again)."""

    @classmethod
    def not_connected(
        cls,
        taken_at: float,
        venue: str,
        *,
        state: TradingState = TradingState.ACTIVE,
        mode: Mode = Mode.PAPER,
        symbols: tuple[str, ...] = (),
        phase: str = "starting",
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
            equity=None,
            day_pnl=None,
            phase=phase,
        )

    def starting_note(self) -> str:
        """What a not-yet-running engine waits for, in a few words (``connecting to the venue…
        (EService:Unavailable; retrying every 4s)``); empty once it runs."""
        if self.phase in ("", "running"):
            return ""
        words = {
            "starting": "starting…",
            "connecting": "connecting to the venue…",
            "reconciling": "reconciling orders with the venue…",
            "stopped": "stopped",
        }
        note = words.get(self.phase, f"{self.phase}…")
        return f"{note} ({self.phase_detail})" if self.phase_detail else note

    def quote_age_s(self, symbol: str) -> float | None:
        """Seconds since the last quote for ``symbol`` (None if none yet)."""
        quote = self.quotes.get(symbol)
        return None if quote is None else max(0.0, self.taken_at - quote.received_at)
