"""Two engines on one data dir: the second start is refused while the first keeps trading."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from decimal import Decimal

import pytest

from tests.conftest import wait_until
from tradetui.core.api import EngineError
from tradetui.core.engine import Engine
from tradetui.core.model import OrderIntent, Side


async def test_a_second_engine_on_the_data_dir_is_refused_until_the_first_stops(
    engine: Engine, make_engine: Callable[..., Engine]
) -> None:
    second = make_engine()
    with pytest.raises(EngineError) as refused:
        await second.start()
    assert str(refused.value) == (
        f"data dir {engine.paths.root} is in use by another tradetui engine "
        f"(pid {os.getpid()}); stop it or use --data-dir"
    )
    await second.stop()  # what the UI and --no-ui do after a failed start

    # The refused start and its stop() touched neither the first engine nor its lock.
    assert engine.snapshot().connected
    decision = await engine.submit(
        OrderIntent("ETH/USD", Side.BUY, Decimal("0.01"), confidence=0.9)
    )
    assert decision.approved
    await wait_until(lambda: "ETH/USD" in engine.snapshot().positions, what="paper fill")

    await engine.stop()
    third = make_engine()
    await third.start()
    try:
        assert third.snapshot().connected
        assert third.snapshot().positions["ETH/USD"].amount == Decimal("0.01")
    finally:
        await third.stop()


async def test_headless_tradetui_on_a_data_dir_in_use_says_which_pid_and_exits_2(
    engine: Engine,
) -> None:
    refused = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "tradetui", "--no-ui", "--run-for", "30"),
        *("--data-dir", str(engine.paths.root)),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(refused.communicate(), 60)
    assert refused.returncode == 2
    assert err.decode().splitlines() == [
        f"tradetui: data dir {engine.paths.root} is in use by another tradetui engine "
        f"(pid {os.getpid()}); stop it or use --data-dir"
    ]
    assert engine.snapshot().connected
