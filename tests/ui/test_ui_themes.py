"""Tests of the shipped themes and of the rule that widget CSS uses theme variables only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.ui.frozen_engine import FrozenEngine
from tradetui.config import Settings, UiSettings
from tradetui.ui import app as app_module
from tradetui.ui.app import TradeTuiApp
from tradetui.ui.screens.confirm import ConfirmScreen
from tradetui.ui.themes import APP_VARIABLES, ThemeError, load_theme, load_themes, theme_dirs
from tradetui.ui.widgets.header import StatusHeader
from tradetui.ui.widgets.logs import LogsPane
from tradetui.ui.widgets.table_pane import TablePane

REPO_THEMES = Path(__file__).resolve().parents[2] / "themes"
COLOUR_LITERAL = re.compile(
    r"#[0-9a-fA-F]{3,8}\b|\b(?:rgb|rgba|hsl|hsla)\(|:\s*(?:red|green|blue|white|black|yellow)\b"
)


def test_shipped_themes_define_every_app_variable() -> None:
    themes = load_themes([REPO_THEMES])
    assert "tradetui-dark" in themes
    for theme in themes.values():
        assert set(APP_VARIABLES) <= set(theme.variables), theme.name


def test_theme_dirs_finds_the_repo_themes() -> None:
    assert REPO_THEMES in theme_dirs()


def test_a_theme_missing_variables_is_rejected_with_its_path(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('name = "broken"\nprimary = "#123456"\n[variables]\nbid = "#00ff00"\n')
    with pytest.raises(ThemeError, match="broken.toml lacks"):
        load_theme(broken)


@pytest.mark.parametrize(
    "widget", [TablePane, LogsPane, StatusHeader, ConfirmScreen], ids=lambda w: w.__name__
)
def test_widget_css_has_no_colour_literals(widget: type) -> None:
    assert not COLOUR_LITERAL.search(widget.DEFAULT_CSS)


def test_app_stylesheet_has_no_colour_literals() -> None:
    tcss = Path(app_module.__file__).with_name("app.tcss").read_text(encoding="utf-8")
    assert not COLOUR_LITERAL.search(tcss)


async def test_configured_theme_is_selected() -> None:
    settings = Settings(ui=UiSettings(theme="tradetui-light"))
    app = TradeTuiApp(FrozenEngine(), settings)
    async with app.run_test(size=(120, 40)):
        assert app.theme == "tradetui-light"
        assert app.theme_variables["halted"] == load_themes()["tradetui-light"].variables["halted"]


async def test_unknown_theme_falls_back_to_default_with_a_notice() -> None:
    app = TradeTuiApp(FrozenEngine(), Settings(ui=UiSettings(theme="no-such-theme")))
    async with app.run_test(size=(120, 40)):
        assert app.theme == "tradetui-dark"
        assert any("no-such-theme" in str(n.message) for n in app._notifications)


async def test_builtin_textual_theme_gets_fallback_app_variables() -> None:
    """Guards CSS parsing under Textual's own themes, which lack $price-up and friends."""
    app = TradeTuiApp(FrozenEngine(), Settings(ui=UiSettings(theme="nord")))
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.theme == "nord"
        assert set(APP_VARIABLES) <= set(app.theme_variables)
        app.theme = "tradetui-dark"
        await pilot.pause()
        assert app.theme_variables["stale"] == load_themes()["tradetui-dark"].variables["stale"]
