"""Settings: defaults < config file < TRADETUI_* environment < command-line flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradetui.config import ConfigError, Settings, load_settings


def test_sources_layer_and_nested_tables_merge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "tradetui.toml"
    config.write_text(
        'mode = "live"\nsymbols = ["ETH/USD"]\n[risk]\nmax_open_positions = 2\nmax_spread_bps = 40\n'
    )
    monkeypatch.setenv("TRADETUI_RISK__MAX_SPREAD_BPS", "30")
    monkeypatch.setenv("TRADETUI_MODE", "live")
    settings = load_settings(config, mode="paper")
    assert settings.symbols == ["ETH/USD"]  # file
    assert settings.risk.max_open_positions == 2  # file, beside an env value in the same table
    assert settings.risk.max_spread_bps == 30  # env beats file
    assert settings.mode == "paper"  # flag beats env
    assert settings.risk.min_confidence == 0.75  # default


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("risk = [", "is not valid TOML"),
        ("[risk]\nmax_spread_bps = 'wide'\n", "invalid setting risk.max_spread_bps"),
        (
            "no_such_setting = 1\n",
            "invalid setting no_such_setting: Extra inputs are not permitted",
        ),
        (  # a typo inside a table is not silently ignored: the limit would not be the one meant
            "[risk]\nmax_spred_bps = 30\n",
            "invalid setting risk.max_spred_bps: Extra inputs are not permitted",
        ),
    ],
)
def test_a_bad_config_file_is_one_clear_line(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings(config)
    assert "\n" not in str(caught.value)


def test_a_missing_config_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


def test_a_directory_given_as_config_file_says_so(tmp_path: Path) -> None:
    """Guards against pydantic-settings' TOML source, which skips a path that is no file."""
    with pytest.raises(ConfigError, match=f"config file {tmp_path} is not a file"):
        load_settings(tmp_path)


def test_one_table_merges_across_every_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guards the deep merge of pydantic-settings' sources: a table set in several keeps every key."""
    config = tmp_path / "tradetui.toml"
    config.write_text("[risk]\nmax_open_positions = 2\nmax_spread_bps = 40\n")
    monkeypatch.setenv("TRADETUI_RISK__MAX_DAILY_LOSS_PCT", "4")
    monkeypatch.setenv("TRADETUI_RISK", '{"max_drawdown_pct": 8}')
    risk = load_settings(config, risk={"min_balance": 25}).risk
    assert (risk.max_open_positions, risk.max_spread_bps) == (2, 40)  # file
    assert (risk.max_daily_loss_pct, risk.max_drawdown_pct) == (4, 8)  # env: one key, and JSON
    assert risk.min_balance == 25  # flag
    assert risk.min_confidence == 0.75  # default


def test_a_nested_variable_sets_one_key_of_its_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADETUI_RISK__MAX_SPREAD_BPS", "30")
    monkeypatch.setenv("TRADETUI_STRATEGY__ENABLED", "false")
    settings = load_settings(None)
    assert settings.risk.max_spread_bps == 30
    assert settings.risk.max_open_positions == 3  # the rest of the table keeps its defaults
    assert settings.strategy.enabled is False


def test_env_beats_the_file_and_a_flag_beats_env_inside_a_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "tradetui.toml"
    config.write_text("[strategy]\ninterval_s = 9\norder_notional = 50\nrest_offset_bps = 5\n")
    monkeypatch.setenv("TRADETUI_STRATEGY__INTERVAL_S", "4")
    monkeypatch.setenv("TRADETUI_STRATEGY__ORDER_NOTIONAL", "75")
    settings = load_settings(config, strategy={"order_notional": 100})
    assert settings.strategy.rest_offset_bps == 5  # file
    assert settings.strategy.interval_s == 4  # env beats file
    assert settings.strategy.order_notional == 100  # flag beats env


def test_list_and_table_settings_take_json_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADETUI_SYMBOLS", '["BTC/USD"]')
    monkeypatch.setenv("TRADETUI_UI__KEYS", '{"kill": "ctrl+x"}')
    monkeypatch.setenv("TRADETUI_RISK", '{"max_spread_bps": 33}')
    monkeypatch.setenv("TRADETUI_RISK__MIN_BALANCE", "5")
    settings = load_settings(None)
    assert settings.symbols == ["BTC/USD"]
    assert settings.ui.keys == {"kill": "ctrl+x"}
    assert (settings.risk.max_spread_bps, settings.risk.min_balance) == (33, 5)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TRADETUI_SYMBOLS", "BTC/USD", "TRADETUI_SYMBOLS is not valid JSON, which symbols takes"),
        ("TRADETUI_UI__KEYS", "{kill", "TRADETUI_UI__KEYS is not valid JSON, which ui.keys takes"),
        ("TRADETUI_RISK__NO_SUCH", "1", "TRADETUI_RISK__NO_SUCH names no setting: risk has no"),
        ("TRADETUI_MODE__X", "1", "TRADETUI_MODE__X names no setting: mode is not a table"),
        ("TRADETUI_RISK__MAX_SPREAD_BPS", "wide", "invalid setting risk.max_spread_bps"),
    ],
)
def test_a_bad_variable_is_one_clear_line_without_its_value(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings(None)
    assert "\n" not in str(caught.value)
    if "invalid setting" not in message:  # pydantic's own messages do not echo inputs either
        assert value not in str(caught.value)


def test_variables_that_name_no_setting_are_left_to_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRADETUI_API_KEY", "not json {")
    monkeypatch.setenv("TRADETUI_API_SECRET", "s3cret")
    monkeypatch.setenv("TRADETUI_KEYRING_PASSPHRASE", "[")
    assert load_settings(None).mode == "paper"


def test_variable_names_match_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("tradetui_Risk__Max_Spread_Bps", "31")
    monkeypatch.setenv("Tradetui_mode", "live")
    settings = load_settings(None)
    assert settings.risk.max_spread_bps == 31
    assert settings.mode == "live"


def test_settings_built_directly_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards tests and callers that build Settings() without load_settings."""
    monkeypatch.setenv("TRADETUI_OPS__HTTP_PORT", "0")
    monkeypatch.setenv("TRADETUI_LOG_LEVEL", "DEBUG")
    settings = Settings(mode="live")
    assert (settings.ops.http_port, settings.log_level, settings.mode) == (0, "DEBUG", "live")
    assert Settings(log_level="WARNING").log_level == "WARNING"  # given values beat env
