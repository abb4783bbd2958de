"""Settings: defaults < config file < TRADETUI_* environment < command-line flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradetui.config import ConfigError, load_settings


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
