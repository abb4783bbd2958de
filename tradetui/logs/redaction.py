"""Provides secret redaction and each log record's redacted content, computed once per record."""

from __future__ import annotations

import logging
import re
import sys
import threading
from typing import Any
from urllib.parse import quote

MASK = "***"
MIN_SECRET_LENGTH = 6
"""Shorter strings are not registered: masking "abc" everywhere would shred ordinary text."""

# A run of 32+ base64 characters that mixes letters and digits looks like a key, secret, token or
# signature. '-' and '_' are left out so UUID-style client order ids stay readable in the logs.
_KEY_SHAPED = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{32,}={0,2}")
_HAS_DIGIT = re.compile(r"\d")
_HAS_LETTER = re.compile(r"[A-Za-z]")
_URL_END = re.compile(r"[\s'\"<>]")
# name=value / "name": "value" / Name: value pairs whose value is a credential (headers, query strings,
# JSON bodies, reprs of ccxt config dicts).
_SECRET_FIELD = re.compile(
    r"(?i)(\b(?:api[-_]?key|api[-_]?sign|apikey|secret|signature|passphrase|password|token"
    r"|authorization)\b[\"']?\s*[:=]\s*[\"']?)([^\s\"'&,;}\]]+)"
)

_secrets_lock = threading.Lock()
_secrets: frozenset[str] = frozenset()
_secrets_pattern: re.Pattern[str] | None = None

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
_REDACTED_ATTR = "_tradetui_redacted"


def register_secret(secret: str) -> None:
    """Mask ``secret`` (and its URL-encoded form) as "***" in everything logged from now on."""
    global _secrets, _secrets_pattern
    if len(secret) < MIN_SECRET_LENGTH:
        return
    with _secrets_lock:
        updated = _secrets | {secret, quote(secret, safe="")}
        if updated == _secrets:
            return
        # Longest first, so a secret that contains another is masked whole.
        ordered = sorted(updated, key=len, reverse=True)
        _secrets_pattern = re.compile("|".join(re.escape(s) for s in ordered))
        _secrets = updated


def redact(text: str) -> str:
    """Return ``text`` with registered secrets and anything shaped like a credential masked."""
    # Each pattern is skipped when it cannot match: most log text is short and has no ':' or '='.
    # A search that finds nothing costs about half of a sub that replaces nothing.
    pattern = _secrets_pattern
    if pattern is not None and len(text) >= MIN_SECRET_LENGTH and pattern.search(text):
        text = pattern.sub(MASK, text)
    if (":" in text or "=" in text) and _SECRET_FIELD.search(text):
        text = _SECRET_FIELD.sub(_mask_field_value, text)
    if len(text) >= 32 and _KEY_SHAPED.search(text):
        text = _KEY_SHAPED.sub(_mask_key_shaped, text)
    return text


def _mask_field_value(match: re.Match[str]) -> str:
    return match.group(1) + MASK


def _mask_key_shaped(match: re.Match[str]) -> str:
    run = match.group(0)
    # '/' is base64 too, so a URL's port and path ("41315/0/private/GetWebSocketsToken") form one
    # run. A run of plain segments only (numbers, words, a few characters) is such a path; base64
    # cut at its '/' leaves mixed pieces, so a secret is masked as before, wherever it stands.
    if (
        "/" in run
        and all(map(_plain_segment, run.split("/")))
        and _in_url(match.string, match.start())
    ):
        return run
    # Pure-letter runs are words or identifiers; random base64 of this length almost always has both.
    if _HAS_DIGIT.search(run) and _HAS_LETTER.search(run):
        return MASK
    return run


def _plain_segment(segment: str) -> bool:
    return len(segment) <= 3 or segment.isdigit() or segment.isalpha()


def _in_url(text: str, position: int) -> bool:
    """Whether ``position`` lies inside a URL: after a ``scheme://`` with no space in between."""
    scheme = text.rfind("://", 0, position + 2)  # a run can start at the scheme's "//"
    return scheme != -1 and not _URL_END.search(text, scheme, position)


def _redact_value(value: Any) -> Any:
    """Redact strings inside an extra field's value, keeping JSON-native types."""
    if isinstance(value, str):
        return redact(value) if len(value) >= MIN_SECRET_LENGTH else value
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict):
        return {redact(str(k)): _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact_value(v) for v in value]
    return redact(str(value))


Redacted = tuple[str, str, dict[str, Any]]
"""A record's loggable content after redaction: message, exception text ("" if none) and extras.
A plain tuple, not a NamedTuple: one is made per record written, and a NamedTuple costs twice as
much to make."""


def redacted(record: logging.LogRecord) -> Redacted:
    """The record's content, redacted once and cached on the record for the next handler (for
    handlers called in the logging thread; the writer thread uses ``render_batch``)."""
    result = _content(record)
    record.__dict__[_REDACTED_ATTR] = result
    return result


def _content(record: logging.LogRecord) -> Redacted:
    fields = record.__dict__
    cached = fields.get(_REDACTED_ATTR)  # getattr would raise and catch on a miss
    if cached is not None and type(cached) is tuple:
        return cached
    try:
        message = redact(record.getMessage())
    except Exception:  # a bad format string must not cost us the record
        message = redact(f"{record.msg!r} % {record.args!r}")
    if record.exc_text or record.exc_info or record.stack_info:
        return (message, redact(_exception_text(record)), _extra(fields))
    return (message, "", _extra(fields))


def _exception_text(record: logging.LogRecord) -> str:
    exc = record.exc_text or ""
    if not exc and record.exc_info:
        exc = logging.Formatter().formatException(record.exc_info)
    if record.stack_info:
        exc = f"{exc}\n{record.stack_info}" if exc else record.stack_info
    return exc


def render_batch(
    records: list[logging.LogRecord],
) -> tuple[list[logging.LogRecord], list[Redacted]]:
    """Redact each record once for every output, leaving the record as it is: the thread that
    logged it may still be reading it (a later handler), so the writer thread must not change it."""
    kept: list[logging.LogRecord] = []
    contents: list[Redacted] = []
    for record in records:
        try:
            content = _content(record)
        except Exception as exc:  # noqa: BLE001 - a record we cannot redact is not written
            print(
                f"tradetui: a log record from {record.name} was dropped: {exc!r}", file=sys.stderr
            )
            continue
        kept.append(record)
        contents.append(content)
    return kept, contents


_NO_EXTRA: dict[str, Any] = {}  # shared by every record without extras: never changed
_SHAPES_KEPT = 1024
_STANDARD_COUNT = len(logging.LogRecord("", 0, "", 0, "", (), None).__dict__)
"""Attributes ``LogRecord.__init__`` sets, every one on every record; ``extra=`` adds the rest."""
_extra_names_by_count: dict[int, tuple[str, ...]] = {}
"""The extra field names last seen on records with this many attributes (see ``_extra_names``)."""


def _extra_names(fields: dict[str, Any]) -> tuple[str, ...]:
    """A record's ``extra=`` field names, in the order they were given.

    Looked up by the record's attribute count, then checked: a record with the standard attributes
    and exactly the cached names has that count. A miss (another call site's extras, or a handler
    that added ``message``) reads every attribute name, and only results without such additions
    are cached. About four times cheaper than keying the cache by all of the attribute names.
    """
    count = len(fields)
    names = _extra_names_by_count.get(count)
    if names is not None:
        for name in names:  # a loop, not all(): a generator costs more than the check
            if name not in fields:
                break
        else:
            return names
    names = tuple(k for k in fields if k not in _RECORD_ATTRS and not k.startswith("_"))
    if count == _STANDARD_COUNT + len(names):
        if len(_extra_names_by_count) >= _SHAPES_KEPT:
            _extra_names_by_count.clear()
        _extra_names_by_count[count] = names
    return names


def _extra(fields: dict[str, Any]) -> dict[str, Any]:
    """A record's ``extra=`` fields, redacted, in the order they were given."""
    names = _extra_names(fields)
    if not names:
        return _NO_EXTRA
    extra = {}
    for key in names:
        value = fields[key]
        # Inlined for the usual extras, short words and numbers: this runs for every record.
        if type(value) is str and len(value) < MIN_SECRET_LENGTH or type(value) in _NUMBERS:
            extra[key] = value
        else:
            extra[key] = _redact_value(value)
    return extra


_NUMBERS = frozenset({int, float, bool})
