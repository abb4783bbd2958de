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
from tradetui.ui.screens.help import HelpScreen
from tradetui.ui.screens.setup import SetupScreen
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
    "widget",
    [TablePane, LogsPane, StatusHeader, ConfirmScreen, HelpScreen, SetupScreen],
    ids=lambda w: w.__name__,
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


def _linear(channel: int) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    value = hex_colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two sRGB colours."""

    def luminance(colour: str) -> float:
        r, g, b = (_linear(c) for c in _rgb(colour))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


# Viénot, Brettel & Mollon (1999) dichromacy simulation, applied to linear RGB.
DICHROMACY = {
    "protanopia": ((0.11238, 0.88762, 0.0), (0.11238, 0.88762, 0.0), (0.00401, -0.00401, 1.0)),
    "deuteranopia": ((0.29275, 0.70725, 0.0), (0.29275, 0.70725, 0.0), (-0.02234, 0.02234, 1.0)),
}


def seen_with(kind: str, colour: str) -> tuple[float, ...]:
    linear = [_linear(c) for c in _rgb(colour)]
    return tuple(sum(m * c for m, c in zip(row, linear, strict=True)) for row in DICHROMACY[kind])


def test_contrast_theme_meets_wcag_aa_against_its_background() -> None:
    theme = load_themes([REPO_THEMES])["tradetui-contrast"]
    assert theme.background is not None
    for name in ("price-up", "price-down", "bid", "ask", "halted", "paper", "live", "stale"):
        assert contrast_ratio(theme.variables[name], theme.background) >= 4.5, name
    assert theme.foreground is not None
    assert contrast_ratio(theme.foreground, theme.background) >= 7.0


def dichromat_distance(kind: str, first: str, second: str) -> float:
    """How far apart two colours stay for a dichromat (linear RGB, 0 = identical, ~1.7 = max)."""
    a, b = seen_with(kind, first), seen_with(kind, second)
    return float(sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) ** 0.5)


@pytest.mark.parametrize("kind", sorted(DICHROMACY))
@pytest.mark.parametrize(("up", "down"), [("price-up", "price-down"), ("bid", "ask")])
def test_contrast_theme_keeps_up_and_down_apart_for_colour_blind_eyes(
    kind: str, up: str, down: str
) -> None:
    contrast = load_themes([REPO_THEMES])["tradetui-contrast"].variables
    assert dichromat_distance(kind, contrast[up], contrast[down]) > 0.5


def test_the_default_themes_red_green_pair_is_what_the_contrast_theme_fixes() -> None:
    """Guards the check above: it does tell the default green/red pair apart from a safe one."""
    default = load_themes([REPO_THEMES])["tradetui-dark"].variables
    assert dichromat_distance("deuteranopia", default["price-up"], default["price-down"]) < 0.2
