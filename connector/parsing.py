"""Parsers for provider wire formats shared by several adapters: the .NET ``/Date(ms±hhmm)/`` form, and the bound
on how deeply a JSON body from outside may nest before anyone parses it (``json_too_deep``).

Adapters call these at the mapping boundary, before anything reaches ``connector.model``. There is no default
time zone on purpose: every caller states how its provider means a bare number (Xero: a UTC instant, Exact:
wall-clock time in CET/CEST), so the same string can never be read two ways by accident.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any

MAX_JSON_DEPTH = 64  # the deepest real payload (Moneybird's entity) nests about 5 levels; json recurses per level
_NESTING_OR_QUOTE = re.compile(rb'[\[\]{}"]')
_QUOTE_OR_ESCAPE = re.compile(rb'["\\]')
MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_EPOCH = datetime(1970, 1, 1)  # noqa: DTZ001 - naive on purpose: wall-clock arithmetic below


def _offset(text: str) -> timezone:
    sign = -1 if text[0] == "-" else 1
    hours, minutes = int(text[1:3]), int(text[3:5])
    if hours > 23 or minutes > 59:
        raise ValueError(f"invalid /Date offset {text!r}")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def parse_ms_date(value: str, *, zone: tzinfo) -> datetime:
    """Parse ``/Date(ms)/`` or ``/Date(ms±hhmm)/`` into an aware datetime.

    With an offset the number is the UTC instant and the offset the zone it was recorded in
    (docs/providers/xero.md#dates: ``/Date(1455447600000+1300)/`` is local midnight of 15 Feb 2016); the result carries
    that fixed offset. Without an offset the number is wall-clock time in ``zone`` (for ``zone=UTC`` that is simply the
    instant).
    """
    match = MS_DATE.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"not a /Date(ms)/ value: {value!r}")
    millis = int(match.group(1))
    if match.group(2):
        instant = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=millis)
        return instant.astimezone(_offset(match.group(2)))
    return (_EPOCH + timedelta(milliseconds=millis)).replace(tzinfo=zone)


def ms_date_to_utc(value: str, *, zone: tzinfo) -> datetime:
    """The instant of a ``/Date(...)/`` value, in UTC."""
    return parse_ms_date(value, zone=zone).astimezone(UTC)


def ms_date_to_date(value: str, *, zone: tzinfo) -> date:
    """The calendar date a ``/Date(...)/`` value names, in the zone it was recorded in (offset or ``zone``)."""
    return parse_ms_date(value, zone=zone).date()


def format_ms_date(moment: datetime) -> str:
    """Format an aware datetime as ``/Date(ms±hhmm)/`` using its own UTC offset (round-trips with the parser)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("format_ms_date needs an aware datetime")
    offset = moment.utcoffset() or timedelta(0)
    millis = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
    total_minutes = int(offset.total_seconds()) // 60
    sign = "-" if total_minutes < 0 else "+"
    hours, minutes = divmod(abs(total_minutes), 60)
    return f"/Date({millis}{sign}{hours:02d}{minutes:02d})/"


def json_too_deep(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when ``raw`` opens more than ``limit`` arrays/objects inside each other. Checked on the raw bytes before
    any ``json.loads`` (whose recursion a deep enough body exhausts), without building anything; stops at the
    first level over the limit, so a hostile body costs at most ``limit`` steps plus its strings."""
    depth, pos = 0, 0
    while (match := _NESTING_OR_QUOTE.search(raw, pos)) is not None:
        token, pos = match.group(), match.end()
        if token == b'"':  # skip the string: brackets inside it do not nest, an escaped quote does not end it
            while (end := _QUOTE_OR_ESCAPE.search(raw, pos)) is not None and end.group() == b"\\":
                pos = end.end() + 1
            if end is None:
                return False  # unterminated: json.loads refuses it without recursing
            pos = end.end()
        elif token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def parse_json(raw: bytes) -> Any:
    """``json.loads`` for bodies from outside: UTF-8 only (so the depth scan above reads every byte right), at most
    ``MAX_JSON_DEPTH`` levels; every refusal is a ``ValueError`` saying why, never a ``RecursionError``."""
    text = raw.decode("utf-8")  # UnicodeDecodeError is a ValueError
    if json_too_deep(raw):
        raise ValueError(f"JSON nested more than {MAX_JSON_DEPTH} levels deep")
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError(f"JSON nested more than {MAX_JSON_DEPTH} levels deep") from None
