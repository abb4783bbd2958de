"""Defines the simulator's orders, fills and order requests, and how their ids are made."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from decimal import Decimal

from tradetui.sim.instruments import PairSpec

ZERO = Decimal(0)
_ID_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A validated AddOrder request (REST `AddOrder` or WS v2 `add_order`)."""

    pair: PairSpec
    side: str
    """`buy` or `sell`."""
    ordertype: str
    """`market` or `limit`."""
    volume: Decimal
    """Base quantity, or quote quantity when `viqc` is set."""
    price: Decimal | None
    oflags: frozenset[str] = frozenset()
    timeinforce: str = "GTC"
    cl_ord_id: str | None = None
    userref: int | None = None
    validate: bool = False

    @property
    def viqc(self) -> bool:
        return "viqc" in self.oflags

    @property
    def post_only(self) -> bool:
        return "post" in self.oflags


@dataclass(slots=True, eq=False)
class Order:
    """An order's full lifecycle state; REST statuses: pending, open, closed, canceled."""

    txid: str
    pair: PairSpec
    side: str
    ordertype: str
    vol: Decimal
    price: Decimal | None
    opentm: float
    oflags: frozenset[str]
    timeinforce: str
    cl_ord_id: str | None
    userref: int | None
    quote_volume: Decimal | None = None
    """The requested quote amount of a `viqc` market buy."""
    status: str = "pending"
    vol_exec: Decimal = ZERO
    cost: Decimal = ZERO
    fee: Decimal = ZERO
    closetm: float | None = None
    reason: str | None = None
    trade_ids: list[str] = field(default_factory=list)
    hold_asset: str | None = None
    hold_remaining: Decimal = ZERO
    """What this order still holds of `hold_asset` (quote for buys, base for sells)."""

    @property
    def remaining(self) -> Decimal:
        return self.vol - self.vol_exec

    @property
    def is_open(self) -> bool:
        return self.status in ("pending", "open")

    @property
    def post_only(self) -> bool:
        return "post" in self.oflags

    @property
    def avg_price(self) -> Decimal:
        return self.cost / self.vol_exec if self.vol_exec else ZERO

    @property
    def limit_ticks(self) -> int:
        """Limit price in integer ticks; only meaningful for limit orders."""
        # Type narrowing for mypy; the value is set on this path.
        assert self.price is not None  # nosec B101
        return int(self.price.scaleb(self.pair.pair_decimals))

    @property
    def remaining_lots(self) -> int:
        return int(self.remaining.scaleb(self.pair.lot_decimals))

    @property
    def ws_status(self) -> str:
        """The WS v2 `order_status` for the current REST status."""
        if self.status == "pending":
            return "pending_new"
        if self.status == "open":
            return "partially_filled" if self.vol_exec else "new"
        return "filled" if self.status == "closed" else self.status


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of an order against the book."""

    txid: str
    trade_id: int
    order_txid: str
    postxid: str
    pair: PairSpec
    side: str
    ordertype: str
    price: Decimal
    vol: Decimal
    cost: Decimal
    fee: Decimal
    time: float
    maker: bool


class IdGen:
    """Makes Kraken-looking ids (`OABCDE-FGHIJ-KLMNOP`) from a seeded generator."""

    def __init__(self, seed: int) -> None:
        # Simulated market or benchmark data, not security.
        self.rng = random.Random(f"{seed}:ids")  # nosec B311
        """Public so that saved state can carry on the same id sequence (persist.py)."""
        self.trade_seq = 10_000_000

    def _chunk(self, length: int) -> str:
        return "".join(self.rng.choices(_ID_ALPHABET, k=length))

    def _txid(self, prefix: str) -> str:
        return f"{prefix}{self._chunk(5)}-{self._chunk(5)}-{self._chunk(6)}"

    def order_id(self) -> str:
        return self._txid("O")

    def trade_txid(self) -> str:
        return self._txid("T")

    def trade_id(self) -> int:
        self.trade_seq += 1
        return self.trade_seq
