"""Shared fixtures: engines on the embedded simulator, each in its own data dir."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tradetui.config import Settings, load_settings
from tradetui.core.engine import Engine
from tradetui.core.model import Mode
from tradetui.paths import DataPaths
from tradetui.runtime import build_engine


def _test_dir(variable: str, prefix: str) -> None:
    """Point ``variable`` at a temporary directory of this pytest process (subprocesses inherit
    it). An xdist worker gets its own even though it inherits the controller's: two workers'
    engines on one simulator key would otherwise share nonce files and push each other's
    nonces ahead in the middle of a test."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker or variable not in os.environ:
        os.environ[variable] = tempfile.mkdtemp(prefix=f"{prefix}{worker or 'main'}-")


# Nonce files are per user; keep the tests' out of the real home.
# Credential records (accounts.json, the encrypted file) likewise.
_test_dir("TRADETUI_NONCE_DIR", "tradetui-test-nonces-")
_test_dir("TRADETUI_CREDENTIALS_DIR", "tradetui-test-creds-")
# Headless engines under test serve /health and /metrics on a free port, never the default one.
os.environ.setdefault("TRADETUI_OPS__HTTP_PORT", "0")


async def wait_until(predicate: Callable[[], bool], within_s: float = 15.0, what: str = "") -> None:
    """Poll ``predicate`` until it holds; fail the test (never hang) after ``within_s`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not predicate():
        if loop.time() > deadline:
            pytest.fail(f"timed out after {within_s}s waiting for {what or predicate}")
        await asyncio.sleep(0.05)


async def go_live(engine: Engine) -> None:
    """Switch to live and resume: the first live trading on a data dir comes up PAUSED."""
    await engine.set_mode(Mode.LIVE)
    await engine.resume()


async def correlations_known(engine: Engine) -> None:
    """Wait until the engine knows how every pair of its symbols moves together, so buys beside a
    position pass the correlation gate (four samples; give the engine a short
    ``risk.correlation_sample_s``)."""
    symbols = engine.settings.symbols
    await wait_until(
        lambda: all(engine.risk.correlation_known(s, symbols) for s in symbols),
        within_s=20,
        what="correlations",
    )


def quiet_settings(**overrides: object) -> Settings:
    """Settings for tests: embedded simulator, no built-in strategy (tests submit intents)."""
    return load_settings(None, strategy={"enabled": False}, **overrides)


@pytest.fixture
def make_engine(tmp_path: Path) -> Callable[..., Engine]:
    """Build engines (not started) sharing one data dir."""

    def build(settings: Settings | None = None) -> Engine:
        return build_engine(settings or quiet_settings(), DataPaths(tmp_path / "data").ensure())

    return build


@pytest.fixture
async def engine(make_engine: Callable[..., Engine]) -> AsyncIterator[Engine]:
    """A started paper engine on the embedded simulator with quotes for every symbol."""
    started = make_engine()
    await started.start()
    await wait_until(
        lambda: len(started.snapshot().quotes) == len(started.settings.symbols), what="quotes"
    )
    yield started
    await started.stop()
