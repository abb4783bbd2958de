"""Provides the UI test fixtures: env hygiene, and SVG snapshots stored in the top-level snapshots/."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_textual_snapshot
from syrupy.location import PyTestLocation
from textual.widgets import Input

SNAPSHOT_DIR = Path(__file__).resolve().parents[2] / "snapshots"
"""Where the product keeps its SVG snapshots (instead of tests/**/__snapshots__)."""


class TopLevelSVGExtension(pytest_textual_snapshot.SVGImageExtension):
    """Stores snapshots as ``snapshots/<test module>/<test name>.svg``."""

    @classmethod
    def dirname(cls, *, test_location: PyTestLocation) -> str:
        return str(SNAPSHOT_DIR / test_location.basename)


# snap_compare looks the extension class up in the plugin module each time it is called.
pytest_textual_snapshot.SVGImageExtension = TopLevelSVGExtension  # type: ignore[misc]


@pytest.fixture(autouse=True)
def _ui_hygiene(monkeypatch: pytest.MonkeyPatch) -> None:
    """No blinking cursors and no colour or theme settings leaking in from the environment."""
    for variable in ("NO_COLOR", "TEXTUAL_THEME", "TEXTUAL_ANIMATIONS", "TRADETUI_UI__THEME"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(Input, "cursor_blink", False)
