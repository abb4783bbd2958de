"""Provides the control socket's wire format: where the socket is, its framing, and the exact
JSON form of engine snapshots and log lines.

The socket is ``<data-dir>/control.sock``. Each request and each response is one line of JSON. A
request is ``{"id": ANY, "cmd": NAME, ...arguments}``; its response is ``{"id": <the same>,
"ok": true, "result": ...}`` or ``{"id": ..., "ok": false, "error": "one line"}``.

Snapshots: Decimals travel as strings (no binary rounding), enums by value, tuples as lists, and
every nested dataclass as an object keyed by field name. Decoding follows the dataclasses' type
hints, so ``decode_snapshot(encode_snapshot(s)) == s`` and the types come back as they were.
"""

from __future__ import annotations

import dataclasses
import json
import os
import types
import typing
from decimal import Decimal, InvalidOperation
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from tradetui.core.model import EngineSnapshot
from tradetui.logs import LogLine

T = TypeVar("T")

SOCKET_NAME = "control.sock"
MAX_SOCKET_PATH_BYTES = 107
"""sun_path holds 108 bytes on Linux, the last one a NUL."""


class WireError(ValueError):
    """A document does not have the shape of the type it should decode to (one line)."""


class ControlError(Exception):
    """The control socket failed or refused a request; the message is one line for the operator."""


class ControlRefused(ControlError):
    """The engine refused the command by an operator rule (``"refused": true`` on the wire)."""


class NoEngineError(ControlError):
    """Nothing listens on the data dir's control socket."""


def socket_path(data_dir: Path) -> Path:
    """Where the engine on ``data_dir`` listens."""
    return data_dir / SOCKET_NAME


def check_socket_path(path: Path) -> None:
    """Raise ControlError when ``path`` is too long for a Unix socket."""
    if len(os.fsencode(path)) > MAX_SOCKET_PATH_BYTES:
        raise ControlError(
            f"control socket path {path} is longer than {MAX_SOCKET_PATH_BYTES} bytes; "
            "use a shorter --data-dir"
        )


def one_line(text: object) -> str:
    """``text`` with its whitespace runs (newlines included) collapsed to single spaces."""
    return " ".join(str(text).split())


def to_doc(value: Any) -> Any:
    """Return ``value`` as JSON-ready data: dataclasses as dicts, Decimal as str, enums by value."""
    # Enum first: StrEnum members are also str, and must travel by value.
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_doc(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [to_doc(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_doc(item) for key, item in value.items()}
    raise TypeError(f"cannot put {type(value).__name__} on the wire")


def from_doc(kind: type[T], doc: Any) -> T:
    """Rebuild a value of type ``kind`` from :func:`to_doc` output; raises WireError if it differs."""
    result: T = _decode(kind, doc, kind.__name__)
    return result


def encode_snapshot(snapshot: EngineSnapshot) -> str:
    """One line of JSON for ``snapshot``."""
    return json.dumps(to_doc(snapshot), separators=(",", ":"))


def decode_snapshot(text: str | bytes) -> EngineSnapshot:
    """The snapshot :func:`encode_snapshot` wrote."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise WireError(f"snapshot is not valid JSON: {exc}") from None
    return from_doc(EngineSnapshot, doc)


def encode_log_line(line: LogLine) -> str:
    """One line of JSON for a log line."""
    return json.dumps(to_doc(line), separators=(",", ":"))


def decode_log_line(text: str | bytes) -> LogLine:
    """The log line :func:`encode_log_line` wrote."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise WireError(f"log line is not valid JSON: {exc}") from None
    return from_doc(LogLine, doc)


@cache
def field_types(kind: type) -> tuple[tuple[str, Any, bool], ...]:
    """(name, resolved type, required) for each init field of dataclass ``kind``."""
    hints = typing.get_type_hints(kind)
    return tuple(
        (
            f.name,
            hints[f.name],
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
        )
        for f in dataclasses.fields(kind)
        if f.init
    )


def _decode(kind: Any, doc: Any, where: str) -> Any:
    origin = typing.get_origin(kind)
    if origin is types.UnionType or origin is typing.Union:
        options = typing.get_args(kind)
        if doc is None and type(None) in options:
            return None
        (option,) = (o for o in options if o is not type(None))  # only `X | None` is used
        return _decode(option, doc, where)
    if origin is tuple:
        items = _expect(doc, list, where)
        args = typing.get_args(kind)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], item, f"{where}[{i}]") for i, item in enumerate(items))
        if len(args) != len(items):
            raise WireError(f"{where}: expected {len(args)} items, got {len(items)}")
        return tuple(
            _decode(a, item, f"{where}[{i}]")
            for i, (a, item) in enumerate(zip(args, items, strict=True))
        )
    if origin is dict:
        key_type, value_type = typing.get_args(kind)
        mapping = _expect(doc, dict, where)
        return {
            _decode(key_type, key, where): _decode(value_type, value, f"{where}[{key!r}]")
            for key, value in mapping.items()
        }
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return _decode_dataclass(kind, doc, where)
    if isinstance(kind, type) and issubclass(kind, Enum):
        try:
            return kind(doc)
        except ValueError:
            raise WireError(f"{where}: {doc!r} is not a {kind.__name__}") from None
    if kind is Decimal:
        try:
            return Decimal(_expect(doc, str, where))
        except InvalidOperation:
            raise WireError(f"{where}: {doc!r} is not a decimal") from None
    if kind is float:
        # JSON writes 1.0 as 1.0, but a float field that held an int comes back as an int.
        if isinstance(doc, bool) or not isinstance(doc, int | float):
            raise WireError(f"{where}: expected a number, got {type(doc).__name__}")
        return float(doc)
    if kind is int:
        if isinstance(doc, bool) or not isinstance(doc, int):
            raise WireError(f"{where}: expected an integer, got {type(doc).__name__}")
        return doc
    if kind in (str, bool):
        return _expect(doc, kind, where)
    raise TypeError(f"{where}: no wire form for {kind!r}")


def _decode_dataclass(kind: type, doc: Any, where: str) -> Any:
    fields = _expect(doc, dict, where)
    values: dict[str, Any] = {}
    for name, field_type, required in field_types(kind):
        if name in fields:
            values[name] = _decode(field_type, fields[name], f"{where}.{name}")
        elif required:
            raise WireError(f"{where}: missing field {name!r}")
    return kind(**values)


def _expect(doc: Any, kind: type[T], where: str) -> T:
    if not isinstance(doc, kind):
        raise WireError(f"{where}: expected {kind.__name__}, got {type(doc).__name__}")
    return doc
