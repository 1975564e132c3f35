"""The worklist's read side: today's open actions as rows a credit controller works through, with totals.

Sits above ``connector.services`` and ``connector.queries`` (called by the dashboard, the API and the CLI); reads
through ``connector.storage.repos.worklist``. A row is one open outbox item (a message waiting for approval or for
the drainer, a phone task, a failed step) with its debtor, the invoice numbers, the days overdue of the oldest
invoice, the step and channel, and the amount, costs and interest it states. Filters (administration, step,
channel, debtor, a search text) run in SQL; paging is by keyset (the last item id seen), so a page stays stable
while items close. Tomorrow's actions are a dry run of the rules (``queries.tomorrow``); the other tabs (credit
stops, over-limit debtors) are ``connector.queries`` views. See docs/worklist.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from connector.model.outbox import OutboxChannel, OutboxItem, OutboxPayload, OutboxStatus
from connector.runtime import Runtime
from connector.storage import repos
from connector.storage.db import Session

OPEN_STATUSES = (
    OutboxStatus.AWAITING_APPROVAL,
    OutboxStatus.PENDING,
    OutboxStatus.TASK_OPEN,
    OutboxStatus.FAILED,
)
TABS = ("today", "approval", "phone", "snoozed", "tomorrow", "credit_stops", "over_limit")
PREVIEW_CHANNELS = frozenset({OutboxChannel.EMAIL, OutboxChannel.LETTER, OutboxChannel.PROVIDER})
PAGE_SIZE = 50


@dataclass(frozen=True)
class WorklistQuery:
    """What a person asks the worklist for; every field optional (the page's query string)."""

    tab: str = "today"
    administration_id: int | None = None
    step: str | None = None  # a level name, as the step filter lists them
    channel: str | None = None
    debtor_id: int | None = None
    search: str | None = None  # an invoice number, a debtor's name, customer or KvK number
    after: int | None = None  # keyset: the last item id of the previous page
    limit: int = PAGE_SIZE


@dataclass(frozen=True)
class InvoiceLink:
    id: int | None
    number: str
    due_date: date | None


@dataclass(frozen=True)
class WorklistRow:
    id: int
    administration_id: int
    administration: str
    debtor_id: int | None
    debtor: str
    debtor_ref: str
    invoices: tuple[InvoiceLink, ...]
    days_overdue: int | None
    level: int
    level_name: str
    action: str
    channel: str
    status: str
    run_date: date
    amount: Decimal | None
    currency: str | None
    costs: Decimal | None
    interest: Decimal | None
    snoozed_until: date | None
    last_error: str | None
    claim: tuple[date, Decimal, date] | None = None  # "I have paid": the day, the amount, the check day

    @property
    def can_approve(self) -> bool:
        return self.status == OutboxStatus.AWAITING_APPROVAL.value

    @property
    def can_preview(self) -> bool:
        return self.channel in PREVIEW_CHANNELS and self.action != "note"

    @property
    def is_call(self) -> bool:
        return self.status == OutboxStatus.TASK_OPEN.value and self.action == "phone_task"


@dataclass(frozen=True)
class WorklistPage:
    rows: list[WorklistRow]
    count: int  # every item the filter selects, not only this page
    totals: dict[str, Decimal]  # open amount per currency (never added across currencies)
    next_after: int | None  # the keyset of the next page; None on the last page
    steps: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    administrations: list[tuple[int, str]] = field(default_factory=list)


def end_of_day(rt: Runtime, org_id: int, day: date) -> datetime:
    """The last instant (UTC) of ``day`` in the organisation's time zone: what 'due today' includes."""
    with rt.sessions() as s:
        zone = repos.organisation_timezone(s, org_id)
    start = datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(zone))
    return start.astimezone(UTC) - timedelta(microseconds=1)


def _filter(s: Session, org_id: int, query: WorklistQuery, end: datetime) -> repos.WorklistFilter:
    statuses: tuple[OutboxStatus, ...] = OPEN_STATUSES
    if query.tab == "approval":
        statuses = (OutboxStatus.AWAITING_APPROVAL,)
    elif query.tab == "phone":
        statuses = (OutboxStatus.TASK_OPEN,)
    debtors: tuple[tuple[int, str], ...] | None = None
    if query.debtor_id is not None:
        row = repos.debtor_by_id(s, org_id, query.debtor_id)
        debtors = ((row.administration_id, row.provider_ref),) if row is not None else ()
    if query.search:
        found = {(d.administration_id, d.provider_ref) for d in repos.search_debtors(s, org_id, query.search)}
        found |= {(i.administration_id, i.debtor_ref) for i in repos.search_invoices(s, org_id, query.search)}
        debtors = tuple(sorted(found if debtors is None else found & set(debtors)))
    return repos.WorklistFilter(
        statuses=statuses,
        administration_ids=(query.administration_id,) if query.administration_id is not None else None,
        level_names=(query.step,) if query.step else None,
        channels=(query.channel,) if query.channel else None,
        debtors=debtors,
        visible_by=None if query.tab == "snoozed" else end,
        snoozed_after=end if query.tab == "snoozed" else None,
    )


def worklist_page(rt: Runtime, org_id: int, query: WorklistQuery, today: date) -> WorklistPage:
    """One page of the worklist's open items (tabs today, approval, phone, snoozed) with the filter's totals."""
    limit = max(1, min(query.limit, 500))
    end = end_of_day(rt, org_id, today)  # before the session: SQLite allows one at a time
    with rt.sessions() as s:
        where = _filter(s, org_id, query, end)
        items = repos.worklist_page(s, org_id, where, after_id=query.after, limit=limit + 1)
        amounts = repos.worklist_amounts(s, org_id, where)
        administrations = {a.id: a.name for a in repos.list_administrations(s, org_id)}
        steps = repos.worklist_steps(s, org_id)
        rows = _rows(s, org_id, items[:limit], administrations, today)
    return WorklistPage(
        rows=rows,
        count=len(amounts),
        totals=_totals(amounts),
        next_after=items[limit - 1].id if len(items) > limit else None,
        steps=sorted({name for name, _ in steps}),
        channels=sorted({channel for _, channel in steps}),
        administrations=sorted(administrations.items(), key=lambda pair: pair[1]),
    )


def _totals(amounts: Sequence[tuple[str | None, Any]]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for currency, amount in amounts:
        if currency is None or amount is None:
            continue
        try:
            totals[currency] = totals.get(currency, Decimal(0)) + Decimal(str(amount))
        except InvalidOperation:
            continue
    return dict(sorted(totals.items()))


def _rows(
    s: Session, org_id: int, items: Sequence[OutboxItem], administrations: dict[int, str], today: date
) -> list[WorklistRow]:
    by_adm: dict[int, set[str]] = {}
    for item in items:
        by_adm.setdefault(item.administration_id, set()).update(item.invoice_refs)
    invoices = {
        (adm, inv.provider_ref): inv
        for adm, refs in by_adm.items()
        for inv in repos.get_invoices(s, org_id, adm, sorted(refs))
    }
    names = {
        (adm, ref): debtor.name
        for adm in {i.administration_id for i in items}
        for ref, debtor in repos.get_debtors(s, org_id, adm, sorted({i.debtor_ref for i in items})).items()
    }
    ids = repos.debtor_ids(s, org_id, [(i.administration_id, i.debtor_ref) for i in items])
    rows = []
    for item in items:
        links = []
        for ref in item.invoice_refs:
            inv = invoices.get((item.administration_id, ref))
            links.append(InvoiceLink(inv.id, inv.number or ref, inv.due_date) if inv else InvoiceLink(None, ref, None))
        due = [link.due_date for link in links if link.due_date is not None]
        payload = item.payload
        key = (item.administration_id, item.debtor_ref)
        rows.append(
            WorklistRow(
                id=item.id,
                administration_id=item.administration_id,
                administration=administrations.get(item.administration_id, ""),
                debtor_id=ids.get(key),
                debtor=names.get(key, item.debtor_ref),
                debtor_ref=item.debtor_ref,
                invoices=tuple(links),
                days_overdue=max(0, (today - min(due)).days) if due else None,
                level=item.level,
                level_name=item.level_name,
                action=item.action.value,
                channel=item.channel.value,
                status=item.status.value,
                run_date=item.run_date,
                amount=payload.open_amount,
                currency=payload.currency,
                costs=payload.costs.total if payload.costs else None,
                interest=payload.interest,
                snoozed_until=payload.snoozed_until,
                last_error=item.last_error,
                claim=_claim(payload),
            )
        )
    return rows


def _claim(payload: OutboxPayload) -> tuple[date, Decimal, date] | None:
    paid_on, amount, check_on = payload.claimed_paid_on, payload.claimed_amount, payload.claim_check_on
    return (paid_on, amount, check_on) if paid_on and amount is not None and check_on else None
