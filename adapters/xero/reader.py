"""Cursor-driven reads of Xero lists: full, incremental (If-Modified-Since) and the open-receivables refresh.

Used by ``provider.py``'s ``iter_*_pages``. Lists are read as keyset pages on ``UpdatedDateUTC`` (Xero's default
order, docs/providers/xero.md#incremental-sync): each request is ``If-Modified-Since: <since>`` + ``page`` of 1000;
after a full page the next request starts at the newest ``UpdatedDateUTC`` seen (page 1 again), so records changed
mid-run move *ahead* and nothing shifts into pages already read. Only when a whole page shares one second does the page
number advance. A first run is the same loop with no ``since``. The cursor every page carries resumes exactly
there after a crash; the final cursor holds ``since`` = newest seen minus ``OVERLAP`` (late commits).
Invoices add a periodic refresh of AUTHORISED/SUBMITTED ones, because some edits (due date on part-paid
invoices, SentToContact) do not bump ``UpdatedDateUTC`` (docs/providers/xero.md#incremental-sync blind spots).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.xero.client import PAGE_SIZE, XeroClient
from adapters.xero.mapping import instant

OVERLAP = timedelta(minutes=2)  # docs/providers/xero.md#incremental-sync: watermark minus 1-5 min
OPEN_STATUSES = ("AUTHORISED", "SUBMITTED")


@dataclass(frozen=True)
class Cursor:
    """What a page's cursor string holds (JSON). Times are ISO-8601 UTC."""

    since: str | None = None  # If-Modified-Since of the next request; None: full read
    page: int = 1
    refreshing: bool = False  # inside the periodic open-receivables refresh
    last_refresh: str | None = None  # when open receivables were last read completely

    @classmethod
    def load(cls, text: str | None) -> Cursor:
        if not text:
            return cls()
        try:
            data = json.loads(text)
            return cls(**{k: data[k] for k in ("since", "page", "refreshing", "last_refresh") if k in data})
        except (ValueError, TypeError):
            return cls()  # an unreadable cursor means a full read, never a crash

    def dump(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _newest(records: list[dict[str, Any]]) -> datetime | None:
    stamps = [s for s in (instant(r.get("UpdatedDateUTC")) for r in records) if s is not None]
    return max(stamps) if stamps else None


def keyset_pages(
    client: XeroClient,
    tenant: str,
    resource: str,
    cursor: Cursor,
    *,
    where: str | None = None,
    extra: dict[str, str] | None = None,
) -> Iterator[tuple[list[dict[str, Any]], Cursor, bool]]:
    """Yield ``(records, cursor after them, done)``; ``done`` pages carry the next run's watermark."""
    since, page = _dt(cursor.since), cursor.page
    newest: datetime | None = since
    while True:
        records, _count = client.page(tenant, resource, page, where=where, modified_since=since, extra=extra)
        seen = _newest(records)
        newest = max(filter(None, (newest, seen)), default=None)
        if len(records) < PAGE_SIZE:
            final = newest - OVERLAP if newest and newest != since else since
            yield records, replace(cursor, since=final.isoformat() if final else None, page=1), True
            return
        boundary = seen.replace(microsecond=0) if seen else None
        if boundary is not None and (since is None or boundary > since):
            since, page = boundary, 1
        else:
            page += 1  # a whole page within one second: advance by page number
        yield records, replace(cursor, since=since.isoformat() if since else None, page=page), False


def refresh_due(cursor: Cursor, now: datetime, hours: int) -> bool:
    last = _dt(cursor.last_refresh)
    return last is None or now - last >= timedelta(hours=hours)


def refresh_pages(
    client: XeroClient,
    tenant: str,
    cursor: Cursor,
    now: datetime,
) -> Iterator[tuple[list[dict[str, Any]], Cursor]]:
    """Every open sales invoice, by page number (order is stable for records that do not change meanwhile)."""
    page = cursor.page if cursor.refreshing else 1
    while True:
        records, count = client.page(tenant, "Invoices", page, where='Type=="ACCREC"', statuses=OPEN_STATUSES)
        done = len(records) < PAGE_SIZE or (count is not None and page >= count)
        if done:
            yield records, replace(cursor, refreshing=False, page=1, last_refresh=now.astimezone(UTC).isoformat())
            return
        page += 1
        yield records, replace(cursor, refreshing=True, page=page)
