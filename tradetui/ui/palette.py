"""Provides Rich styles resolved from the theme's variables, for table cells CSS cannot reach."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from rich.console import JustifyMethod
from rich.style import Style
from rich.text import Text
from textual.color import Color, ColorParseError


class Cell(NamedTuple):
    """One table cell before rendering: its text and the theme variable that colours it."""

    text: str
    tone: str = ""
    """Theme variable name (``price-up``, ``stale``, ...) or empty for the default colour."""


class Palette:
    """Turns tone names into Rich styles using the current theme's variables."""

    def __init__(self, variables: Mapping[str, str]) -> None:
        self._variables = dict(variables)
        self._styles: dict[str, Style] = {}

    def style(self, tone: str) -> Style:
        """Return the style for a theme variable name (an empty style when unknown)."""
        if not tone:
            return Style.null()
        cached = self._styles.get(tone)
        if cached is None:
            cached = self._styles[tone] = self._resolve(tone)
        return cached

    def render(self, cell: Cell, justify: JustifyMethod = "left") -> Text:
        """Render a cell as Rich text."""
        return Text(cell.text, style=self.style(cell.tone), justify=justify, end="")

    def _resolve(self, tone: str) -> Style:
        value = self._variables.get(tone, "")
        try:
            color = Color.parse(value)
        except ColorParseError:
            return Style.null()
        return Style(color=color.rich_color, dim=tone == "stale")
