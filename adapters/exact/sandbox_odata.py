"""OData v3 helpers of the Exact sandbox: ``$filter`` parsing/evaluation, ``/Date(ms)/`` in CET, JSON encoding.

Part of the emulator only (``sandbox.py`` serves the routes, ``sandbox_state.py`` holds the data). Rows are
plain dicts of typed values (``Decimal``, ``date``, aware ``datetime``, ``bool``, ``int``, ``str``); this module
filters them the way Exact's OData layer does and writes them the way Exact does on the wire: dates as
``/Date(ms)/`` wall-clock CET/CEST (exact.md §3.4), numbers as JSON numbers with their exact decimal text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

CET = ZoneInfo("Europe/Amsterdam")
_EPOCH = datetime(1970, 1, 1)  # noqa: DTZ001 - wall-clock arithmetic


class ODataError(Exception):
    """A request Exact would answer with 400 and an OData error body."""


def wall_ms(value: date | datetime) -> int:
    """Epoch milliseconds of the CET/CEST wall-clock time (exact.md §3.4: 'CET, not GMT')."""
    if isinstance(value, datetime):
        wall = value.astimezone(CET).replace(tzinfo=None)
    else:
        wall = datetime(value.year, value.month, value.day)  # noqa: DTZ001
    return (wall - _EPOCH) // timedelta(milliseconds=1)  # integer arithmetic: no float rounding


def ms_date(value: date | datetime) -> str:
    return f"/Date({wall_ms(value)})/"


def to_wire(row: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, date):
            out[key] = ms_date(value)
        elif isinstance(value, Decimal):
            out[key] = f"__DEC__{value}__"
        else:
            out[key] = value
    return out


_DEC = re.compile(r'"__DEC__(-?\d+(?:\.\d+)?)__"')


def dumps(payload: Any) -> str:
    """JSON with Decimals written as exact JSON numbers (never through float)."""
    return _DEC.sub(r"\1", json.dumps(payload, separators=(",", ":")))


def error_body(message: str) -> str:
    """exact.md §7: ``{"error":{"code":"","message":{"lang":"","value":"…"}}}``."""
    return dumps({"error": {"code": "", "message": {"lang": "", "value": message}}})


# --- $filter --------------------------------------------------------------------------------------------
_TOKEN = re.compile(r"\s*(\(|\)|guid'[^']*'|datetime'[^']*'|'(?:[^']|'')*'|-?\d+(?:\.\d+)?[LMDd]?|[A-Za-z_][\w/]*)")
_OPS = {"eq", "ne", "gt", "ge", "lt", "le"}
Predicate = Callable[[Mapping[str, Any]], bool]


def _tokens(text: str) -> list[str]:
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None:
            raise ODataError(f"Syntax error at position {pos} in '{text}'.")
        tokens.append(match.group(1))
        pos = match.end()
    return tokens


def _literal(token: str) -> Any:
    if token.startswith("guid'"):
        return token[5:-1].lower()
    if token.startswith("datetime'"):
        return datetime.fromisoformat(token[9:-1]).replace(tzinfo=None)
    if token.startswith("'"):
        return token[1:-1].replace("''", "'")
    if token in ("true", "false"):
        return token == "true"
    if token == "null":
        return None
    if re.fullmatch(r"-?\d+L?", token):
        return int(token.rstrip("L"))
    if re.fullmatch(r"-?\d+(\.\d+)?[MDd]?", token):
        return Decimal(token.rstrip("MDd"))
    raise ODataError(f"Unrecognized literal '{token}'.")


def _comparable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(CET).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)  # noqa: DTZ001
    if isinstance(value, str):
        return value.lower() if re.fullmatch(r"[0-9a-fA-F-]{36}", value) else value
    return value


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "eq":
        return bool(left == right)
    if op == "ne":
        return bool(left != right)
    if left is None or right is None:
        return False
    try:
        return bool({"gt": left > right, "ge": left >= right, "lt": left < right, "le": left <= right}[op])
    except TypeError as exc:
        raise ODataError(f"Operator '{op}' incompatible with operand types.") from exc


def _either(a: Predicate, b: Predicate) -> Predicate:
    return lambda row: a(row) or b(row)


def _both(a: Predicate, b: Predicate) -> Predicate:
    return lambda row: a(row) and b(row)


class _Parser:
    def __init__(self, tokens: list[str], allowed: frozenset[str] | None) -> None:
        self.tokens, self.pos, self.allowed, self.fields = tokens, 0, allowed, set[str]()

    def _next(self) -> str:
        if self.pos >= len(self.tokens):
            raise ODataError("Unexpected end of $filter expression.")
        self.pos += 1
        return self.tokens[self.pos - 1]

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def expr(self) -> Predicate:
        left = self.term()
        while self._peek() == "or":
            self._next()
            left = _either(left, self.term())
        return left

    def term(self) -> Predicate:
        left = self.factor()
        while self._peek() == "and":
            self._next()
            left = _both(left, self.factor())
        return left

    def factor(self) -> Predicate:
        token = self._next()
        if token == "(":
            inner = self.expr()
            if self._next() != ")":
                raise ODataError("')' expected.")
            return inner
        if token == "not":
            inner = self.factor()
            return lambda row: not inner(row)
        op = self._next()
        if op not in _OPS:
            raise ODataError(f"Syntax error: unknown operator '{op}'.")
        value = _literal(self._next())
        self.fields.add(token)
        return lambda row: _compare(op, _comparable(row.get(token)), _comparable(value))


def parse_filter(text: str, allowed: frozenset[str] | None = None) -> tuple[Predicate, set[str]]:
    """A predicate over rows and the field names used; fields outside ``allowed`` are refused like Exact does."""
    parser = _Parser(_tokens(text), allowed)
    predicate = parser.expr()
    if parser.pos != len(parser.tokens):
        raise ODataError(f"Syntax error at token '{parser.tokens[parser.pos]}'.")
    if allowed is not None and parser.fields - allowed:
        raise ODataError(f"Filtering on these fields is not supported: {', '.join(sorted(parser.fields - allowed))}")
    return predicate, parser.fields


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
