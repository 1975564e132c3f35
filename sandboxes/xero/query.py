"""Xero's list-query semantics for the sandbox: ``where``, ``Statuses``, ``IDs``, ``If-Modified-Since``, paging.

Routes hand each record's filterable facts (lower-cased field paths → Python values) to ``where_predicate``;
``select`` then applies the filters in Xero's order and slices a page (docs/providers/xero.md#requests,
docs/providers/xero.md#invoices): ``page`` is 1-based, ``pageSize`` defaults to 100 and is clamped to 1..1000,
``Statuses`` forces paging; a malformed ``If-Modified-Since`` is silently ignored (as at Xero, which then returns
everything).
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

Facts = Mapping[str, Any]
MAX_IDS = 52  # docs/providers/xero.md#requests: longer ID lists overflow the URL and answer 404


class QueryError(Exception):
    """A where clause Xero would reject (400)."""


_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<guid>guid\("[^"]*"\))|(?P<dt>DateTime\([\d\s,]+\))'
    r"|(?P<op>==|!=|>=|<=|>|<|&&|\|\||\(|\))|(?P<word>[A-Za-z_][A-Za-z0-9_.]*)|(?P<num>-?\d+(?:\.\d+)?))",
)
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
    ">=": operator.ge,
    "<=": operator.le,
}


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise QueryError(f"cannot parse where clause near {text[pos : pos + 20]!r}")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def _value(kind: str, text: str) -> Any:
    if kind == "str":
        return text[1:-1].replace('\\"', '"')
    if kind == "guid":
        return text[6:-2].lower()
    if kind == "dt":
        parts = [int(p) for p in text[9:-1].split(",")]
        if len(parts) == 3:
            return date(parts[0], parts[1], parts[2])
        hour, minute, second = (parts[3:6] + [0, 0, 0])[:3]
        return datetime(parts[0], parts[1], parts[2], hour, minute, second, tzinfo=UTC)
    if kind == "num":
        return Decimal(text)
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if text.lower() == "null":
        return None
    raise QueryError(f"unexpected {text!r}")


def where_predicate(text: str) -> Callable[[Facts], bool]:
    """Compile ``Field==value [AND|&&|OR|||] ...``; AND binds tighter than OR; parentheses allowed."""
    tokens = _tokens(text)
    pos = 0

    def peek() -> tuple[str, str] | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal pos
        if pos >= len(tokens):
            raise QueryError("where clause ends too early")
        pos += 1
        return tokens[pos - 1]

    def is_word(token: tuple[str, str] | None, *words: str) -> bool:
        return token is not None and token[1].upper() in words

    def disjunction() -> Callable[[Facts], bool]:
        parts = [conjunction()]
        while is_word(peek(), "OR", "||"):
            take()
            parts.append(conjunction())
        return lambda facts: any(p(facts) for p in parts)

    def conjunction() -> Callable[[Facts], bool]:
        parts = [comparison()]
        while is_word(peek(), "AND", "&&"):
            take()
            parts.append(comparison())
        return lambda facts: all(p(facts) for p in parts)

    def comparison() -> Callable[[Facts], bool]:
        kind, text_ = take()
        if text_ == "(":
            inner = disjunction()
            if take()[1] != ")":
                raise QueryError("missing )")
            return inner
        if kind != "word":
            raise QueryError(f"expected a field name, got {text_!r}")
        field = text_.lower()
        nxt = peek()
        if nxt is None or nxt[0] != "op" or nxt[1] not in _OPS:
            return lambda facts: bool(_fact(facts, field))  # bare boolean field: IsCustomer
        op = _OPS[take()[1]]
        value = _value(*take())
        return lambda facts: _compare(op, _fact(facts, field), value)

    predicate = disjunction()
    if pos != len(tokens):
        raise QueryError(f"unexpected {tokens[pos][1]!r} in where clause")
    return predicate


def _fact(facts: Facts, field: str) -> Any:
    if field not in facts:
        raise QueryError(f"No property or field '{field}' exists")
    return facts[field]


def _compare(op: Callable[[Any, Any], bool], actual: Any, expected: Any) -> bool:
    if isinstance(actual, str) and isinstance(expected, str):
        actual, expected = actual.lower(), expected.lower()
    if isinstance(actual, Decimal) and not isinstance(expected, Decimal):
        try:
            expected = Decimal(str(expected))
        except InvalidOperation:
            return False
    if isinstance(actual, datetime) and type(expected) is date:
        actual = actual.date()
    try:
        return op(actual, expected)
    except TypeError:
        return False


def parse_if_modified_since(header: str | None) -> datetime | None:
    """``yyyy-mm-ddThh:mm:ss`` UTC (fractions/zones tolerated); anything else is ignored, as Xero does."""
    if not header:
        return None
    try:
        moment = datetime.fromisoformat(header.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass
class ListQuery:
    where: Callable[[Facts], bool] | None
    statuses: set[str] | None
    ids: set[str] | None
    modified_since: datetime | None
    page: int | None
    page_size: int


def list_query(args: Mapping[str, str], if_modified_since: str | None, *, paged_by_statuses: bool = True) -> ListQuery:
    where = where_predicate(args["where"]) if args.get("where") else None
    statuses = {s.strip().upper() for s in args["Statuses"].split(",") if s.strip()} if args.get("Statuses") else None
    ids = {i.strip().lower() for i in args["IDs"].split(",") if i.strip()} if args.get("IDs") else None
    page = _int(args.get("page"))
    if page is None and (statuses is not None and paged_by_statuses or args.get("summaryOnly") == "true"):
        page = 1  # docs/providers/xero.md#invoices: Statuses and summaryOnly force pagination
    size = _int(args.get("pageSize")) or 100
    return ListQuery(where, statuses, ids, parse_if_modified_since(if_modified_since), page, min(max(size, 1), 1000))


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text not in (None, "") else None
    except ValueError:
        return None


def select(
    records: Sequence[Any],
    query: ListQuery,
    *,
    facts: Callable[[Any], Facts],
    record_id: str,
    status_key: str = "Status",
) -> tuple[list[Any], dict[str, int] | None]:
    """Filter and order by UpdatedDateUTC, id (Xero's default) and cut one page; return it and ``pagination``."""
    chosen = []
    for record in records:
        if query.ids is not None and str(record[record_id]).lower() not in query.ids:
            continue
        if query.statuses is not None and record.get(status_key) not in query.statuses:
            continue
        if query.modified_since is not None and record["UpdatedDateUTC"] < query.modified_since:
            continue
        if query.where is not None and not query.where(facts(record)):
            continue
        chosen.append(record)
    chosen.sort(key=lambda r: (r["UpdatedDateUTC"], str(r[record_id])))
    if query.page is None:
        return chosen, None
    start = (max(query.page, 1) - 1) * query.page_size
    pagination = {
        "page": max(query.page, 1),
        "pageSize": query.page_size,
        "pageCount": math.ceil(len(chosen) / query.page_size),
        "itemCount": len(chosen),
    }
    return chosen[start : start + query.page_size], pagination
