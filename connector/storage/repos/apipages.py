"""Keyset-paged lists for the public API: debtors, invoices, the worklist, holds, promises, call logs and
arrangements, one page per query (debtors add one grouped query for what each owes).

Read by ``connector.apiviews`` (which the API's lists call). Each function returns at most ``limit`` rows with an id
above ``after_id``, in id order, with every filter in the WHERE clause, so a page costs the same number of queries
however many rows the organisation has, and pages are disjoint and complete (docs/api.md#pagination). Every query
is scoped to one organisation (and to one administration when given).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from connector.model.outbox import OutboxItem
from connector.storage import tables as t
from connector.storage.convert import outbox_row_to_model
from connector.storage.repos.scope import where_scoped


@dataclass(frozen=True)
class HoldRow:
    """A hold or a promise on an invoice (``invoice_id`` set) or on a whole debtor (``invoice_id`` None)."""

    id: int
    administration_id: int
    debtor_id: int | None
    debtor_ref: str
    invoice_id: int | None
    invoice_number: str | None
    reason: str | None
    until: date | None


@dataclass(frozen=True)
class CallRow:
    id: int
    administration_id: int
    debtor_id: int | None
    debtor_ref: str
    invoice_ref: str | None
    at: datetime
    outcome: str | None
    reason: str | None
    promise_date: date | None
    note: str | None


def invoice_marks(
    session: Session,
    org_id: int,
    *,
    kind: str,
    after_id: int,
    limit: int,
    administration_id: int | None = None,
) -> list[HoldRow]:
    """Invoices on hold (``kind="hold"``) or with a promise to pay (``kind="promise"``), by reminder-state id."""
    state = t.ReminderState
    marked = state.hold_reason.is_not(None) if kind == "hold" else state.promise_date.is_not(None)
    query = (
        select(
            state.id,
            state.administration_id,
            t.Invoice.id,
            t.Invoice.number,
            t.Invoice.debtor_ref,
            t.Debtor.id,
            state.invoice_ref,
            state.hold_reason,
            state.hold_until,
            state.promise_date,
        )
        .join(
            t.Invoice,
            and_(
                t.Invoice.org_id == org_id,
                t.Invoice.administration_id == state.administration_id,
                t.Invoice.provider_ref == state.invoice_ref,
            ),
        )
        .outerjoin(
            t.Debtor,
            and_(
                t.Debtor.org_id == org_id,
                t.Debtor.administration_id == t.Invoice.administration_id,
                t.Debtor.provider_ref == t.Invoice.debtor_ref,
            ),
        )
        .where(*where_scoped(state, org_id, administration_id), marked, state.id > after_id)
        .order_by(state.id)
        .limit(limit)
    )
    return [
        HoldRow(
            id=int(row_id),
            administration_id=int(adm),
            debtor_id=None if debtor_id is None else int(debtor_id),
            debtor_ref=str(debtor_ref),
            invoice_id=int(invoice_id),
            invoice_number=number or str(ref),
            reason=reason if kind == "hold" else None,
            until=until if kind == "hold" else promise,
        )
        for row_id, adm, invoice_id, number, debtor_ref, debtor_id, ref, reason, until, promise in session.execute(
            query
        )
    ]


def debtor_marks(
    session: Session,
    org_id: int,
    *,
    kind: str,
    after_id: int,
    limit: int,
    administration_id: int | None = None,
) -> list[HoldRow]:
    """Debtors on hold as a whole (``kind="hold"``) or with a promise covering all their invoices, by debtor id."""
    marked = t.Debtor.on_hold_reason.is_not(None) if kind == "hold" else t.Debtor.promise_date.is_not(None)
    query = (
        select(
            t.Debtor.id,
            t.Debtor.administration_id,
            t.Debtor.provider_ref,
            t.Debtor.on_hold_reason,
            t.Debtor.promise_date,
        )
        .where(
            *where_scoped(t.Debtor, org_id, administration_id),
            marked,
            t.Debtor.deleted.is_(False),
            t.Debtor.id > after_id,
        )
        .order_by(t.Debtor.id)
        .limit(limit)
    )
    return [
        HoldRow(
            id=int(row_id),
            administration_id=int(adm),
            debtor_id=int(row_id),
            debtor_ref=str(ref),
            invoice_id=None,
            invoice_number=None,
            reason=reason if kind == "hold" else None,
            until=None if kind == "hold" else promise,
        )
        for row_id, adm, ref, reason, promise in session.execute(query)
    ]


def calls_page(
    session: Session,
    org_id: int,
    *,
    after_id: int,
    limit: int,
    administration_id: int | None = None,
    debtor: tuple[int, str] | None = None,
) -> list[CallRow]:
    """Logged phone calls (contact moments on the phone channel), by id; ``debtor`` is (administration id, ref)."""
    moment = t.ContactMoment
    query = (
        select(moment, t.Debtor.id)
        .outerjoin(
            t.Debtor,
            and_(
                t.Debtor.org_id == org_id,
                t.Debtor.administration_id == moment.administration_id,
                t.Debtor.provider_ref == moment.debtor_ref,
            ),
        )
        .where(*where_scoped(moment, org_id, administration_id), moment.channel == "phone", moment.id > after_id)
    )
    if debtor is not None:
        query = query.where(moment.administration_id == debtor[0], moment.debtor_ref == debtor[1])
    rows = session.execute(query.order_by(moment.id).limit(limit))
    return [
        CallRow(
            id=m.id,
            administration_id=m.administration_id,
            debtor_id=None if debtor_id is None else int(debtor_id),
            debtor_ref=m.debtor_ref,
            invoice_ref=m.invoice_ref,
            at=m.at,
            outcome=m.outcome,
            reason=m.reason_code,
            promise_date=m.promise_date,
            note=m.note,
        )
        for m, debtor_id in rows
    ]


def arrangements_page(
    session: Session,
    org_id: int,
    *,
    after_id: int,
    limit: int,
    administration_id: int | None = None,
    status: str | None = None,
) -> list[tuple[t.Arrangement, int | None]]:
    """Payment arrangements by id, each with its debtor's row id; their schedules come from ``installments``."""
    plan = t.Arrangement
    query = (
        select(plan, t.Debtor.id)
        .outerjoin(
            t.Debtor,
            and_(
                t.Debtor.org_id == org_id,
                t.Debtor.administration_id == plan.administration_id,
                t.Debtor.provider_ref == plan.debtor_ref,
            ),
        )
        .where(*where_scoped(plan, org_id, administration_id), plan.id > after_id)
    )
    if status is not None:
        query = query.where(plan.status == status)
    return [
        (row, None if debtor_id is None else int(debtor_id))
        for row, debtor_id in session.execute(query.order_by(plan.id).limit(limit))
    ]


@dataclass(frozen=True)
class OpenSummary:
    """What one debtor owes: its open invoices and those overdue (amounts in minor units), the oldest due date."""

    open_invoices: int
    open_minor: int
    overdue_invoices: int
    overdue_minor: int
    oldest_due: date | None


def _debtor_text(text: str) -> Any:
    needle = text.strip()
    pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").lower() + "%"
    return or_(
        func.lower(t.Debtor.name).like(pattern, escape="\\"),
        func.lower(t.Debtor.provider_ref).like(pattern, escape="\\"),
        func.lower(func.coalesce(t.Debtor.customer_number, "")).like(pattern, escape="\\"),
    )


def debtors_page(
    session: Session,
    org_id: int,
    *,
    after_id: int,
    limit: int,
    administration_id: int | None = None,
    text: str | None = None,
) -> list[tuple[t.Debtor, str, str]]:
    """Debtors by id with their administration's name and currency; ``text`` is part of the name, reference or
    customer number, in any case."""
    query = (
        select(t.Debtor, t.Administration.name, t.Administration.currency)
        .join(t.Administration, t.Administration.id == t.Debtor.administration_id)
        .where(*where_scoped(t.Debtor, org_id, administration_id), t.Debtor.deleted.is_(False), t.Debtor.id > after_id)
    )
    if text:
        query = query.where(_debtor_text(text))
    rows = session.execute(query.order_by(t.Debtor.id).limit(limit))
    return [(debtor, str(name), str(currency)) for debtor, name, currency in rows]


def open_summaries(
    session: Session, org_id: int, debtors: Sequence[tuple[int, str]], today: date
) -> dict[tuple[int, str], OpenSummary]:
    """The open and overdue invoices of each (administration id, debtor reference), in one grouped query."""
    if not debtors:
        return {}
    inv = t.Invoice
    overdue = inv.due_date < today
    query = (
        select(
            inv.administration_id,
            inv.debtor_ref,
            func.count(),
            func.sum(inv.open_minor),
            func.sum(case((overdue, 1), else_=0)),
            func.sum(case((overdue, inv.open_minor), else_=0)),
            func.min(inv.due_date),
        )
        .where(
            *where_scoped(inv, org_id, sorted({adm for adm, _ in debtors})),
            inv.debtor_ref.in_(sorted({ref for _, ref in debtors})),
            inv.status == "open",
            inv.open_minor != 0,
            inv.deleted.is_(False),
        )
        .group_by(inv.administration_id, inv.debtor_ref)
    )
    return {
        (int(adm), str(ref)): OpenSummary(int(n), int(total or 0), int(late or 0), int(late_minor or 0), oldest)
        for adm, ref, n, total, late, late_minor, oldest in session.execute(query)
    }


def invoices_page(
    session: Session,
    org_id: int,
    *,
    after_id: int,
    limit: int,
    administration_id: int | None = None,
    debtor: str | None = None,
    overdue_on: date | None = None,
    status: str | None = None,
) -> list[tuple[t.Invoice, str, str | None]]:
    """Invoices by id with their administration's and debtor's names. ``debtor`` is a debtor's reference, customer
    number or whole name (any case); ``overdue_on`` keeps open invoices past their due date on that day."""
    inv = t.Invoice
    query = (
        select(inv, t.Administration.name, t.Debtor.name)
        .join(t.Administration, t.Administration.id == inv.administration_id)
        .outerjoin(
            t.Debtor,
            and_(
                t.Debtor.org_id == org_id,
                t.Debtor.administration_id == inv.administration_id,
                t.Debtor.provider_ref == inv.debtor_ref,
            ),
        )
        .where(*where_scoped(inv, org_id, administration_id), inv.deleted.is_(False), inv.id > after_id)
    )
    if debtor:
        query = query.where(
            or_(
                inv.debtor_ref == debtor,
                t.Debtor.customer_number == debtor,
                func.lower(t.Debtor.name) == debtor.casefold(),
            )
        )
    if overdue_on is not None:
        query = query.where(inv.status == "open", inv.open_minor != 0, inv.due_date < overdue_on)
    if status is not None:
        query = query.where(inv.status == status)
    rows = session.execute(query.order_by(inv.id).limit(limit))
    return [(row, str(adm), None if name is None else str(name)) for row, adm, name in rows]


def worklist_items_page(
    session: Session,
    org_id: int,
    *,
    after_id: int,
    limit: int,
    open_statuses: Sequence[str],
    closed_since: date,
    status: str | None = None,
) -> list[tuple[OutboxItem, str, str | None]]:
    """Outbox items that are open, or closed with a run date from ``closed_since`` on, by id, with their
    administration's and debtor's names."""
    item = t.OutboxItem
    query = (
        select(item, t.Administration.name, t.Debtor.name)
        .join(t.Administration, t.Administration.id == item.administration_id)
        .outerjoin(
            t.Debtor,
            and_(
                t.Debtor.org_id == org_id,
                t.Debtor.administration_id == item.administration_id,
                t.Debtor.provider_ref == item.debtor_ref,
            ),
        )
        .where(
            *where_scoped(item, org_id),
            or_(item.status.in_(list(open_statuses)), item.run_date >= closed_since),
            item.id > after_id,
        )
    )
    if status is not None:
        query = query.where(item.status == status)
    rows = session.execute(query.order_by(item.id).limit(limit))
    return [(outbox_row_to_model(row), str(adm), None if name is None else str(name)) for row, adm, name in rows]


@dataclass(frozen=True)
class AdministrationRow:
    """An administration with its connection's status and its invoice counts (open amount in minor units)."""

    administration: t.Administration
    connection_status: str
    invoices: int
    open_invoices: int
    open_minor: int


def administrations_page(
    session: Session, org_id: int, *, after_id: int, limit: int, administration_id: int | None = None
) -> list[AdministrationRow]:
    """Administrations by id with their counts: two queries (the page, then its invoices grouped) at any size."""
    query = (
        select(t.Administration, t.Connection.status)
        .join(t.Connection, t.Connection.id == t.Administration.connection_id)
        .where(*where_scoped(t.Administration, org_id), t.Administration.id > after_id)
    )
    if administration_id is not None:
        query = query.where(t.Administration.id == administration_id)
    page = list(session.execute(query.order_by(t.Administration.id).limit(limit)))
    if not page:
        return []
    inv = t.Invoice
    is_open = and_(inv.status == "open", inv.deleted.is_(False))
    grouped = session.execute(
        select(
            inv.administration_id,
            func.count(),
            func.sum(case((is_open, 1), else_=0)),
            func.sum(case((is_open, inv.open_minor), else_=0)),
        )
        .where(*where_scoped(inv, org_id, [adm.id for adm, _ in page]))
        .group_by(inv.administration_id)
    )
    counts = {int(adm): (int(n), int(opened or 0), int(minor or 0)) for adm, n, opened, minor in grouped}
    return [AdministrationRow(adm, str(status), *counts.get(adm.id, (0, 0, 0))) for adm, status in page]
