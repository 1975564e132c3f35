"""Cursor pagination and ETags for the API's lists and reads.

Lists page in SQL: the storage query takes the id after which to start and fetches ``limit + 1`` rows (``keyset``
turns them into a page and the next cursor), so a page costs the same whatever the size of the list. A cursor is
opaque to clients: the last id of the page, bound to the filters it was made for, signed with a key
derived from the app's secret (a changed or forged cursor is a 422, never a wrong page). Pages run in id order,
so rows added while a client pages through appear at the end and none is skipped or repeated. ``etag`` answers
304 to a matching ``If-None-Match`` (docs/api.md#pagination).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from typing import TypeVar

from flask import Response, current_app, request
from pydantic import BaseModel, ConfigDict, Field

from dashboard.api.problems import Problem

T = TypeVar("T")
BAD_CURSOR = "This cursor is not valid for this list and these filters: start again without a cursor."


class ListQuery(BaseModel):
    """What every list takes: how many (1-200) and where to go on from."""

    model_config = ConfigDict(extra="ignore")
    limit: int = Field(50, ge=1, le=200, description="page size")
    cursor: str | None = Field(None, max_length=500, description="next_cursor of the previous page")

    def filters(self) -> str:
        values = self.model_dump(exclude={"limit", "cursor"}, mode="json")
        return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]


def _key() -> bytes:
    return hmac.new(str(current_app.secret_key).encode(), b"api-cursor", "sha256").digest()


def _sign(data: bytes) -> str:
    return base64.urlsafe_b64encode(hmac.new(_key(), data, "sha256").digest()[:16]).decode().rstrip("=")


def make_cursor(after: int, query: ListQuery) -> str:
    data = json.dumps({"a": after, "f": query.filters()}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(data).decode().rstrip("=") + "." + _sign(data)


def read_cursor(query: ListQuery) -> int:
    if not query.cursor:
        return 0
    body, _, signature = query.cursor.partition(".")
    try:
        data = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        valid = hmac.compare_digest(_sign(data), signature)
        decoded = json.loads(data) if valid else {}
    except (ValueError, UnicodeDecodeError):
        decoded = {}
    if not isinstance(decoded, dict) or decoded.get("f") != query.filters() or not isinstance(decoded.get("a"), int):
        raise Problem(422, BAD_CURSOR)
    return int(decoded["a"])


def paginate(rows: Sequence[T], key: Callable[[T], int], query: ListQuery) -> tuple[list[T], str | None]:
    """The page of ``rows`` after the cursor, in ``key`` order, and the cursor of the next page (None: last). Only
    for lists that are small by nature (an organisation's webhook subscriptions); every list that grows with the
    data pages in SQL with ``keyset``."""
    after = read_cursor(query)
    remaining = sorted((r for r in rows if key(r) > after), key=key)
    page = remaining[: query.limit]
    more = len(remaining) > query.limit
    return page, make_cursor(key(page[-1]), query) if more and page else None


def keyset(rows: Sequence[T], key: Callable[[T], int], query: ListQuery) -> tuple[list[T], str | None]:
    """The page of ``rows`` fetched as ``limit + 1`` rows after the cursor (``read_cursor``) in ``key`` order by the
    storage query itself, and the cursor of the next page (None: the last page)."""
    page = list(rows[: query.limit])
    return page, make_cursor(key(page[-1]), query) if len(rows) > query.limit and page else None


class Page(BaseModel):
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")


def with_etag(response: Response) -> Response:
    """A strong ETag on a successful GET; 304 without a body when the client has it already."""
    if request.method != "GET" or response.status_code != 200 or response.direct_passthrough:
        return response
    tag = hashlib.sha256(response.get_data()).hexdigest()[:32]
    response.set_etag(tag)
    if request.if_none_match.contains(tag):
        not_modified = Response(status=304)
        not_modified.set_etag(tag)
        return not_modified
    return response


__all__ = ["ListQuery", "Page", "Problem", "keyset", "make_cursor", "paginate", "read_cursor", "with_etag"]
