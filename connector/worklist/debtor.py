"""A debtor as the debtor page shows it: what it owes, its flags and contact details, and one timeline.

Sits next to ``connector.worklist.items`` (called by the dashboard and the API); reads through storage only. The
timeline puts everything that happened with the debtor in one chronological list: invoices issued and paid,
payments, messages, letters, calls and notes (contact moments), and every audit entry about the debtor or its
invoices (decisions with the rule that made them, holds, promises, arrangements, skips) with its "why" and who
acted. Entries carry a ``kind`` the page translates and the facts it shows, never a sentence in one language;
see docs/worklist.md#the-debtor-page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from connector import clock
from connector.errors import NotFound
from connector.model import InvoiceStatus, Money
from connector.runtime import Runtime
from connector.storage import repos, tables
from connector.storage.db import Session

TIMELINE_LIMIT = 500  # the newest entries a page shows


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime  # when it happened (UTC; a plain date counts from the start of that day)
    kind: str  # invoice | paid | payment | contact | letter | audit kinds (decision, hold, promise, ...)
    invoice_id: int | None = None
    invoice: str | None = None  # the invoice number it concerns
    amount: Decimal | None = None
    currency: str | None = None
    channel: str | None = None
    direction: str | None = None
    outcome: str | None = None
    reason: str | None = None
    note: str | None = None
    rule: str | None = None  # the rule behind a decision or non-decision (its "why")
    why: dict[str, str] = field(default_factory=dict)  # the inputs the rule looked at
    by: str | None = None  # who acted, where a person did
    detail: str | None = None  # the audit entry's own line, for the kinds the page has no words for


@dataclass(frozen=True)
class DebtorInvoice:
    id: int
    number: str
    invoice_date: date | None
    due_date: date
    total: Decimal
    open_amount: Decimal
    currency: str
    status: str
    days_overdue: int | None
    level_name: str | None
    on_hold: bool


@dataclass(frozen=True)
class DebtorView:
    id: int
    administration_id: int
    administration: str
    provider: str
    reference: str
    name: str
    company_name: str | None
    email: str | None
    phone: str | None
    kvk_number: str | None
    vat_number: str | None
    customer_number: str | None
    address: dict[str, Any]
    language: str | None
    segment: str
    policy: str
    risk_class: str | None
    credit_limit: Decimal | None
    credit_stop: bool
    blocked_at_provider: bool
    on_hold_reason: str | None
    promise_date: date | None
    insolvent: bool
    collectible: str
    currency: str
    open_amount: Decimal
    overdue_amount: Decimal
    open_invoices: int
    overdue_invoices: int
    over_limit: bool
    invoices: list[DebtorInvoice]
    timeline: list[TimelineEntry]


def _money(minor: int, currency: str) -> Decimal:
    return Money.from_minor(minor, currency).amount


def _start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def debtor_view(rt: Runtime, org_id: int, debtor_id: int) -> DebtorView:
    """The debtor page's facts; another organisation's debtor (or none at all) is ``NotFound``."""
    with rt.sessions() as s:
        debtor = repos.debtor_by_id(s, org_id, debtor_id)
        if debtor is None:
            raise NotFound(f"there is no debtor {debtor_id}")
        adm = repos.get_administration(s, org_id, debtor.administration_id)
        today = clock.today(adm.timezone, clock=rt.clock)
        rows = repos.debtor_invoices(s, org_id, adm.id, debtor.provider_ref)
        states = repos.reminder_states(s, org_id, adm.id, [r.provider_ref for r in rows])
        invoices = [_invoice(row, states.get(row.provider_ref), today) for row in rows]
        timeline = _timeline(s, org_id, adm.id, debtor, rows)
    open_items = [i for i in invoices if i.days_overdue is not None]
    overdue = [i for i in open_items if i.days_overdue]
    open_amount = sum((i.open_amount for i in open_items), Decimal(0))
    limit = _money(debtor.credit_limit_minor, adm.currency) if debtor.credit_limit_minor is not None else None
    segment = debtor.segment_override or debtor.segment
    return DebtorView(
        id=debtor.id,
        administration_id=adm.id,
        administration=adm.name,
        provider=adm.provider,
        reference=debtor.provider_ref,
        name=debtor.name,
        company_name=debtor.company_name,
        email=debtor.email,
        phone=debtor.phone,
        kvk_number=debtor.kvk_number,
        vat_number=debtor.vat_number,
        customer_number=debtor.customer_number,
        address=dict(debtor.address or {}),
        language=debtor.language,
        segment=segment,
        policy=debtor.policy_override or segment,
        risk_class=debtor.risk_class,
        credit_limit=limit,
        credit_stop=debtor.credit_stop,
        blocked_at_provider=debtor.blocked,
        on_hold_reason=debtor.on_hold_reason,
        promise_date=debtor.promise_date if debtor.promise_date and debtor.promise_date >= today else None,
        insolvent=debtor.insolvent,
        collectible=debtor.collectible,
        currency=adm.currency,
        open_amount=open_amount,
        overdue_amount=sum((i.open_amount for i in overdue), Decimal(0)),
        open_invoices=len(open_items),
        overdue_invoices=len(overdue),
        over_limit=limit is not None and open_amount > limit,
        invoices=invoices,
        timeline=timeline,
    )


def _invoice(row: tables.Invoice, state: tables.ReminderState | None, today: date) -> DebtorInvoice:
    is_open = row.status == InvoiceStatus.OPEN.value and row.open_minor != 0
    return DebtorInvoice(
        id=row.id,
        number=row.number or row.provider_ref,
        invoice_date=row.invoice_date,
        due_date=row.due_date,
        total=_money(row.total_minor, row.currency),
        open_amount=_money(row.open_minor, row.currency),
        currency=row.currency,
        status=row.status,
        days_overdue=max(0, (today - row.due_date).days) if is_open else None,
        level_name=state.level_name if state else None,
        on_hold=bool(row.disputed or (state and state.hold_reason)),
    )


def _timeline(
    s: Session, org_id: int, adm_id: int, debtor: tables.Debtor, invoices: list[tables.Invoice]
) -> list[TimelineEntry]:
    numbers = {i.provider_ref: (i.id, i.number or i.provider_ref) for i in invoices}
    entries: list[TimelineEntry] = []

    def about(ref: str | None) -> dict[str, Any]:
        found = numbers.get(ref or "")
        return {"invoice_id": found[0], "invoice": found[1]} if found else {"invoice": ref}

    for inv in invoices:
        issued = _start(inv.invoice_date or inv.due_date)
        amount = _money(inv.total_minor, inv.currency)
        entries.append(
            TimelineEntry(at=issued, kind="invoice", amount=amount, currency=inv.currency, **about(inv.provider_ref))
        )
        if inv.paid_on is not None:
            entries.append(
                TimelineEntry(
                    at=_start(inv.paid_on), kind="paid", amount=amount, currency=inv.currency, **about(inv.provider_ref)
                )
            )
    for pay in repos.invoice_payments(s, org_id, adm_id, list(numbers)):
        entries.append(
            TimelineEntry(
                at=_start(pay.payment_date),
                kind="payment",
                amount=_money(pay.amount_minor, pay.currency),
                currency=pay.currency,
                **about(pay.invoice_ref),
            )
        )
    for moment in repos.contact_moments(s, org_id, adm_id, debtor_ref=debtor.provider_ref):
        entries.append(
            TimelineEntry(
                at=moment.at,
                kind="call" if moment.channel == "phone" else "contact",
                channel=moment.channel,
                direction=moment.direction,
                outcome=moment.outcome,
                reason=moment.reason_code,
                note=moment.note,
                **about(moment.invoice_ref),
            )
        )
    for entry in repos.debtor_audit(s, org_id, adm_id, debtor.provider_ref, list(numbers)):
        if entry.kind in ("call", "contact", "preview"):
            continue  # a call or contact is its contact moment above; a safe-mode preview happened nowhere
        data = dict(entry.data or {})
        found_why = data.get("why")
        why: dict[str, Any] = found_why if isinstance(found_why, dict) else {}
        entries.append(
            TimelineEntry(
                at=entry.created_at,
                kind=entry.kind,
                rule=str(why.get("rule")) if why.get("rule") else None,
                why={str(k): str(v) for k, v in dict(why.get("inputs") or {}).items()},
                reason=str(data["reason"]) if data.get("reason") else None,
                by=str(data["by"]) if data.get("by") else None,
                detail=entry.message,
                **about(entry.invoice_ref),
            )
        )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:TIMELINE_LIMIT]
