"""Provides the strategy registry and turns the config's strategy entries into checked specs."""

from __future__ import annotations

import importlib.util
import inspect
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import BaseModel, ValidationError

from tradetui.config import ConfigError, Settings, StrategyEntry
from tradetui.core.strategies.base import Strategy
from tradetui.core.strategies.crossover import CrossoverStrategy
from tradetui.core.strategies.grid import GridStrategy
from tradetui.core.strategies.host import StrategySpec
from tradetui.core.strategies.intel import IntelStrategy
from tradetui.core.strategies.pulse import PulseStrategy

BUILTINS: dict[str, type[Strategy[Any]]] = {
    cls.name: cls for cls in (PulseStrategy, IntelStrategy, CrossoverStrategy, GridStrategy)
}
"""Built-in strategies by name."""

_modules: dict[tuple[Path, float], ModuleType] = {}
"""User strategy files already imported, by path and modification time (import once)."""


def resolve_strategies(settings: Settings) -> list[StrategySpec]:
    """Check every configured strategy and return what the engine should run.

    ``[[strategies]]`` entries win; without any, ``[strategy]`` runs pulse on every symbol.
    Raises ConfigError (one line) for a bad path, a missing class, bad params or symbols.
    """
    if not settings.strategies:
        if not settings.strategy.enabled:
            return []
        params = PulseStrategy.Params(
            order_notional=settings.strategy.order_notional,
            rest_offset_bps=settings.strategy.rest_offset_bps,
        )
        return [StrategySpec("pulse", PulseStrategy, params, tuple(settings.symbols), None, True)]
    specs: list[StrategySpec] = []
    for index, entry in enumerate(settings.strategies):
        if not entry.enabled:
            continue
        spec = _resolve(entry, f"strategies[{index}]", settings.symbols)
        if any(s.id == spec.id for s in specs):
            raise ConfigError(
                f"strategies[{index}]: another strategy is already called {spec.id!r}; "
                "give this one a different id"
            )
        specs.append(spec)
    return specs


def select_strategy(settings: Settings, name: str) -> Settings:
    """Settings that run only the built-in ``name`` (``--strategy``), keeping its configured entries."""
    if name not in BUILTINS:
        raise ConfigError(f"unknown strategy {name!r}; choose from {', '.join(sorted(BUILTINS))}")
    entries = [e for e in settings.strategies if e.name == name and e.path is None and e.enabled]
    if not entries and name == "pulse":
        # Named on purpose: an explicit entry (the demo default never trades live), with the
        # [strategy] table's order size and offset.
        params = {
            "order_notional": settings.strategy.order_notional,
            "rest_offset_bps": settings.strategy.rest_offset_bps,
        }
        entries = [StrategyEntry(name="pulse", params=params)]
    return settings.model_copy(update={"strategies": entries or [StrategyEntry(name=name)]})


DEMO_IN_LIVE = (
    "the demo strategy pulse runs only on paper: to trade live, name the strategies to run "
    'under [[strategies]] in the config (name = "pulse" runs it on purpose), or set '
    "[strategy] enabled = false"
)
"""Why a live engine refuses the demo default."""


def refuse_demo_in_live(specs: list[StrategySpec]) -> None:
    """Raise ConfigError (one line) when the demo default would run live."""
    if any(spec.demo for spec in specs):
        raise ConfigError(DEMO_IN_LIVE)


def _resolve(entry: StrategyEntry, where: str, all_symbols: list[str]) -> StrategySpec:
    if entry.path is not None:
        cls = _class_from_file(entry, where)
    elif entry.name in BUILTINS:
        cls = BUILTINS[entry.name]
    else:
        raise ConfigError(
            f"{where}: unknown strategy {entry.name!r}; choose from "
            f"{', '.join(sorted(BUILTINS))}, or give a path to a strategy file"
        )
    strategy_id = entry.id or cls.name or cls.__name__
    try:
        params = cls.Params(**entry.params)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        at = f"params.{field}" if field else "params"
        raise ConfigError(f"{where} ({strategy_id}): invalid {at}: {first['msg']}") from None
    unknown = [s for s in entry.symbols if s not in all_symbols]
    if unknown:
        raise ConfigError(
            f"{where} ({strategy_id}): symbol {unknown[0]} is not watched; add it to symbols"
        )
    symbols = tuple(entry.symbols or all_symbols)
    return StrategySpec(strategy_id, cls, params, symbols, entry.budget or None)


def _class_from_file(entry: StrategyEntry, where: str) -> type[Strategy[Any]]:
    # Type narrowing for mypy; the value is set on this path.
    assert entry.path is not None  # nosec B101
    path = entry.path.expanduser().resolve()
    if not path.is_file():
        raise ConfigError(f"{where}: strategy file {entry.path} does not exist")
    module = _import_file(path, where)
    candidates = [
        obj
        for _, obj in inspect.getmembers(module, inspect.isclass)
        if issubclass(obj, Strategy) and obj.__module__ == module.__name__
    ]
    if entry.class_name:
        chosen = [c for c in candidates if c.__name__ == entry.class_name]
        wanted = f"class {entry.class_name}"
    elif entry.name:
        chosen = [c for c in candidates if c.name == entry.name]
        wanted = f"a strategy named {entry.name!r}"
    else:
        chosen, wanted = candidates, "Strategy subclass"
    if not chosen:
        raise ConfigError(f"{where}: {entry.path} defines no {wanted}")
    if len(chosen) > 1:
        names = ", ".join(c.__name__ for c in chosen)
        raise ConfigError(
            f"{where}: {entry.path} defines several strategies ({names}); set class_name"
        )
    cls = chosen[0]
    if not (isinstance(cls.Params, type) and issubclass(cls.Params, BaseModel)):
        raise ConfigError(f"{where}: {cls.__name__}.Params is not a pydantic model")
    return cls


def _import_file(path: Path, where: str) -> ModuleType:
    key = (path, path.stat().st_mtime)
    if key in _modules:
        return _modules[key]
    module_name = f"tradetui_user_strategy_{abs(hash(path)):x}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"{where}: {path} cannot be imported as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pydantic look their module up here
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - the user's code; one line for the operator
        sys.modules.pop(module_name, None)
        detail = (str(exc).strip().splitlines() or [""])[0]
        raise ConfigError(
            f"{where}: strategy file {path} failed to load: {type(exc).__name__}: {detail}"
        ) from None
    _modules[key] = module
    return module
