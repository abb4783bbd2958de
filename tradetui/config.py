"""Provides tradetui's settings on pydantic-settings: defaults, a TOML file, ``TRADETUI_*`` environment variables and CLI overrides."""
# Over 400 lines: every setting is declared here with its docstring, so one file is the reference.

from __future__ import annotations

import json
import os
import tomllib
from contextvars import ContextVar
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable


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
    """How often mids are sampled for the rolling correlation (on the engine's 1 s risk tick, so
    rounded to whole seconds, at least one)."""
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


_config_file: ContextVar[Path | None] = ContextVar("tradetui_config_file", default=None)
"""The config file of the load_settings call in progress: settings_customise_sources, a
classmethod, never sees the arguments of the call it builds sources for."""


class Settings(BaseSettings):
    """All of tradetui's settings.

    Sources layer as defaults < config file < ``TRADETUI_*`` environment < the values given (CLI
    flags), and nested tables merge key by key. ``Settings()`` alone still reads the environment.
    """

    model_config = SettingsConfigDict(
        env_prefix="TRADETUI_", env_nested_delimiter="__", case_sensitive=False, extra="forbid"
    )

    mode: Literal["paper", "live"] = "paper"
    """Start in paper (default) or live mode."""
    symbols: list[str] = Field(default_factory=lambda: ["BTC/USD", "ETH/USD", "SOL/USD"])
    """Symbols to watch and trade."""
    log_level: str = "INFO"
    """Minimum level of log records written."""
    venue: VenueSettings = Field(default_factory=VenueSettings)
    """Where the engine trades: the embedded simulator, an external one, or a ccxt exchange."""
    risk: RiskSettings = Field(default_factory=RiskSettings)
    """Limits of the central risk guard that every order passes."""
    strategy: StrategySettings = Field(default_factory=StrategySettings)
    """The strategy tick, and the pulse strategy that runs when ``strategies`` is empty."""
    strategies: list[StrategyEntry] = Field(default_factory=list)
    """Strategies to run (``[[strategies]]`` tables); when empty, ``[strategy]`` runs pulse."""
    paper: PaperSettings = Field(default_factory=PaperSettings)
    """The paper broker's starting balances, fees and slippage cap."""
    ui: UiSettings = Field(default_factory=UiSettings)
    """The terminal UI: theme, refresh rate and key remaps."""
    ops: OpsSettings = Field(default_factory=OpsSettings)
    """The health/metrics listener, alerts and log output."""
    listing: ListingSettings = Field(default_factory=ListingSettings)
    """The listing monitor: new listings, status changes and delistings."""
    copy_trading: CopyTradingSettings = Field(default_factory=CopyTradingSettings)
    """Leaders whose trades are mirrored."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Highest first. pydantic-settings deep-merges what the sources return, so a table set in
        # several of them keeps every key. No .env file or secrets dir: tradetui never read them.
        sources: tuple[PydanticBaseSettingsSource, ...] = (init_settings, _EnvSource(settings_cls))
        config_file = _config_file.get()
        if config_file is not None:
            sources += (_TomlFileSource(settings_cls, config_file),)
        return sources


class _EnvSource(EnvSettingsSource):
    """``TRADETUI_*`` variables, each checked before pydantic-settings reads them.

    A name whose first part is no setting is left alone, since other parts of tradetui read it
    (``TRADETUI_API_KEY``); an unknown key inside a table, or text where a list or table takes
    JSON, is a ConfigError whose one line names the variable and never echoes its value, as some
    variables hold secrets.
    """

    def __call__(self) -> dict[str, Any]:
        prefix = self.env_prefix.lower()
        delimiter = self.env_nested_delimiter or "__"  # always set by model_config
        for name, value in os.environ.items():
            if name.lower().startswith(prefix):
                keys = name[len(prefix) :].lower().split(delimiter)
                field = _field_at(name, keys)
                if field is not None and self.field_is_complex(field):
                    _check_json(name, keys, value)
        return super().__call__()


def _field_at(name: str, keys: list[str]) -> FieldInfo | None:
    """The field the variable ``name`` (split into ``keys``) sets, None for one that names no
    setting or a key inside a mapping (whose values pydantic-settings takes as text or JSON);
    raises ConfigError for an unknown key inside a table."""
    annotation: Any = Settings
    field: FieldInfo | None = None
    for depth, key in enumerate(keys):
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(key)
            if field is None and depth == 0:
                return None
            if field is None:
                raise ConfigError(
                    f"environment variable {name} names no setting: {'.'.join(keys[:depth])} "
                    f"has no {key!r}; fix or unset it"
                )
            annotation = field.annotation
        elif get_origin(annotation) is dict:
            field, annotation = None, get_args(annotation)[1]
        else:
            raise ConfigError(
                f"environment variable {name} names no setting: {'.'.join(keys[:depth])} "
                f"is not a table; fix or unset it"
            )
    return field


def _check_json(name: str, keys: list[str], value: str) -> None:
    """Raise ConfigError, naming the variable but not its value, unless ``value`` is JSON."""
    try:
        json.loads(value)
    except ValueError:
        raise ConfigError(
            f"environment variable {name} is not valid JSON, which {'.'.join(keys)} takes; "
            "fix or unset it"
        ) from None


class _TomlFileSource(TomlConfigSettingsSource):
    """The ``--config`` TOML file: a missing one, a directory or bad TOML is a one-line ConfigError."""

    def __init__(self, settings_cls: type[BaseSettings], config_file: Path) -> None:
        if not config_file.is_file():
            state = "is not a file" if config_file.exists() else "does not exist"
            raise ConfigError(f"config file {config_file} {state}")
        super().__init__(settings_cls, toml_file=config_file)

    def _read_file(self, file_path: Path | Traversable) -> dict[str, Any]:
        try:
            return super()._read_file(file_path)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {file_path} is not valid TOML: {exc}") from None


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build settings from an optional TOML file, the environment and CLI overrides.

    Raises ConfigError with a one-line message when the file or a value is invalid.
    """
    token = _config_file.set(config_file)
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "config"
        raise ConfigError(f"invalid setting {where}: {first['msg']}") from None
    finally:
        _config_file.reset(token)
