"""The control socket's wire: exact snapshot round trips, and a server that survives bad requests."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import math
import os
import stat
import types
import typing
from collections.abc import AsyncIterator
from decimal import Decimal
from enum import Enum
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import wait_until
from tradetui.core.engine import Engine
from tradetui.core.model import (
    EngineSnapshot,
    Mode,
    OrderIntent,
    OrderType,
    Position,
    Side,
    TradingState,
)
from tradetui.logs import LogLine, LogSink
from tradetui.ops.control import MAX_REQUEST_BYTES, ControlServer
from tradetui.ops.remote import ControlClient
from tradetui.ops.wire import (
    ControlError,
    NoEngineError,
    WireError,
    decode_log_line,
    decode_snapshot,
    encode_log_line,
    encode_snapshot,
    field_types,
    from_doc,
    socket_path,
    to_doc,
)


def strategy_for(kind: Any) -> st.SearchStrategy[Any]:
    """Values of any type the snapshot declares, built from its type hints (no NaN: NaN != NaN)."""
    origin = typing.get_origin(kind)
    if origin is types.UnionType or origin is typing.Union:
        return st.one_of(*(strategy_for(option) for option in typing.get_args(kind)))
    if origin is tuple:
        args = typing.get_args(kind)
        if len(args) == 2 and args[1] is Ellipsis:
            return st.lists(strategy_for(args[0]), max_size=3).map(tuple)
        return st.tuples(*(strategy_for(a) for a in args))
    if origin is dict:
        key, value = typing.get_args(kind)
        return st.dictionaries(strategy_for(key), strategy_for(value), max_size=2)
    if dataclasses.is_dataclass(kind):
        fields = {name: strategy_for(hint) for name, hint, _ in field_types(kind)}
        return st.builds(kind, **fields)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return st.sampled_from(list(kind))
    simple: dict[Any, st.SearchStrategy[Any]] = {
        type(None): st.none(),
        str: st.text(max_size=8),
        bool: st.booleans(),
        int: st.integers(),
        float: st.floats(allow_nan=False),
        Decimal: st.decimals(allow_nan=False, allow_infinity=False),
    }
    return simple[kind]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strategy_for(EngineSnapshot))
def test_any_snapshot_survives_the_wire_exactly(snapshot: EngineSnapshot) -> None:
    decoded = decode_snapshot(encode_snapshot(snapshot))
    assert decoded == snapshot
    assert to_doc(decoded) == to_doc(snapshot)  # same types too: Decimal stays Decimal, tuple tuple


@given(strategy_for(LogLine))
def test_any_log_line_survives_the_wire_exactly(line: LogLine) -> None:
    assert decode_log_line(encode_log_line(line)) == line


def test_decimals_keep_their_digits_and_enums_and_tuples_their_types() -> None:
    doc = json.loads(
        json.dumps(
            {
                "symbol": "BTC/USD",
                "amount": "0.10000000",
                "average_entry": "64000.1",
                "realized_pnl": "-1E-8",
                "mark": None,
                "unrealized_pnl": 0,
            }
        )
    )
    position = from_doc(Position, doc)
    assert str(position.amount) == "0.10000000"
    assert position.realized_pnl == Decimal("-0.00000001")
    assert isinstance(position.unrealized_pnl, float)  # an int on the wire is still a float field
    assert to_doc(Mode.LIVE) == "LIVE"


def test_a_document_of_the_wrong_shape_is_one_line_wire_error() -> None:
    with pytest.raises(WireError, match=r"Position.amount: expected str, got float"):
        from_doc(Position, {"symbol": "X", "amount": 1.5, "average_entry": "1"})
    with pytest.raises(WireError, match="not valid JSON"):
        decode_snapshot("{")


def test_infinite_floats_cross_as_json_extensions_and_come_back() -> None:
    line = LogLine(1, math.inf, "INFO", "x", "y")
    assert decode_log_line(encode_log_line(line)).ts == math.inf


async def traded_engine(engine: Engine) -> Engine:
    """The fixture's engine with a fill, a position and a resting order, so every part is set
    (all in ETH: a buy beside a position in another symbol waits for their correlation)."""
    assert (
        await engine.submit(OrderIntent("ETH/USD", Side.BUY, Decimal("0.05"), confidence=0.9))
    ).approved
    quote = engine.snapshot().quotes["ETH/USD"]
    price = Decimal(str(round(quote.bid * 0.99, 1)))
    resting = OrderIntent(
        "ETH/USD", Side.BUY, Decimal(100) / price, OrderType.LIMIT, price, confidence=0.9
    )
    assert (await engine.submit(resting)).approved
    await wait_until(lambda: bool(engine.snapshot().positions), what="a position")
    return engine


async def test_a_real_engine_snapshot_survives_the_wire_exactly(engine: Engine) -> None:
    snapshot = (await traded_engine(engine)).snapshot()
    assert snapshot.open_orders and snapshot.positions and snapshot.quotes and snapshot.balances
    assert decode_snapshot(encode_snapshot(snapshot)) == snapshot


# ----------------------------------------------------------------- the server on bad input


@pytest.fixture
async def served(engine: Engine) -> AsyncIterator[ControlServer]:
    """The fixture's engine behind a control server, with a stale socket file to replace first."""
    path = socket_path(engine.paths.root)
    path.write_text("left behind by a crash")
    sink = LogSink()
    sink.emit(logging.makeLogRecord({"msg": "hello", "levelname": "INFO"}))
    server = ControlServer(engine, engine.paths.root, sink)
    await server.start()
    yield server
    await server.close()


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes
) -> dict[str, Any]:
    writer.write(raw)
    await writer.drain()
    line = await asyncio.wait_for(reader.readline(), 30)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    response: dict[str, Any] = json.loads(line)
    return response


async def test_bad_requests_get_one_line_errors_and_the_connection_stays_usable(
    served: ControlServer,
) -> None:
    reader, writer = await asyncio.open_unix_connection(str(served.path))
    bad = {
        b"not json\n": "request is not valid JSON",
        b"\xff\xfe\xfa\n": "request is not",
        b"[1, 2]\n": "request must be a JSON object, not list",
        b'{"cmd": 5}\n': 'request needs "cmd", a string',
        b'{"id": 7, "cmd": "explode"}\n': "unknown command 'explode'; known: status, pause",
        b'{"cmd": "cancel-order"}\n': "cancel-order needs 'client_id', a str",
        b'{"cmd": "set-mode", "mode": "moon"}\n': "mode must be one of PAPER, LIVE",
        b'{"cmd": "logs", "after_seq": -1}\n': "after_seq must be a whole number >= 0",
        b'{"cmd": "release"}\n': "the kill switch is not engaged (trading is ACTIVE)",
    }
    for raw, error in bad.items():
        response = await exchange(reader, writer, raw)
        assert response["ok"] is False
        assert response["error"].startswith(error), response
        assert "\n" not in response["error"]
    assert (await exchange(reader, writer, b'{"id": 7, "cmd": "explode"}\n'))["id"] == 7
    status = await exchange(reader, writer, b'{"id": "s", "cmd": "status"}\n')
    assert status["ok"] and status["id"] == "s"
    assert from_doc(EngineSnapshot, status["result"]).state is TradingState.ACTIVE
    logs = await exchange(reader, writer, b'{"cmd": "logs"}\n')
    assert [line["message"] for line in logs["result"]["lines"]] == ["hello"]
    writer.close()
    await writer.wait_closed()


async def test_an_oversized_request_closes_only_its_connection(served: ControlServer) -> None:
    reader, writer = await asyncio.open_unix_connection(str(served.path))
    response = await exchange(reader, writer, b"x" * (MAX_REQUEST_BYTES + 10) + b"\n")
    assert response["ok"] is False and "longer than" in response["error"]
    assert await asyncio.wait_for(reader.read(), 30) == b""  # closed by the server
    writer.close()
    client = ControlClient(served.path.parent)
    await client.connect()
    assert (await client.request("status"))["state"] == "ACTIVE"
    await client.close()


async def test_the_socket_is_owner_only_replaces_a_stale_file_and_goes_away(
    served: ControlServer,
) -> None:
    mode = os.stat(served.path).st_mode
    assert stat.S_ISSOCK(mode)
    assert stat.S_IMODE(mode) == 0o600
    assert stat.S_IMODE(os.stat(served.path.parent).st_mode) == 0o700
    await served.close()
    assert not served.path.exists()
    with pytest.raises(
        NoEngineError, match="no engine is running on data dir .* \\(no control socket\\)"
    ):
        await ControlClient(served.path.parent).connect()


async def test_commands_over_the_client_change_the_engine(
    served: ControlServer, engine: Engine
) -> None:
    await traded_engine(engine)
    client = ControlClient(served.path.parent)
    await client.connect()
    try:
        assert await client.request("pause") == {"state": "PAUSED"}
        assert engine.snapshot().state is TradingState.PAUSED
        canceled = await client.request("cancel-all")
        assert canceled["canceled"] and engine.snapshot().open_orders == ()
        with pytest.raises(ControlError, match="confirm it first"):  # the engine's rule
            await client.request("flatten")
        flat = await client.request("flatten", confirmed=True)
        assert flat == {"flat": True, "state": "HALTED"}
        assert all(p.amount == 0 for p in engine.snapshot().positions.values())
        assert await client.request("release", confirmed=True) == {"state": "PAUSED"}
        target = await client.request("live-target")
        assert target["target"] == engine.live_target()
    finally:
        await client.close()
