"""Tests strategy configuration: entries, user files and --strategy, each error one clear line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tradetui.config import ConfigError, load_settings
from tradetui.core.strategies import resolve_strategies, select_strategy
from tradetui.core.strategies.crossover import CrossoverStrategy
from tradetui.core.strategies.pulse import PulseStrategy

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "strategies" / "momentum.py"


def error_of(**settings: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        resolve_strategies(load_settings(None, **settings))
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_without_entries_the_strategy_section_runs_pulse_as_before() -> None:
    settings = load_settings(None, strategy={"order_notional": 50, "rest_offset_bps": 5})
    [spec] = resolve_strategies(settings)
    assert (spec.id, spec.cls, spec.budget) == ("pulse", PulseStrategy, None)
    assert (spec.params.order_notional, spec.params.rest_offset_bps) == (50, 5)
    assert spec.symbols == tuple(settings.symbols)
    assert resolve_strategies(load_settings(None, strategy={"enabled": False})) == []


def test_entries_from_a_toml_file(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        "[[strategies]]\n"
        'name = "crossover"\n'
        'symbols = ["BTC/USD"]\n'
        "budget = 500\n"
        "params = { fast = 5, slow = 20, average = 'sma' }\n"
        "[[strategies]]\n"
        f'path = "{EXAMPLE}"\n'
        'id = "mom"\n'
        "budget = 0\n"
        "[[strategies]]\n"
        'name = "grid"\n'
        "enabled = false\n"
    )
    crossover, momentum = resolve_strategies(load_settings(config))
    assert (crossover.id, crossover.cls, crossover.symbols, crossover.budget) == (
        "crossover",
        CrossoverStrategy,
        ("BTC/USD",),
        500,
    )
    assert crossover.params.average == "sma"
    assert (momentum.id, momentum.cls.__name__, momentum.budget) == ("mom", "Momentum", None)


def test_a_missing_strategy_file_is_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nope.py"
    assert error_of(strategies=[{"path": str(missing)}]) == (
        f"strategies[0]: strategy file {missing} does not exist"
    )


def test_a_file_that_fails_to_import_is_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("import no_such_module_here\n")
    assert error_of(strategies=[{"path": str(broken)}]) == (
        f"strategies[0]: strategy file {broken} failed to load: "
        "ModuleNotFoundError: No module named 'no_such_module_here'"
    )
    syntax = tmp_path / "syntax.py"
    syntax.write_text("def oops(:\n")
    assert "failed to load: SyntaxError" in error_of(strategies=[{"path": str(syntax)}])


def test_a_file_without_the_class_is_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty.py"
    empty.write_text("X = 1\n")
    assert error_of(strategies=[{"path": str(empty)}]) == (
        f"strategies[0]: {empty} defines no Strategy subclass"
    )
    assert error_of(strategies=[{"path": str(EXAMPLE), "class_name": "Missing"}]) == (
        f"strategies[0]: {EXAMPLE} defines no class Missing"
    )


def test_a_file_with_two_strategies_needs_a_class_name(tmp_path: Path) -> None:
    two = tmp_path / "two.py"
    two.write_text(
        "from tradetui.core.strategies import Strategy\n"
        "class A(Strategy):\n    name = 'a'\n"
        "class B(Strategy):\n    name = 'b'\n"
    )
    assert error_of(strategies=[{"path": str(two)}]).endswith(
        "defines several strategies (A, B); set class_name"
    )
    [spec] = resolve_strategies(load_settings(None, strategies=[{"path": str(two), "name": "b"}]))
    assert spec.cls.__name__ == "B"


def test_invalid_params_are_one_line() -> None:
    assert error_of(strategies=[{"path": str(EXAMPLE), "params": {"lookback": 1}}]) == (
        "strategies[0] (momentum): invalid params.lookback: "
        "Input should be greater than or equal to 2"
    )
    assert error_of(strategies=[{"name": "grid", "params": {"levls": 3}}]) == (
        "strategies[0] (grid): invalid params.levls: Extra inputs are not permitted"
    )
    assert error_of(strategies=[{"name": "crossover", "params": {"fast": 9, "slow": 3}}]) == (
        "strategies[0] (crossover): invalid params: Value error, fast (9) must be below slow (3)"
    )


def test_unknown_names_symbols_and_duplicate_ids_are_one_line() -> None:
    assert error_of(strategies=[{"name": "macd"}]) == (
        "strategies[0]: unknown strategy 'macd'; choose from crossover, grid, intel, pulse, "
        "or give a path to a strategy file"
    )
    assert error_of(strategies=[{"name": "grid", "symbols": ["DOGE/EUR"]}]) == (
        "strategies[0] (grid): symbol DOGE/EUR is not watched; add it to symbols"
    )
    assert error_of(strategies=[{"name": "grid"}, {"name": "grid"}]) == (
        "strategies[1]: another strategy is already called 'grid'; give this one a different id"
    )
    resolve_strategies(
        load_settings(None, strategies=[{"name": "grid"}, {"name": "grid", "id": "g2"}])
    )


def test_an_entry_needs_a_name_or_a_path() -> None:
    with pytest.raises(ConfigError, match="give a built-in name or a path"):
        load_settings(None, strategies=[{"budget": 10}])


def test_select_strategy_runs_one_built_in() -> None:
    configured = load_settings(
        None, strategies=[{"name": "grid", "params": {"levels": 5}}, {"name": "intel"}]
    )
    [grid] = resolve_strategies(select_strategy(configured, "grid"))
    assert grid.params.levels == 5  # its configured entry is kept
    [crossover] = resolve_strategies(select_strategy(configured, "crossover"))
    assert crossover.cls is CrossoverStrategy
    [pulse] = resolve_strategies(
        select_strategy(load_settings(None, strategy={"enabled": False}), "pulse")
    )
    assert pulse.cls is PulseStrategy
    with pytest.raises(ConfigError, match="unknown strategy 'nope'; choose from crossover"):
        select_strategy(configured, "nope")


def run_cli(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tradetui", "--no-ui", "--data-dir", str(tmp_path / "d"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_cli_reports_a_bad_strategy_file_in_one_line_and_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f'[[strategies]]\npath = "{tmp_path / "gone.py"}"\n')
    result = run_cli("--config", str(config), tmp_path=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"tradetui: strategies[0]: strategy file {tmp_path / 'gone.py'} does not exist"
    ]


def test_the_cli_refuses_an_unknown_strategy_name(tmp_path: Path) -> None:
    result = run_cli("--strategy", "nope", tmp_path=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "tradetui: unknown strategy 'nope'; choose from crossover, grid, intel, pulse"
    ]
