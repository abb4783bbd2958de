"""Provides opening the venue: the embedded simulator, an external one by URLs, or a ccxt exchange
with stored credentials. What lives outside core (the credential stores, the simulator) comes in
through VenueAccess, which the runtime builds."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tradetui.config import VenueSettings
from tradetui.core.model import MarketInfo
from tradetui.core.venue.client import VenueClient, create_exchange
from tradetui.core.venue.errors import VenueSetupError
from tradetui.core.venue.parse import select_markets
from tradetui.logs import register_secret
from tradetui.paths import nonce_dir

SIM_LEADER = "sim-leader"
"""Copy-trading account name of the embedded simulator's leader account."""


@dataclass(frozen=True, repr=False)
class ApiKey:
    """An account's API credentials as a venue client needs them."""

    api_key: str
    secret: str
    passphrase: str = ""
    sandbox: bool = False
    """Trade the exchange's sandbox/testnet (ccxt's ``sandbox`` option)."""

    def __repr__(self) -> str:
        return "ApiKey(***)"


@dataclass(frozen=True)
class EmbeddedSim:
    """The simulator the engine runs in-process for ``venue.exchange = "sim"``."""

    ccxt_config: dict[str, Any]
    """URLs and the trading account's credentials, as ccxt constructor options."""
    address: str
    """``host:port`` of its REST API, for the operator."""
    leader: ApiKey | None
    """The copy-trading leader account's credentials (``sim-leader``)."""
    stop: Callable[[], Awaitable[None]]
    server: object
    """The simulator itself (tests reach its faults and clock through it)."""


@dataclass(frozen=True)
class VenueAccess:
    """What opening a venue needs from outside core."""

    lookup_credentials: Callable[[str, str], ApiKey | str]
    """``(account, exchange)`` -> the account's key, or one sentence saying why there is none.
    Blocks (keyring, KDF): it runs in a thread."""
    missing_credentials: Callable[[str], str]
    """``account`` -> why live mode has no key for it (the last lookup's reason); never blocks."""
    start_simulator: Callable[[VenueSettings, Path], Awaitable[EmbeddedSim]]
    """Start the embedded simulator with its state under the given data dir; raises
    VenueSetupError (one line) when it cannot."""


@dataclass
class Venue:
    """An open venue: the client and, when embedded, the simulator behind it."""

    client: VenueClient
    target: str
    """Human description, e.g. ``sim (127.0.0.1:41345)`` or ``kraken``."""
    sim: EmbeddedSim | None = None

    @property
    def authenticated(self) -> bool:
        """True when the client holds API credentials (live orders are possible)."""
        return self.client.authenticated

    async def load_markets(self, symbols: list[str]) -> dict[str, MarketInfo]:
        """Load the venue's markets; returns the rules of ``symbols``. Raises VenueError when the
        venue fails to list them, VenueSetupError when it lacks a symbol."""
        return select_markets(await self.client.load_markets(), symbols)

    async def close(self) -> None:
        """Close the client, then the embedded simulator."""
        try:
            await self.client.close()
        finally:
            if self.sim is not None:
                await self.sim.stop()


async def open_venue(
    settings: VenueSettings,
    data_dir: Path,
    need_credentials: bool,
    access: VenueAccess,
    clock: Callable[[], float] = time.time,
) -> Venue:
    """Open the venue ``settings`` name; raises VenueSetupError with a one-line message."""
    config: dict[str, Any] = {"timeout": settings.request_timeout_ms, "enableRateLimit": True}
    sim = None
    if settings.exchange == "sim":
        # The venue's state lives in the data dir, so a restart meets the same venue.
        sim = await access.start_simulator(settings, data_dir)
        config.update(sim.ccxt_config)
        exchange_id, target = "kraken", f"sim ({sim.address})"
    elif settings.exchange == "sim-external":
        if not settings.rest_url:
            raise VenueSetupError("venue sim-external needs venue.rest_url and the ws URLs")
        config.update(_external_sim_config(settings))
        config["enableRateLimit"] = False  # a loopback simulator, not a real venue's limits
        config.update(await _credentials_config(settings, access))
        exchange_id, target = "kraken", f"sim ({settings.rest_url})"
    else:
        config.update(await _credentials_config(settings, access))
        exchange_id, target = settings.exchange, settings.exchange
    try:
        if need_credentials and not config.get("apiKey"):
            raise VenueSetupError(access.missing_credentials(settings.account))
        _register_secrets(config)
        # One nonce file per API key and user, shared by every process that trades with that key.
        exchange = create_exchange(exchange_id, config, nonce_file(str(config.get("apiKey", ""))))
    except BaseException:
        if sim is not None:
            await sim.stop()
        raise
    return Venue(VenueClient(exchange, clock), target, sim)


async def open_leader_client(
    settings: VenueSettings,
    venue: Venue,
    account: str,
    access: VenueAccess,
    clock: Callable[[], float] = time.time,
) -> VenueClient:
    """A second client on the same venue with the (read-only) credentials of ``account``, for
    following that account's fills; raises VenueSetupError with a one-line message."""
    config: dict[str, Any] = {"timeout": settings.request_timeout_ms, "enableRateLimit": True}
    if account == SIM_LEADER:
        if venue.sim is None or venue.sim.leader is None:
            raise VenueSetupError(
                f"copy account '{SIM_LEADER}' exists only on the embedded simulator "
                '(venue.exchange = "sim"); name stored credentials of the leader instead'
            )
        config.update(venue.sim.ccxt_config)
        config.update({"apiKey": venue.sim.leader.api_key, "secret": venue.sim.leader.secret})
        exchange_id = "kraken"
    else:
        leader = settings.model_copy(update={"account": account})
        if settings.exchange == "sim-external":
            config.update(_external_sim_config(settings))
            config["enableRateLimit"] = False
            exchange_id = "kraken"
        else:
            exchange_id = settings.exchange
        config.update(await _credentials_config(leader, access))
        if not config.get("apiKey"):
            raise VenueSetupError(f"copy-trading leader: {access.missing_credentials(account)}")
        if venue.client.has_key(config["apiKey"]):
            raise VenueSetupError(
                f"copy-trading leader account '{account}' has the trading account's own key; "
                "store the leader's read-only key under its own account name"
            )
    _register_secrets(config)
    # Its own key, so its own nonce file: the leader's nonces never collide with ours.
    exchange = create_exchange(exchange_id, config, nonce_file(str(config["apiKey"])))
    return VenueClient(exchange, clock)


def nonce_file(api_key: str) -> Path:
    """The nonce high-water-mark file every process trading with ``api_key`` shares."""
    return nonce_dir() / hashlib.sha256(api_key.encode()).hexdigest()[:12]


def _register_secrets(config: dict[str, Any]) -> None:
    """Mask the credentials in every log line from now on."""
    for secret in (config.get("apiKey"), config.get("secret"), config.get("password")):
        if secret:
            register_secret(secret)


async def _credentials_config(settings: VenueSettings, access: VenueAccess) -> dict[str, Any]:
    # Keyring backends block (D-Bus, file locks, the encrypted file's KDF): off the event loop.
    found = await asyncio.to_thread(access.lookup_credentials, settings.account, settings.exchange)
    if isinstance(found, str):
        return {}  # live mode refuses with access.missing_credentials
    config: dict[str, Any] = {"apiKey": found.api_key, "secret": found.secret}
    if found.passphrase:
        config["password"] = found.passphrase
    if found.sandbox:
        config["sandbox"] = True  # ccxt calls set_sandbox_mode(True) for this constructor key
    return config


def _external_sim_config(settings: VenueSettings) -> dict[str, Any]:
    rest, public, private = settings.rest_url, settings.ws_public_url, settings.ws_private_url
    ws = {"publicV2": public, "privateV2": private, "public": public, "private": private}
    config: dict[str, Any] = {"urls": {"api": {"public": rest, "private": rest, "ws": ws}}}
    if not rest.startswith("https:"):
        # Plain HTTP: close() has no TLS shutdown to wait out (ccxt sleeps 250 ms by default).
        config["timeout_on_exit"] = 0
    return config
