"""Provides the log line formats: JSON lines for the file, readable or JSON lines for stdout."""

from __future__ import annotations

import json
import json.encoder
import logging
import re
import time
from typing import Any, Literal

from tradetui.logs.redaction import Redacted, redacted

_SHAPES_KEPT = 1024
"""Entries a formatter keeps per cache (quoted logger names and field names)."""

_JSON = json.JSONEncoder(ensure_ascii=False, default=str)
_json_string = json.encoder.encode_basestring  # the C encoder's quoting, as ensure_ascii=False does
_LINE_KEYS = frozenset({"ts", "level", "logger", "msg", "exc"})
_BARE_VALUE = re.compile(r'[^\s"=]+')


_MILLIS_SUFFIXES = {float(ms): f".{ms:03d}Z" for ms in range(1000)}
"""By ``LogRecord.msecs``, the milliseconds as a whole float."""


def _millis_suffix(record: logging.LogRecord) -> str:
    """The ".mmmZ" end of a timestamp whose ``msecs`` is not a whole number (a record made by hand)."""
    return f".{min(999, max(0, int(record.msecs))):03d}Z"


class _UtcTimestamps:
    """ISO 8601 UTC times to the millisecond; the date and time of day are formatted once a second."""

    def __init__(self, before: str = "") -> None:
        self._before = before
        self.second = -1
        self.prefix = before
        """``before``, then the date and time of day of ``second``."""

    def roll(self, created: float) -> None:
        self.second = int(created)
        self.prefix = self._before + time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(self.second))

    def iso(self, record: logging.LogRecord) -> str:
        if int(record.created) != self.second:
            self.roll(record.created)
        return self.prefix + (_MILLIS_SUFFIXES.get(record.msecs) or _millis_suffix(record))


class JsonLineFormatter(logging.Formatter):
    """Formats a record as one JSON object: ts (ISO 8601 UTC), level, logger, msg, exc, extras."""

    def __init__(self) -> None:
        super().__init__()
        self._timestamps = _UtcTimestamps(before='{"ts":"')
        self._heads: dict[tuple[str, str], str] = {}
        self._field_names: dict[str, str] = {}

    def format(self, record: logging.LogRecord) -> str:
        return self.format_rendered(record, redacted(record))

    def format_rendered(self, record: logging.LogRecord, content: Redacted) -> str:
        # Built by hand around the C string encoder, with the quoted level, logger and field
        # names kept, and the timestamp inlined: several times faster than json.dumps of a dict,
        # and the writer thread runs it for every record.
        message, exc, extra = content
        timestamps = self._timestamps
        if int(record.created) != timestamps.second:
            timestamps.roll(record.created)
        line = (
            f"{timestamps.prefix}{_MILLIS_SUFFIXES.get(record.msecs) or _millis_suffix(record)}"
            f"{self._heads.get((record.levelname, record.name)) or self._head(record)}"
            f"{_json_string(message)}"
        )
        if exc:
            line += f',"exc":{_json_string(exc)}'
        if not extra:
            return line + "}"
        parts = [line]
        field_names = self._field_names
        for name, value in extra.items():
            parts.append(field_names.get(name) or self._field_name(name))
            # Most extras are short strings: quoting them directly skips building an encoder.
            parts.append(_json_string(value) if type(value) is str else _JSON.encode(value))
        parts.append("}")
        return "".join(parts)

    def _head(self, record: logging.LogRecord) -> str:
        """'","level":..,"logger":..,"msg":' for the record's level and logger, kept."""
        if len(self._heads) >= _SHAPES_KEPT:
            self._heads.clear()
        head = (
            f'","level":{_json_string(record.levelname)},"logger":{_json_string(record.name)}'
            ',"msg":'
        )
        self._heads[(record.levelname, record.name)] = head
        return head

    def _field_name(self, name: str) -> str:
        """',"name":' for an extra field, renamed "name_" if it would clash with a line key."""
        if len(self._field_names) >= _SHAPES_KEPT:
            self._field_names.clear()
        quoted = self._field_names[name] = (
            f",{_json_string(name if name not in _LINE_KEYS else f'{name}_')}:"
        )
        return quoted


class HumanLineFormatter(logging.Formatter):
    """Formats a record as one readable line: time, level, logger, message, then key=value extras."""

    def __init__(self) -> None:
        super().__init__()
        self._timestamps = _UtcTimestamps()

    def format(self, record: logging.LogRecord) -> str:
        return self.format_rendered(record, redacted(record))

    def format_rendered(self, record: logging.LogRecord, content: Redacted) -> str:
        message, exc, extra = content
        line = f"{self._timestamps.iso(record)} {record.levelname:<7} {record.name}: {message}"
        if extra:
            line += "  " + " ".join(f"{k}={_human_value(v)}" for k, v in extra.items())
        if exc:
            line += "\n" + exc.rstrip("\n")
        return line


def _human_value(value: Any) -> str:
    if isinstance(value, str):
        return value if _BARE_VALUE.fullmatch(value) else _json_string(value)
    return _JSON.encode(value)


LogFormat = Literal["human", "json"]
FORMATTERS: dict[str, type[JsonLineFormatter | HumanLineFormatter]] = {
    "human": HumanLineFormatter,
    "json": JsonLineFormatter,
}
"""The formats standard output can use; the log file is always JSON lines."""
