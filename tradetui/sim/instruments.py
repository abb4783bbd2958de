"""Defines the simulated assets and trading pairs with Kraken's ids, names and precisions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class AssetSpec:
    """One Kraken asset as `/0/public/Assets` describes it."""

    asset_id: str
    """Kraken REST id, e.g. `XXBT`."""
    altname: str
    """Kraken alternative name, e.g. `XBT`."""
    ws_name: str
    """Name used on WebSocket v2 (balances, fees), e.g. `BTC`."""
    decimals: int
    """Decimals kept in balances."""
    display_decimals: int


@dataclass(frozen=True, slots=True)
class PairSpec:
    """One Kraken spot pair plus the parameters of its synthetic market."""

    pair_id: str
    """Kraken REST id, e.g. `XXBTZUSD`."""
    altname: str
    """e.g. `XBTUSD`; used in order descriptions."""
    wsname: str
    """e.g. `XBT/USD`."""
    symbol: str
    """ccxt unified symbol, which is also what WebSocket v2 uses, e.g. `BTC/USD`."""
    base: str
    """Base asset id."""
    quote: str
    """Quote asset id."""
    pair_decimals: int
    lot_decimals: int
    cost_decimals: int
    ordermin: Decimal
    costmin: Decimal
    base_price: float
    """Starting mid price of the synthetic market."""
    sigma_bps: float
    """Standard deviation of the mid's log move per tick, in basis points."""
    daily_volume: float
    """Synthetic 24 h base volume at start."""
    touch_qty: float
    """Typical quantity at the best level of each side."""

    @property
    def tick_size(self) -> Decimal:
        return Decimal(1).scaleb(-self.pair_decimals)

    @property
    def lot_size(self) -> Decimal:
        return Decimal(1).scaleb(-self.lot_decimals)


TAKER_FEE_PCT = Decimal("0.26")
MAKER_FEE_PCT = Decimal("0.16")
TAKER_FEE_RATE = TAKER_FEE_PCT / 100
MAKER_FEE_RATE = MAKER_FEE_PCT / 100

DEFAULT_ASSETS: tuple[AssetSpec, ...] = (
    AssetSpec("ZUSD", "USD", "USD", 4, 2),
    AssetSpec("XXBT", "XBT", "BTC", 10, 5),
    AssetSpec("XETH", "ETH", "ETH", 10, 5),
    AssetSpec("SOL", "SOL", "SOL", 10, 5),
    AssetSpec("XXRP", "XRP", "XRP", 8, 5),
    AssetSpec("ADA", "ADA", "ADA", 8, 6),
    AssetSpec("XXDG", "XDG", "DOGE", 8, 2),
    AssetSpec("DOT", "DOT", "DOT", 10, 8),
)

DEFAULT_PAIRS: tuple[PairSpec, ...] = (
    PairSpec(
        "XXBTZUSD", "XBTUSD", "XBT/USD", "BTC/USD", "XXBT", "ZUSD",
        pair_decimals=1, lot_decimals=8, cost_decimals=5,
        ordermin=Decimal("0.00005"), costmin=Decimal("0.5"),
        base_price=60000.0, sigma_bps=1.0, daily_volume=1800.0, touch_qty=1.5,
    ),
    PairSpec(
        "XETHZUSD", "ETHUSD", "ETH/USD", "ETH/USD", "XETH", "ZUSD",
        pair_decimals=2, lot_decimals=8, cost_decimals=5,
        ordermin=Decimal("0.002"), costmin=Decimal("0.5"),
        base_price=3000.0, sigma_bps=1.3, daily_volume=25000.0, touch_qty=20.0,
    ),
    PairSpec(
        "SOLUSD", "SOLUSD", "SOL/USD", "SOL/USD", "SOL", "ZUSD",
        pair_decimals=2, lot_decimals=8, cost_decimals=5,
        ordermin=Decimal("0.02"), costmin=Decimal("0.5"),
        base_price=150.0, sigma_bps=2.0, daily_volume=300000.0, touch_qty=300.0,
    ),
    PairSpec(
        "XXRPZUSD", "XRPUSD", "XRP/USD", "XRP/USD", "XXRP", "ZUSD",
        pair_decimals=5, lot_decimals=8, cost_decimals=5,
        ordermin=Decimal("2"), costmin=Decimal("0.5"),
        base_price=0.6, sigma_bps=2.2, daily_volume=60_000_000.0, touch_qty=40_000.0,
    ),
    PairSpec(
        "ADAUSD", "ADAUSD", "ADA/USD", "ADA/USD", "ADA", "ZUSD",
        pair_decimals=6, lot_decimals=8, cost_decimals=5,
        ordermin=Decimal("5"), costmin=Decimal("0.5"),
        base_price=0.45, sigma_bps=2.5, daily_volume=40_000_000.0, touch_qty=50_000.0,
    ),
    PairSpec(
        "XDGUSD", "XDGUSD", "XDG/USD", "DOGE/USD", "XXDG", "ZUSD",
        pair_decimals=7, lot_decimals=8, cost_decimals=5,
        ordermin=Decimal("15"), costmin=Decimal("0.5"),
        base_price=0.15, sigma_bps=3.0, daily_volume=200_000_000.0, touch_qty=150_000.0,
    ),
    PairSpec(
        "DOTUSD", "DOTUSD", "DOT/USD", "DOT/USD", "DOT", "ZUSD",
        pair_decimals=4, lot_decimals=8, cost_decimals=5,
        ordermin=Decimal("0.5"), costmin=Decimal("0.5"),
        base_price=6.5, sigma_bps=2.4, daily_volume=900_000.0, touch_qty=1_500.0,
    ),
)  # fmt: skip

DELISTED_PAIR_ID = "DOTUSD"
"""The pair the default schedule puts in cancel_only mode and then removes."""
NEW_LISTING_ASSET = AssetSpec("LINK", "LINK", "LINK", 10, 5)
NEW_LISTING = PairSpec(
    "LINKUSD", "LINKUSD", "LINK/USD", "LINK/USD", "LINK", "ZUSD",
    pair_decimals=5, lot_decimals=8, cost_decimals=5,
    ordermin=Decimal("0.2"), costmin=Decimal("0.5"),
    base_price=14.0, sigma_bps=2.6, daily_volume=500_000.0, touch_qty=800.0,
)  # fmt: skip
"""The pair the default schedule lists a few minutes after start (absent from AssetPairs until then)."""


def select_pairs(names: Sequence[str]) -> tuple[PairSpec, ...]:
    """The default pairs named by ccxt symbol, altname or Kraken id (e.g. `BTC/USD`, `XBTUSD`).

    Raises ValueError naming the first unknown one and the choices.
    """
    by_name = {n: p for p in DEFAULT_PAIRS for n in (p.symbol, p.altname, p.pair_id, p.wsname)}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        choices = ", ".join(p.symbol for p in DEFAULT_PAIRS)
        raise ValueError(f"unknown pair {unknown[0]!r}; the simulator has {choices}")
    return tuple(dict.fromkeys(by_name[name] for name in names))


class Instruments:
    """Looks assets and pairs up by any of the names clients use for them."""

    def __init__(
        self,
        assets: tuple[AssetSpec, ...] = DEFAULT_ASSETS,
        pairs: tuple[PairSpec, ...] = DEFAULT_PAIRS,
    ) -> None:
        self.assets: dict[str, AssetSpec] = {}
        self.pairs: dict[str, PairSpec] = {}
        self.status: dict[str, str] = {}
        """AssetPairs `status` per pair id: `online`, or `cancel_only` before a delisting."""
        self._pairs_by_name: dict[str, PairSpec] = {}
        self._pairs_by_symbol: dict[str, PairSpec] = {}
        self._assets_by_name: dict[str, AssetSpec] = {}
        for asset in assets:
            self.add_asset(asset)
        for pair in pairs:
            self.add_pair(pair)

    def add_asset(self, asset: AssetSpec) -> None:
        self.assets[asset.asset_id] = asset
        for name in (asset.asset_id, asset.altname):
            self._assets_by_name[name] = asset

    def add_pair(self, pair: PairSpec) -> None:
        """List a pair (its assets must be known already)."""
        self.pairs[pair.pair_id] = pair
        self.status[pair.pair_id] = "online"
        for name in (pair.pair_id, pair.altname, pair.wsname):
            self._pairs_by_name[name] = pair
        self._pairs_by_symbol[pair.symbol] = pair

    def remove_pair(self, pair_id: str) -> None:
        """Delist a pair: no endpoint finds it afterwards (its asset stays, balances may hold it)."""
        pair = self.pairs.pop(pair_id)
        self.status.pop(pair_id, None)
        for name in (pair.pair_id, pair.altname, pair.wsname):
            self._pairs_by_name.pop(name, None)
        self._pairs_by_symbol.pop(pair.symbol, None)

    def is_trading(self, pair_id: str) -> bool:
        return self.status.get(pair_id) == "online"

    def pair(self, name: str) -> PairSpec | None:
        """Return the pair for a REST id, altname or wsname."""
        return self._pairs_by_name.get(name)

    def pair_by_symbol(self, symbol: str) -> PairSpec | None:
        """Return the pair for a WebSocket v2 symbol (`BTC/USD`)."""
        return self._pairs_by_symbol.get(symbol)

    def asset(self, name: str) -> AssetSpec | None:
        """Return the asset for a REST id or altname."""
        return self._assets_by_name.get(name)
