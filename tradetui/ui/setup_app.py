"""Provides SetupApp: `tradetui setup` on screen (the SetupScreen form), and how it ends."""

from __future__ import annotations

import sys

from rich.segment import Segments
from rich.traceback import Traceback
from textual.app import App
from textual.screen import Screen

from tradetui.ui.screens.setup import SetupScreen
from tradetui.ui.screens.setup_support import PROG, SetupOptions, StorageCheck
from tradetui.ui.themes import DEFAULT_THEME, ThemeError, fallback_variables, load_themes


class SetupApp(App[None]):
    """`tradetui setup` on screen; exits 0 after a save, 2 after a rejection, 130 otherwise."""

    TITLE = PROG

    def __init__(
        self,
        options: SetupOptions,
        storage: StorageCheck | None = None,
        theme: str = DEFAULT_THEME,
    ) -> None:
        super().__init__()
        self.setup_screen = SetupScreen(options, storage)
        """The one screen; ``storage`` skips the probe (tests, snapshots)."""
        try:
            themes = load_themes()
        except ThemeError:
            themes = {}  # Textual's own default theme still works
        for loaded in themes.values():
            self.register_theme(loaded)
        if theme in self.available_themes:
            self.theme = theme

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return fallback_variables(self.current_theme.to_color_system().generate())

    def get_default_screen(self) -> Screen[None]:
        return self.setup_screen

    async def action_quit(self) -> None:
        screen = self.setup_screen
        self.exit(return_code=0 if screen.stored else 2 if screen.outcome else 130)

    def _fatal_error(self) -> None:
        # Textual's default traceback shows local variables, and a frame here may hold a secret.
        self.bell()
        traceback = Traceback(show_locals=False, width=None)
        self._exit_renderables.append(
            Segments(self.console.render(traceback, self.console.options))
        )
        self._close_messages_no_wait()


def run_setup_app(options: SetupOptions) -> int:
    """Run the setup screen, then leave its outcome on the terminal; returns the exit code."""
    app = SetupApp(options)
    app.run()
    screen = app.setup_screen
    if screen.stored:
        print("\n".join(screen.outcome))
    elif app.return_code == 2 and screen.outcome:
        print(f"{PROG}: {screen.outcome[0]}", file=sys.stderr)
    elif app.return_code == 130:
        print(f"{PROG}: cancelled, nothing stored", file=sys.stderr)
    return app.return_code if app.return_code is not None else 1
