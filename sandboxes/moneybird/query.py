"""Moneybird sandbox: the ``filter=key:value,...`` grammar of the sales-invoice list and synchronization endpoints.

Used by the sandbox routes (``api.py``) before they page or list invoices. Parses the filter string into
a predicate over stored invoice records exactly as docs/providers/moneybird.md#requests describes: ``|``-joined values,
named and custom periods (open-ended → 400), exclusive ``created_after``/``updated_after`` compared in UTC, unknown keys
ignored, invalid states → 400 with the symbolic body.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sandboxes.moneybird.render import INVOICE_STATES, Record, parse_stamp


class FilterError(Exception):
    """A filter the real API rejects with 400; ``body`` is the exact JSON body."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(body.get("error"))
        self.body = body


# docs/providers/moneybird.md#requests
INVALID_STATE = {"error": "Status is not included in the list", "symbolic": {"filter": "invalid"}}
# docs/providers/moneybird.md#requests
OPEN_PERIOD = {"error": "Period must have both a start and end date", "symbolic": {"filter": "invalid"}}
INVALID_PERIOD = {"error": "Period is invalid", "symbolic": {"filter": "invalid"}}


def split_filter(text: str) -> dict[str, str]:
    terms: dict[str, str] = {}
    for term in text.split(","):
        key, sep, value = term.partition(":")
        if sep and key.strip():
            terms[key.strip()] = value.strip()
    return terms


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def period_range(text: str, today: date) -> tuple[date, date]:
    """Resolve a named or custom period (docs/providers/moneybird.md#requests) to an inclusive date range."""
    named = re.fullmatch(r"(this|prev|next)_(week|month|quarter|year)", text)
    if named:
        step = {"this": 0, "prev": -1, "next": 1}[named.group(1)]
        unit = named.group(2)
        if unit == "week":
            start = today - timedelta(days=today.weekday()) + timedelta(weeks=step)
            return start, start + timedelta(days=6)
        if unit == "year":
            return date(today.year + step, 1, 1), date(today.year + step, 12, 31)
        months = 1 if unit == "month" else 3
        first_month = today.month if unit == "month" else (today.month - 1) // 3 * 3 + 1
        year, month = _shift_month(today.year, first_month, step * months)
        end_year, end_month = _shift_month(year, month, months - 1)
        return date(year, month, 1), _month_end(end_year, end_month)
    if ".." in text:
        start_text, _, end_text = text.partition("..")
        if not start_text or not end_text:
            raise FilterError(OPEN_PERIOD)
        return _boundary(start_text, first=True), _boundary(end_text, first=False)
    if re.fullmatch(r"\d{6}|\d{8}", text):
        return _boundary(text, first=True), _boundary(text, first=False)
    raise FilterError(INVALID_PERIOD)


def _boundary(text: str, *, first: bool) -> date:
    try:
        if re.fullmatch(r"\d{8}", text):
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        if re.fullmatch(r"\d{6}", text):
            year, month = int(text[:4]), int(text[4:])
            return date(year, month, 1) if first else _month_end(year, month)
    except ValueError:
        pass
    raise FilterError(INVALID_PERIOD)


def parse_instant(text: str) -> datetime:
    """``2026-08-21 13:50:12 UTC`` or any ISO 8601; naive values are UTC (docs/providers/moneybird.md#requests)."""
    cleaned = text.strip().replace(" UTC", "+00:00").replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError as exc:
        raise FilterError({"error": "Filter value is invalid", "symbolic": {"filter": "invalid"}}) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class InvoiceFilter:
    states: frozenset[str] | None
    period: tuple[date, date] | None
    references: frozenset[str] | None
    contact_id: str | None
    workflow_id: str | None
    created_after: datetime | None
    updated_after: datetime | None
    today: date

    def matches(self, inv: Record) -> bool:
        if self.states is not None and inv["state"] not in self.states:
            return False
        if self.period is not None:
            start, end = self.period
            # docs/providers/moneybird.md#requests: a draft without invoice_date matches a period only if the period
            # contains today
            day = date.fromisoformat(inv["invoice_date"]) if inv["invoice_date"] else self.today
            if not start <= day <= end:
                return False
        if self.references is not None and inv["reference"] not in self.references:
            return False
        if self.contact_id is not None and inv["contact_id"] != self.contact_id:
            return False
        if self.workflow_id is not None and inv["workflow_id"] != self.workflow_id:
            return False
        if self.created_after is not None and not parse_stamp(inv["created_at"]) > self.created_after:
            return False
        return self.updated_after is None or parse_stamp(inv["updated_at"]) > self.updated_after


def parse_invoice_filter(text: str | None, today: date, *, default_period: bool) -> InvoiceFilter:
    """Parse ``filter``; ``default_period`` applies ``period:this_year`` when no period is given (list endpoint).

    The sync endpoint has no default period (docs/providers/moneybird.md#incremental-sync). For the list endpoint the
    docs are ambiguous (docs/providers/moneybird.md#requests); the sandbox applies ``this_year`` whenever ``period`` is
    missing, so clients must send it explicitly.
    """
    terms = split_filter(text or "")
    states: frozenset[str] | None = None
    if "state" in terms:
        values = frozenset(terms["state"].split("|"))
        if not values <= set(INVOICE_STATES) | {"all"}:
            raise FilterError(INVALID_STATE)
        states = None if "all" in values else values
    period_text = terms.get("period") or ("this_year" if default_period else None)
    period = period_range(period_text, today) if period_text else None
    return InvoiceFilter(
        states=states,
        period=period,
        references=frozenset(terms["reference"].split("|")) if "reference" in terms else None,
        contact_id=terms.get("contact_id"),
        workflow_id=terms.get("workflow_id"),
        created_after=parse_instant(terms["created_after"]) if "created_after" in terms else None,
        updated_after=parse_instant(terms["updated_after"]) if "updated_after" in terms else None,
        today=today,
    )


def contact_filter(text: str | None) -> Callable[[Record], bool]:
    """Contacts synchronization filters: ``created_after``/``updated_after`` (exclusive, UTC)."""
    terms = split_filter(text or "")
    created = parse_instant(terms["created_after"]) if "created_after" in terms else None
    updated = parse_instant(terms["updated_after"]) if "updated_after" in terms else None

    def matches(contact: Record) -> bool:
        if created is not None and not parse_stamp(contact["created_at"]) > created:
            return False
        return updated is None or parse_stamp(contact["updated_at"]) > updated

    return matches
