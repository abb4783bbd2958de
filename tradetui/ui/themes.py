"""Provides the theme loader: TOML files in ``themes/`` become Textual themes with app variables."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from textual.app import App
from textual.theme import Theme

DEFAULT_THEME = "tradetui-dark"
"""The theme used when the configured one does not exist."""

APP_VARIABLES = ("price-up", "price-down", "bid", "ask", "halted", "paper", "live", "stale")
"""Variables every tradetui theme defines; widget CSS references them as ``$name``."""

FALLBACK_SOURCES: Mapping[str, str] = {
    "price-up": "success",
    "price-down": "error",
    "bid": "success",
    "ask": "error",
    "halted": "error",
    "paper": "warning",
    "live": "error",
    "stale": "foreground-disabled",
}
"""Textual colour-system entries the app variables fall back to under a built-in theme."""

_THEME_FIELDS = frozenset(
    {
        "primary",
        "secondary",
        "warning",
        "error",
        "success",
        "accent",
        "foreground",
        "background",
        "surface",
        "panel",
        "boost",
        "dark",
        "luminosity_spread",
        "text_alpha",
    }
)


class ThemeError(Exception):
    """A theme file that cannot be used, with a one-line message naming the file."""


def theme_dirs() -> list[Path]:
    """Directories that may hold theme files: the source tree's, then the installed wheel's."""
    package = Path(__file__).resolve().parent.parent
    candidates = (package.parent / "themes", package / "_themes")
    return [directory for directory in candidates if directory.is_dir()]


def load_theme(path: Path) -> Theme:
    """Read one theme file; raises ThemeError when it is not a usable theme."""
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ThemeError(f"theme file {path} cannot be read: {exc}") from None
    name = data.pop("name", path.stem)
    variables = data.pop("variables", {})
    unknown = set(data) - _THEME_FIELDS
    if unknown:
        raise ThemeError(f"theme file {path} has unknown keys: {', '.join(sorted(unknown))}")
    if "primary" not in data:
        raise ThemeError(f"theme file {path} must set 'primary'")
    missing = [variable for variable in APP_VARIABLES if variable not in variables]
    if missing:
        raise ThemeError(f"theme file {path} lacks [variables] {', '.join(missing)}")
    return Theme(name=str(name), variables={str(k): str(v) for k, v in variables.items()}, **data)


def load_themes(directories: Iterable[Path] | None = None) -> dict[str, Theme]:
    """Load every ``*.toml`` theme in ``directories`` (default: theme_dirs()); first name wins."""
    themes: dict[str, Theme] = {}
    for directory in theme_dirs() if directories is None else directories:
        for path in sorted(directory.glob("*.toml")):
            theme = load_theme(path)
            themes.setdefault(theme.name, theme)
    return themes


def fallback_variables(colors: Mapping[str, str]) -> dict[str, str]:
    """App variables derived from a colour system, for themes that do not define them."""
    return {name: colors[source] for name, source in FALLBACK_SOURCES.items() if source in colors}


def install_themes(app: App[Any], wanted: str) -> str:
    """Register the shipped themes on ``app`` and select ``wanted``; returns a notice for the
    operator (empty when all went well)."""
    notice = ""
    try:
        themes = load_themes()
    except ThemeError as exc:
        themes, notice = {}, str(exc)
    for theme in themes.values():
        app.register_theme(theme)
    if wanted in app.available_themes:
        app.theme = wanted
    elif DEFAULT_THEME in app.available_themes:
        app.theme = DEFAULT_THEME
        notice = notice or f"theme {wanted!r} does not exist; using {DEFAULT_THEME}"
    return notice
