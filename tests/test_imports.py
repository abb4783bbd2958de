"""Tests that the engine and the simulator import without Textual or Rich (they must run headless)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

_PROBE = textwrap.dedent(
    """
    import importlib, json, pkgutil, sys

    def fail(name):
        raise SystemExit(f"cannot import {name}")

    imported = []
    for package_name in ("tradetui.core", "tradetui.sim"):
        package = importlib.import_module(package_name)
        imported.append(package_name)
        for info in pkgutil.walk_packages(package.__path__, package_name + ".", onerror=fail):
            if info.name.rpartition(".")[2] == "__main__":
                continue  # an entry point: importing it runs the program
            importlib.import_module(info.name)
            imported.append(info.name)
    forbidden = sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "rich"))
    print(json.dumps({"imported": imported, "forbidden": forbidden}))
    """
)


def test_core_and_sim_never_import_textual_or_rich() -> None:
    # A fresh interpreter: in the test process other tests may already have imported textual.
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert "tradetui.core.model" in report["imported"]
    assert "tradetui.core.venue.nonce" in report["imported"]
    assert report["forbidden"] == [], f"imported via tradetui.core/sim: {report['forbidden']}"


_FIRST_PAINT_PROBE = textwrap.dedent(
    """
    import json, sys
    import tradetui.cli.run, tradetui.config, tradetui.logs, tradetui.paths, tradetui.runtime
    import tradetui.ui.app, tradetui.ui.deferred_engine
    heavy = ("ccxt", "aiohttp", "tradetui.core.engine", "tradetui.ops.control")
    print(json.dumps(sorted(m for m in sys.modules if m.startswith(heavy))))
    """
)


def test_what_the_console_imports_before_its_first_paint_leaves_out_ccxt_and_the_engine() -> None:
    """The console paints first and imports the engine after (DeferredEngine): keep it that way."""
    result = subprocess.run(
        [sys.executable, "-c", _FIRST_PAINT_PROBE],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
