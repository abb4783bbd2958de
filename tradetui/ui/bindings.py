"""Provides the console's key bindings (each with an id, remappable through ``[ui.keys]``), the
keymap built from the config, and the key list the help screen shows."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

from textual.binding import Binding, BindingType

from tradetui.ui.screens.help import KeyHelp

CONSOLE_BINDINGS: list[BindingType] = [
    Binding("p", "pause", "Pause", id="pause", tooltip="ACTIVE <-> PAUSED"),
    Binding(
        "t",
        "toggle_mode",
        "Paper/live",
        id="mode",
        tooltip="Live names the account, asks first",
    ),
    # priority: the kill switch must work even while a modal screen has the keyboard.
    # ctrl+k also works while the log search field has the keyboard (it takes printable keys).
    Binding(
        "k,ctrl+k",
        "kill",
        "KILL",
        id="kill",
        tooltip="Halt now, cancel all open orders",
        priority=True,
    ),
    Binding(
        "K",
        "flatten",
        "Flatten",
        id="flatten",
        tooltip="Kill switch + sell all (asks first)",
    ),
    Binding("r", "release", "Release", id="release", tooltip="HALTED -> PAUSED (asks first)"),
    Binding(
        "c",
        "cancel_order",
        "Cancel",
        id="cancel",
        tooltip="Cancel the selected order",
    ),
    Binding("question_mark", "help", "Help", id="help", tooltip="This list of keys"),
    Binding(
        "z",
        "zoom",
        "Zoom",
        id="zoom",
        tooltip="Focused pane full screen (tab: next)",
    ),
    Binding(
        "slash",
        "search_logs",
        "Search",
        id="search",
        tooltip="Filter the Logs pane (esc clears)",
    ),
    Binding(
        "l",
        "log_level",
        "Log level",
        id="log_level",
        tooltip="Cycle the Logs pane's minimum level",
        show=False,
    ),
    Binding(
        "q",
        "quit",
        "Quit",
        id="quit",
        tooltip="Stop and exit (attached: detach)",
    ),
]
"""The console's bindings; their ids are the names ``[ui.keys]`` remaps."""


def console_keymap(remaps: Mapping[str, str]) -> tuple[dict[str, str], str]:
    """The keymap for Textual's ``App.set_keymap`` from the config's remaps (binding id -> keys),
    and a notice naming ids that no binding has (empty when there are none)."""
    known = {binding.id for binding in CONSOLE_BINDINGS if isinstance(binding, Binding)}
    unknown = sorted(set(remaps) - known)
    keymap = {name: keys for name, keys in remaps.items() if name in known}
    if not unknown:
        return keymap, ""
    return keymap, (
        f"ui.keys: unknown binding id(s) {', '.join(unknown)}; "
        f"known ids: {', '.join(sorted(str(name) for name in known))}"
    )


def key_help(keymap: Mapping[str, str], display: Callable[[Binding], str]) -> list[KeyHelp]:
    """Every console key as ``keymap`` binds it, shown with ``display`` (the app's key names)."""
    rows = []
    for binding in CONSOLE_BINDINGS:
        if not isinstance(binding, Binding) or binding.id is None:
            continue
        keys = keymap.get(binding.id, binding.key)
        shown = ", ".join(
            display(dataclasses.replace(binding, key=key.strip())) for key in keys.split(",")
        )
        rows.append(KeyHelp(shown, binding.id, binding.description, binding.tooltip))
    rows.append(KeyHelp("ctrl+p", "-", "Commands", "Every action by name, and themes"))
    return rows
