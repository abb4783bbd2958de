"""Keeps accounts: credentials, balances with holds, nonces, orders, fills and WS tokens."""

from __future__ import annotations

import base64
import random
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from tradetui.sim.venue.orders import ZERO, Fill, Order

DEFAULT_BALANCES: dict[str, Decimal] = {
    "ZUSD": Decimal("100000"),
    "XXBT": Decimal("1"),
    "XETH": Decimal("10"),
    "SOL": Decimal("100"),
}
LEADER_BALANCES: dict[str, Decimal] = {
    "ZUSD": Decimal("250000"),
    "XXBT": Decimal("3"),
    "XETH": Decimal("30"),
    "SOL": Decimal("500"),
}
"""The leader account trades bigger than the main one, so copies scale down."""
TOKEN_TTL_S = 900
"""The `expires` GetWebSocketsToken reports."""
RECENT_NONCES = 1024


@dataclass(frozen=True, slots=True)
class BalanceChange:
    """One asset's balance after a fill or a hold change (a ledger entry for fills)."""

    asset: str
    balance: Decimal
    hold: Decimal
    amount: Decimal = ZERO
    fee: Decimal = ZERO
    ref_id: str = ""
    kind: str = "hold"
    """`trade` for fills, `hold` when only the amount on hold moved."""


@dataclass(slots=True)
class Account:
    """A trading account reachable with one API key."""

    name: str
    api_key: str
    secret: str
    balances: dict[str, Decimal]
    holds: dict[str, Decimal] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    open_orders: dict[str, Order] = field(default_factory=dict)
    fills: list[Fill] = field(default_factory=list)
    last_nonce: int = 0
    recent_nonces: deque[int] = field(default_factory=lambda: deque(maxlen=RECENT_NONCES))

    def balance(self, asset: str) -> Decimal:
        return self.balances.get(asset, ZERO)

    def hold_of(self, asset: str) -> Decimal:
        return self.holds.get(asset, ZERO)

    def available(self, asset: str) -> Decimal:
        return self.balance(asset) - self.hold_of(asset)

    def change_hold(self, asset: str, delta: Decimal) -> None:
        """Put `delta` on hold (negative releases); holds never exceed the balance."""
        new_hold = self.hold_of(asset) + delta
        if new_hold < 0 or new_hold > self.balance(asset):
            raise RuntimeError(f"hold of {asset} would become {new_hold}")
        self.holds[asset] = new_hold

    def apply(self, asset: str, delta: Decimal) -> Decimal:
        """Change the total balance by `delta` and return the new balance."""
        new_balance = self.balance(asset) + delta
        if new_balance < self.hold_of(asset):
            raise RuntimeError(f"balance of {asset} would fall below its hold: {new_balance}")
        self.balances[asset] = new_balance
        return new_balance

    def change(
        self,
        asset: str,
        amount: Decimal = ZERO,
        fee: Decimal = ZERO,
        ref_id: str = "",
        kind: str = "hold",
    ) -> BalanceChange:
        """Describe `asset`'s current state for listeners."""
        return BalanceChange(
            asset, self.balance(asset), self.hold_of(asset), amount, fee, ref_id, kind
        )

    def accept_nonce(self, nonce: int, window: int) -> bool:
        """Kraken's rule: strictly above the last nonce, or unseen within `window` of it."""
        if nonce > self.last_nonce:
            self.last_nonce = nonce
        elif window <= 0 or nonce <= self.last_nonce - window or nonce in self.recent_nonces:
            return False
        self.recent_nonces.append(nonce)
        return True


def make_credentials(seed: int, name: str) -> tuple[str, str]:
    """A Kraken-looking API key and a base64 secret, deterministic from the seed."""
    # Deterministic simulator test keys, by design (never real credentials).
    rng = random.Random(f"{seed}:credentials:{name}")  # nosec B311
    api_key = base64.b64encode(rng.randbytes(42)).decode()
    secret = base64.b64encode(rng.randbytes(64)).decode()
    return api_key, secret


class AccountRegistry:
    """All accounts, looked up by API key, plus the WS tokens issued to them."""

    def __init__(self, seed: int, clock: Callable[[], float] = time.time) -> None:
        self._seed = seed
        self._clock = clock
        self.by_key: dict[str, Account] = {}
        self._tokens: dict[str, tuple[Account, float]] = {}
        self.token_ttl_s = 0.0
        """Seconds a WS token works after it is issued (a fault); 0 means it never expires."""

    def create(self, name: str, balances: dict[str, Decimal] | None = None) -> Account:
        api_key, secret = make_credentials(self._seed, name)
        account = Account(name, api_key, secret, dict(balances or DEFAULT_BALANCES))
        self.by_key[api_key] = account
        return account

    def issue_token(self, account: Account) -> str:
        token = base64.b64encode(secrets.token_bytes(32)).decode()
        self._tokens[token] = (account, self._clock())
        return token

    def account_for_token(self, token: object) -> Account | None:
        """The account a token was issued to, or None when unknown or expired.

        Tokens expire only when `token_ttl_s` is set: ccxt fetches a new one every
        `expires` seconds anyway, and real Kraken keeps a used token valid while its
        socket lives.
        """
        if not isinstance(token, str):
            return None
        issued = self._tokens.get(token)
        if issued is None:
            return None
        account, issued_at = issued
        if self.token_ttl_s > 0 and self._clock() - issued_at >= self.token_ttl_s:
            return None
        return account
