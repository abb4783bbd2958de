"""Provides tradetui's settings: defaults, a TOML file, ``TRADETUI_*`` environment variables and CLI overrides."""

from __future__ import annotations

import json
import os
import tomllib
import types
from collections.abc import Mapping
from contextvars import ContextVar
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class ConfigError(Exception):
    """A user-facing configuration problem, with a one-line message."""


class _Section(BaseModel):
    """A table of the config: a key it does not know (a typo) is an error, never ignored."""

    model_config = ConfigDict(extra="forbid")


class VenueSettings(_Section):
    """Where the engine trades."""

    exchange: str = "sim"
    """``sim`` for the embedded simulator, ``sim-external`` for one given by URLs, else a ccxt id."""
    rest_url: str = ""
    """REST base URL of an external simulator (``sim-external`` only)."""
    ws_public_url: str = ""
    """WS v2 public URL of an external simulator (``sim-external`` only)."""
    ws_private_url: str = ""
    """WS v2 private URL of an external simulator (``sim-external`` only)."""
    account: str = "default"
    """Name of the stored credentials to use in live mode on a real exchange."""
    sim_seed: int = 7
    """Seed of the embedded simulator's market."""
    sim_schedule_scale: float = Field(default=1.0, gt=0, allow_inf_nan=False)
    """Runs the embedded simulator's listing schedule this many times as long (LINK/USD listed at
    180 s; DOT/USD reduce-only at 210 s, cancel-only at 240 s, removed at 360 s); 0.05: seconds."""
    request_timeout_ms: int = 10_000
    """ccxt request timeout."""
    breaker_threshold: int = 3
    """Consecutive transport failures that open a circuit breaker."""
    breaker_open_s: float = 5.0
    """How long an open breaker fails fast before letting one trial call through."""
    dead_man_s: float = 60.0
    """Live mode keeps the venue's dead-man's switch armed with this timeout (0: off), so
    orders are canceled even if the process dies."""
    flatten_attempts: int = 3
    """How many times FLATTEN sends closing orders and checks again before it gives up."""
    unknown_order_grace_s: float = 10.0
    """How long an order whose send failed may still surface on the venue before it counts as never sent."""


class RiskSettings(_Section):
    """Limits of the central risk guard."""

    max_quote_age_s: float = 5.0
    """A quote older than this blocks trading in its symbol."""
    max_spread_bps: float = 50.0
    """A spread wider than this blocks trading in its symbol."""
    max_position_pct: float = 20.0
    """A single position may not exceed this share of equity (percent)."""
    max_open_positions: int = 3
    """At most this many symbols may hold a position."""
    min_balance: float = 10.0
    """Free quote balance that must remain after a buy."""
    min_confidence: float = 0.75
    """Intents with a lower signal confidence are rejected."""
    fat_finger_pct: float = 5.0
    """A limit price further than this from mid (percent) is rejected."""
    max_orders_per_minute: int = 30
    """The engine's own order-rate budget, across all symbols and strategies."""
    max_daily_loss_pct: float = 5.0
    """No new exposure once equity is this far (percent) below the UTC day-start equity."""
    max_drawdown_pct: float = 10.0
    """No new exposure once equity is this far (percent) below its peak."""
    max_total_exposure_pct: float = 60.0
    """All positions together may not exceed this share of equity (percent)."""
    max_cluster_exposure_pct: float = 40.0
    """Positions in symbols that move together may not exceed this share of equity (percent)."""
    cluster_correlation: float = 0.8
    """Symbols whose rolling return correlation reaches this form one cluster."""
    correlation_sample_s: float = 5.0
    """How often mids are sampled for the rolling correlation."""
    correlation_window: int = 60
    """How many samples the rolling correlation spans."""
    cooldown_losses: int = 3
    """Losing trades in one symbol within the window that start its cooldown."""
    cooldown_losses_global: int = 5
    """Losing trades across all symbols within the window that start a global cooldown."""
    cooldown_window_s: float = 3600.0
    """The window losing trades are counted in."""
    cooldown_s: float = 1800.0
    """How long a cooldown blocks new exposure."""


class StrategySettings(_Section):
    """The strategy tick, and the built-in pulse strategy that runs when no ``[[strategies]]`` are set."""

    enabled: bool = True
    """Run the default pulse strategy (``[[strategies]]`` entries, when given, replace it)."""
    interval_s: float = 3.0
    """Seconds between decisions (every strategy runs on this tick)."""
    order_notional: float = 200.0
    """Quote value of one order."""
    rest_offset_bps: float = 15.0
    """How far below the bid the resting buy limit sits."""


class StrategyEntry(BaseModel):
    """One strategy to run: a built-in by name, or a Strategy class from a Python file."""

    model_config = ConfigDict(extra="forbid")

    name: str = ""
    """A built-in (pulse, intel, crossover, grid); with ``path``, which class of the file by its ``name``."""
    path: Path | None = None
    """A Python file defining a Strategy subclass; a relative path is taken from the working directory."""
    class_name: str = ""
    """The class to take from ``path`` when the file defines more than one strategy."""
    id: str = ""
    """Label on its orders and audit rows (default: its name); unique among the strategies."""
    symbols: list[str] = Field(default_factory=list)
    """Symbols it trades, each one of ``symbols`` (default: all of them)."""
    budget: float = Field(default=1000.0, ge=0, allow_inf_nan=False)
    """Quote currency it may commit: its positions' cost plus its open buys (0: no cap)."""
    params: dict[str, Any] = Field(default_factory=dict)
    """Its parameters, validated by the strategy's own ``Params`` model."""
    enabled: bool = True
    """Run it."""

    @model_validator(mode="after")
    def _named_or_located(self) -> StrategyEntry:
        if not self.name and self.path is None:
            raise ValueError("give a built-in name or a path to a strategy file")
        return self


class PaperSettings(_Section):
    """The paper broker's starting ledger."""

    starting_balances: dict[str, Decimal] = Field(default_factory=lambda: {"USD": Decimal(10_000)})
    """Balances the paper ledger starts from."""
    taker_fee: Decimal = Decimal("0.0026")
    """Fee rate charged on paper fills that take liquidity."""
    maker_fee: Decimal = Decimal("0.0016")
    """Fee rate charged on paper fills of resting orders."""
    max_slippage_bps: Decimal = Decimal(50)
    """A paper market order walks the book no further than this from the touch; the rest is canceled."""


class UiSettings(_Section):
    """The terminal UI."""

    theme: str = "tradetui-dark"
    """Theme name: one of the themes in ``themes/`` or a built-in Textual theme."""
    refresh_hz: float = 5.0
    """How often panes re-read the engine snapshot."""
    keys: dict[str, str] = Field(default_factory=dict)
    """Key remaps by binding id, e.g. ``{kill = "ctrl+x"}``; ``?`` in the app lists the ids."""


class OpsSettings(_Section):
    """Running unattended: the health/metrics listener, alerts and log output."""

    http_host: str = "127.0.0.1"
    """Address of the /health and /metrics listener; anything but loopback must be asked for."""
    http_port: int = Field(default=9185, ge=0, le=65535)
    """Port of the /health and /metrics listener (0 picks a free one and logs it)."""
    http_enabled: bool = True
    """Serve /health and /metrics when running headless (``--no-ui``)."""
    http_in_ui: bool = False
    """Serve /health and /metrics in TUI mode too."""
    webhook_url: str | None = None
    """Where alerts are POSTed as JSON (none: alerts only go to the log)."""
    alert_min_interval_s: float = Field(default=300.0, ge=0)
    """The same alert (kind and subject) is sent at most once per this many seconds."""
    log_format: Literal["human", "json"] = "human"
    """Format of headless stdout logs; the log file is always JSON lines."""


class ListingSettings(_Section):
    """The listing monitor: new listings, status changes and delistings on the venue."""

    enabled: bool = True
    """Watch the venue's market list."""
    interval_s: float = Field(default=60.0, gt=0, allow_inf_nan=False)
    """Seconds between market-list reloads (there is also one after every stream reconnect)."""
    on_delisting: Literal["close", "hold"] = "close"
    """``close`` sells positions in a symbol the venue puts in reduce-only mode (the delisting
    notice); ``hold`` keeps them. Buys are blocked either way."""


class CopyLeader(BaseModel):
    """One account whose trades are mirrored (``[[copy_trading.leaders]]``)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    """Short label: orders go out as strategy ``copy:<name>``."""
    account: str = "sim-leader"
    """Stored (read-only) credentials of the leader on the same venue; ``sim-leader`` is the
    embedded simulator's leader account."""
    ratio: Decimal | None = Field(default=None, gt=0)
    """Copy each leader fill at this fraction of its amount (give this or ``fixed_notional``)."""
    fixed_notional: Decimal | None = Field(default=None, gt=0)
    """Copy each leader fill as an order of this quote value instead."""
    max_notional_per_trade: Decimal = Field(default=Decimal(250), ge=0)
    """Largest quote value of one copied order (0: no cap)."""
    max_position_notional: Decimal = Field(default=Decimal(1000), ge=0)
    """Copied buys stop once our position in the symbol is worth this much (0: no cap)."""
    max_delay_s: float = Field(default=30.0, gt=0, allow_inf_nan=False)
    """A leader fill older than this when we act on it is skipped, not chased."""
    symbols: list[str] = Field(default_factory=list)
    """Only copy these symbols (default: every watched symbol)."""

    @model_validator(mode="after")
    def _one_sizing_rule(self) -> CopyLeader:
        if (self.ratio is None) == (self.fixed_notional is None):
            raise ValueError("give exactly one of ratio or fixed_notional")
        return self


class CopyTradingSettings(_Section):
    """Copy trading: the leaders to follow (a table named ``copy`` would shadow pydantic's
    ``BaseModel.copy``)."""

    leaders: list[CopyLeader] = Field(default_factory=list)
    """Leaders to follow; empty: no copy trading."""

    @model_validator(mode="after")
    def _unique_names(self) -> CopyTradingSettings:
        names = [leader.name for leader in self.leaders]
        if len(names) != len(set(names)):
            raise ValueError("leader names must be unique")
        return self


_file_values: ContextVar[dict[str, Any] | None] = ContextVar(
    "tradetui_config_file_values", default=None
)
"""The parsed config file of the load_settings call in progress."""


class Settings(BaseModel):
    """All of tradetui's settings.

    Sources layer as defaults < config file < ``TRADETUI_*`` environment < the values given (CLI
    flags), and nested tables merge key by key. ``Settings()`` alone still reads the environment.
    """

    model_config = ConfigDict(extra="forbid")

    mode: Literal["paper", "live"] = "paper"
    """Start in paper (default) or live mode."""
    symbols: list[str] = Field(default_factory=lambda: ["BTC/USD", "ETH/USD", "SOL/USD"])
    """Symbols to watch and trade."""
    log_level: str = "INFO"
    """Minimum level of log records written."""
    venue: VenueSettings = Field(default_factory=VenueSettings)
    risk: RiskSettings = Field(default_factory=RiskSettings)
    strategy: StrategySettings = Field(default_factory=StrategySettings)
    strategies: list[StrategyEntry] = Field(default_factory=list)
    """Strategies to run (``[[strategies]]`` tables); when empty, ``[strategy]`` runs pulse."""
    paper: PaperSettings = Field(default_factory=PaperSettings)
    ui: UiSettings = Field(default_factory=UiSettings)
    ops: OpsSettings = Field(default_factory=OpsSettings)
    listing: ListingSettings = Field(default_factory=ListingSettings)
    copy_trading: CopyTradingSettings = Field(default_factory=CopyTradingSettings)

    @model_validator(mode="before")
    @classmethod
    def _layer_sources(cls, data: Any) -> Any:
        """The config file's values, then the environment's, under the given ones."""
        if not isinstance(data, dict):
            return data
        # A bad variable raises ConfigError, which pydantic lets through unwrapped (it only
        # collects ValueErrors), so Settings() and load_settings both give its one-line message.
        file_and_env = _deep_merge(_file_values.get() or {}, _environment_values(os.environ))
        return _deep_merge(file_and_env, data)


_ENV_PREFIX = "TRADETUI_"
"""Environment variables named with this prefix (in any case) set settings."""
_ENV_NESTED_DELIMITER = "__"
"""Steps into a table in a variable's name: ``TRADETUI_RISK__MAX_SPREAD_BPS=30``."""


def _environment_values(environ: Mapping[str, str]) -> dict[str, Any]:
    """The settings given by ``TRADETUI_*`` variables in ``environ``, as nested dicts.

    A list, table or mapping setting takes JSON (``TRADETUI_SYMBOLS='["BTC/USD"]'``); any other
    value stays a string for validation to convert. A name whose first part is no setting is left
    alone, since other parts of tradetui read it (``TRADETUI_API_KEY``); an unknown key inside a
    table is an error. Raises ConfigError with a one-line message that never echoes a value, as
    some variables hold secrets.
    """
    prefix = _ENV_PREFIX.lower()
    named = [
        (name, name[len(prefix) :].lower().split(_ENV_NESTED_DELIMITER))
        for name in environ
        if name.lower().startswith(prefix)
    ]
    # Whole tables first, so TRADETUI_RISK='{...}' and TRADETUI_RISK__MIN_BALANCE=5 combine.
    named.sort(key=lambda name_and_keys: len(name_and_keys[1]))
    values: dict[str, Any] = {}
    for name, keys in named:
        annotation = _annotation_at(name, keys)
        if annotation is _NO_SETTING:
            continue
        value: Any = environ[name]
        if _is_complex(annotation):
            try:
                value = json.loads(value)
            except ValueError:
                raise ConfigError(
                    f"environment variable {name} is not valid JSON, which "
                    f"{'.'.join(keys)} takes; fix or unset it"
                ) from None
        for key in reversed(keys):
            value = {key: value}
        values = _deep_merge(values, value)
    return values


_NO_SETTING: Any = object()
"""Stands for a variable whose first name part is no setting."""


def _annotation_at(name: str, keys: list[str]) -> Any:
    """The type of the setting ``keys`` leads to from Settings, or _NO_SETTING for a name that
    other parts of tradetui read; raises ConfigError for an unknown key inside a table."""
    annotation: Any = Settings
    for depth, key in enumerate(keys):
        inner = _without_none(annotation)
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            field = inner.model_fields.get(key)
            if field is None and depth == 0:
                return _NO_SETTING
            if field is None:
                raise ConfigError(
                    f"environment variable {name} names no setting: {'.'.join(keys[:depth])} "
                    f"has no {key!r}; fix or unset it"
                )
            annotation = field.annotation
        elif get_origin(inner) is dict:
            annotation = get_args(inner)[1] if get_args(inner) else Any
        else:
            raise ConfigError(
                f"environment variable {name} names no setting: {'.'.join(keys[:depth])} "
                f"is not a table; fix or unset it"
            )
    return annotation


def _without_none(annotation: Any) -> Any:
    """``X`` for ``X | None``; any other annotation as it is."""
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return annotation


def _is_complex(annotation: Any) -> bool:
    """Whether a setting of this type is given as JSON in the environment (as pydantic-settings did)."""
    inner = _without_none(annotation)
    origin = get_origin(inner)
    if origin in (Union, types.UnionType):
        return any(_is_complex(arg) for arg in get_args(inner))
    container = origin or inner
    return container in (list, dict, set, frozenset, tuple) or (
        isinstance(inner, type) and issubclass(inner, BaseModel)
    )


def _deep_merge(low: dict[str, Any], high: dict[str, Any]) -> dict[str, Any]:
    """``low`` updated by ``high``, merging tables present in both key by key."""
    merged = dict(low)
    for key, value in high.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build settings from an optional TOML file, the environment and CLI overrides.

    Raises ConfigError with a one-line message when the file or a value is invalid.
    """
    values: dict[str, Any] = {}
    if config_file is not None:
        try:
            values = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file {config_file} does not exist") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {config_file} is not valid TOML: {exc}") from None
    token = _file_values.set(values)
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "config"
        raise ConfigError(f"invalid setting {where}: {first['msg']}") from None
    finally:
        _file_values.reset(token)
