"""Exact sandbox: OData v3 ``$filter`` parsing and evaluation, the way Exact's OData layer filters rows.

Used by the read routes of ``api.py``: ``parse_filter`` turns ``$filter`` text into a predicate over rows (plain
dicts of typed values, compared as Exact compares them: dates in wall-clock CET, GUIDs case-insensitive) and
refuses fields an endpoint does not filter on (docs/providers/exact.md#invoices, docs/providers/exact.md#requests).
Malformed text raises ``ODataError``, which the routes answer with 400 and an OData error body.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sandboxes.exact.render import CET


class ODataError(Exception):
    """A request Exact would answer with 400 and an OData error body."""


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
