"""Provides the venue connection: embedded simulator, external simulator or a ccxt exchange."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tradetui.config import VenueSettings
from tradetui.core.venue.client import GatewayError, create_exchange
from tradetui.logs import register_secret
from tradetui.paths import nonce_dir


@dataclass
class Venue:
    """An open venue: the ccxt.pro client and, when embedded, the simulator behind it."""

    exchange: Any
    target: str
    """Human description, e.g. ``sim (127.0.0.1:41345)`` or ``kraken``."""
    authenticated: bool
    """True when the client holds API credentials (live orders are possible)."""
    sim: Any = None

    async def close(self) -> None:
        """Close the client, then the embedded simulator."""
        try:
            await self.exchange.close()
        finally:
            if self.sim is not None:
                await self.sim.stop()


async def open_venue(settings: VenueSettings, data_dir: Path, need_credentials: bool) -> Venue:
    """Build the client for ``settings``; raises GatewayError with a one-line message."""
    config: dict[str, Any] = {"timeout": settings.request_timeout_ms, "enableRateLimit": True}
    sim = None
    if settings.exchange == "sim":
        from tradetui.sim.persist import SimStateError
        from tradetui.sim.schedule import ListingSchedule
        from tradetui.sim.server import SimServer

        # The venue's state lives next to the nonce files, so a restart meets the same venue.
        sim = SimServer(
            host="127.0.0.1",
            port=0,
            seed=settings.sim_seed,
            state_file=data_dir / "sim-state.json",
            schedule=ListingSchedule().scaled(settings.sim_schedule_scale),
        )
        try:
            info = await sim.start()
        except SimStateError as exc:
            raise GatewayError(str(exc)) from None
        config.update(info.ccxt_config())
        exchange_id, target = "kraken", f"sim ({info.rest.removeprefix('http://')})"
    elif settings.exchange == "sim-external":
        if not settings.rest_url:
            raise GatewayError("venue sim-external needs venue.rest_url and the ws URLs")
        config.update(_external_sim_config(settings))
        config["enableRateLimit"] = False  # a loopback simulator, not a real venue's limits
        config.update(await _credentials_config(settings))
        exchange_id, target = "kraken", f"sim ({settings.rest_url})"
    else:
        config.update(await _credentials_config(settings))
        exchange_id, target = settings.exchange, settings.exchange
    if need_credentials and not config.get("apiKey"):
        if sim is not None:
            await sim.stop()
        raise GatewayError(no_credentials_message(settings))
    for secret in (config.get("apiKey"), config.get("secret"), config.get("password")):
        if secret:
            register_secret(secret)
    # One nonce file per API key and user, shared by every process that trades with that key.
    exchange = create_exchange(exchange_id, config, nonce_file(str(config.get("apiKey", ""))))
    return Venue(exchange, target, bool(config.get("apiKey")), sim)


SIM_LEADER = "sim-leader"
"""Copy-trading account name of the embedded simulator's leader account."""


async def open_leader_client(settings: VenueSettings, venue: Venue, account: str) -> Any:
    """A second ccxt client on the same venue with the (read-only) credentials of ``account``,
    for following that account's fills; raises GatewayError with a one-line message."""
    config: dict[str, Any] = {"timeout": settings.request_timeout_ms, "enableRateLimit": True}
    if account == SIM_LEADER:
        info = getattr(venue.sim, "info", None)
        if info is None or not info.leader_api_key:
            raise GatewayError(
                f"copy account '{SIM_LEADER}' exists only on the embedded simulator "
                '(venue.exchange = "sim"); name stored credentials of the leader instead'
            )
        config.update(info.ccxt_config())
        config.update({"apiKey": info.leader_api_key, "secret": info.leader_secret})
        exchange_id = "kraken"
    else:
        leader = settings.model_copy(update={"account": account})
        if settings.exchange == "sim-external":
            config.update(_external_sim_config(settings))
            config["enableRateLimit"] = False
            exchange_id = "kraken"
        else:
            exchange_id = settings.exchange
        config.update(await _credentials_config(leader))
        if not config.get("apiKey"):
            raise GatewayError(f"copy-trading leader: {no_credentials_message(leader)}")
        if config["apiKey"] == getattr(venue.exchange, "apiKey", None):
            raise GatewayError(
                f"copy-trading leader account '{account}' has the trading account's own key; "
                "store the leader's read-only key under its own account name"
            )
    for secret in (config.get("apiKey"), config.get("secret"), config.get("password")):
        if secret:
            register_secret(secret)
    # Its own key, so its own nonce file: the leader's nonces never collide with ours.
    return create_exchange(exchange_id, config, nonce_file(str(config["apiKey"])))


def nonce_file(api_key: str) -> Path:
    """The nonce high-water-mark file every process trading with ``api_key`` shares."""
    return nonce_dir() / hashlib.sha256(api_key.encode()).hexdigest()[:12]


def no_credentials_message(settings: VenueSettings) -> str:
    """What to do when live trading needs credentials that are not there: names the account,
    where it was looked for, and says to run `tradetui setup`. Reads no keyring."""
    from tradetui.credentials.stores import missing_credentials_message

    return missing_credentials_message(settings.account)


async def _credentials_config(settings: VenueSettings) -> dict[str, Any]:
    from tradetui.credentials.stores import lookup_credentials

    # Keyring backends block (D-Bus, file locks, the encrypted file's KDF): off the event loop.
    found = await asyncio.to_thread(lookup_credentials, settings.account, settings.exchange)
    if found.credentials is None:
        return {}  # live mode refuses with found.problem (no_credentials_message)
    config: dict[str, Any] = {
        "apiKey": found.credentials.api_key,
        "secret": found.credentials.secret,
    }
    if found.credentials.passphrase:
        config["password"] = found.credentials.passphrase
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
