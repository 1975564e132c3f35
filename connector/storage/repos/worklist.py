"""The queries behind the worklist, the debtor and invoice pages and the global search.

Read by ``connector.worklist`` (which the dashboard, the API and the CLI call): one page of open outbox items at
a time (keyset paging on the item id, filtered in SQL), every open item's amount for the totals, a debtor or an
invoice by its row id (how the pages link to them), a debtor's invoices and payments for its timeline, and the
search over invoice numbers, debtor names, customer numbers and KvK numbers. Every query is scoped to one
organisation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from connector.model.outbox import OutboxItem, OutboxStatus
from connector.storage import tables as t
from connector.storage.convert import outbox_row_to_model
from connector.storage.repos.scope import scoped, where_scoped


@dataclass(frozen=True)
class WorklistFilter:
    """Which open items a worklist page shows; ``None`` leaves a field unfiltered.

    ``visible_by`` hides items snoozed (or waiting for a retry) past that instant; ``debtors`` are
    (administration id, debtor reference) pairs.
    """

    statuses: tuple[OutboxStatus, ...]
    administration_ids: tuple[int, ...] | None = None
    level_names: tuple[str, ...] | None = None
    channels: tuple[str, ...] | None = None
    debtors: tuple[tuple[int, str], ...] | None = None
    visible_by: datetime | None = None
    snoozed_after: datetime | None = None


def _conditions(org_id: int, where: WorklistFilter) -> list[Any]:
    item = t.OutboxItem
    conditions: list[Any] = [*where_scoped(item, org_id, where.administration_ids)]
    conditions.append(item.status.in_([OutboxStatus(s).value for s in where.statuses]))
    if where.level_names is not None:
        conditions.append(item.level_name.in_(list(where.level_names)))
    if where.channels is not None:
        conditions.append(item.channel.in_(list(where.channels)))
    if where.debtors is not None:
        pairs = [(item.administration_id == adm) & (item.debtor_ref == ref) for adm, ref in where.debtors]
        conditions.append(or_(*pairs) if pairs else item.id.is_(None))
    if where.visible_by is not None:
        conditions.append(item.next_attempt_at.is_(None) | (item.next_attempt_at <= where.visible_by))
    if where.snoozed_after is not None:
        conditions.append(item.next_attempt_at > where.snoozed_after)
    return conditions


def worklist_page(
    session: Session, org_id: int, where: WorklistFilter, *, after_id: int | None = None, limit: int = 50
) -> list[OutboxItem]:
    """Up to ``limit`` open items after ``after_id``, oldest first (keyset paging: stable while items close)."""
    query = select(t.OutboxItem).where(*_conditions(org_id, where))
    if after_id is not None:
        query = query.where(t.OutboxItem.id > after_id)
    rows = session.scalars(query.order_by(t.OutboxItem.id).limit(limit))
    return [outbox_row_to_model(row) for row in rows]


def worklist_amounts(session: Session, org_id: int, where: WorklistFilter) -> list[tuple[str | None, Any]]:
    """(currency, open amount) of every item the filter selects: what the worklist's totals add up."""
    rows = session.execute(select(t.OutboxItem.payload).where(*_conditions(org_id, where)))
    return [(payload.get("currency"), payload.get("open_amount")) for (payload,) in rows]


def worklist_steps(session: Session, org_id: int) -> list[tuple[str, str]]:
    """The distinct (level name, channel) pairs of the organisation's outbox: the choices of the step filter."""
    query = (
        select(t.OutboxItem.level_name, t.OutboxItem.channel)
        .where(*where_scoped(t.OutboxItem, org_id))
        .distinct()
        .order_by(t.OutboxItem.level_name, t.OutboxItem.channel)
    )
    return [(str(name), str(channel)) for name, channel in session.execute(query)]


def debtor_by_id(session: Session, org_id: int, debtor_id: int) -> t.Debtor | None:
    return session.scalar(scoped(t.Debtor, org_id).where(t.Debtor.id == debtor_id, t.Debtor.deleted.is_(False)))


def invoice_by_id(session: Session, org_id: int, invoice_id: int) -> t.Invoice | None:
    return session.scalar(scoped(t.Invoice, org_id).where(t.Invoice.id == invoice_id))


def debtor_invoices(session: Session, org_id: int, administration_id: int, debtor_ref: str) -> list[t.Invoice]:
    """Every invoice of one debtor (open or not), oldest first."""
    query = scoped(t.Invoice, org_id, administration_id).where(
        t.Invoice.debtor_ref == debtor_ref, t.Invoice.deleted.is_(False)
    )
    return list(session.scalars(query.order_by(t.Invoice.invoice_date, t.Invoice.due_date, t.Invoice.id)))


def invoice_payments(
    session: Session, org_id: int, administration_id: int, invoice_refs: Sequence[str]
) -> list[t.Payment]:
    """The payments booked against ``invoice_refs``, oldest first."""
    if not invoice_refs:
        return []
    query = scoped(t.Payment, org_id, administration_id).where(t.Payment.invoice_ref.in_(list(invoice_refs)))
    return list(session.scalars(query.order_by(t.Payment.payment_date, t.Payment.id)))


def debtor_ids(session: Session, org_id: int, pairs: Sequence[tuple[int, str]]) -> dict[tuple[int, str], int]:
    """The row ids of debtors named by (administration id, reference): how rows link to the debtor page."""
    found: dict[tuple[int, str], int] = {}
    by_adm: dict[int, list[str]] = {}
    for adm, ref in pairs:
        by_adm.setdefault(adm, []).append(ref)
    for adm, refs in by_adm.items():
        query = select(t.Debtor.id, t.Debtor.provider_ref).where(
            *where_scoped(t.Debtor, org_id, adm), t.Debtor.provider_ref.in_(sorted(set(refs)))
        )
        found.update({(adm, str(ref)): int(row_id) for row_id, ref in session.execute(query)})
    return found


def search_debtors(session: Session, org_id: int, text: str, *, limit: int = 20) -> list[t.Debtor]:
    """Debtors whose name contains ``text`` (any case), or whose KvK or customer number is ``text``."""
    needle = text.strip()
    if not needle:
        return []
    pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").lower() + "%"
    compact = needle.replace(" ", "")
    query = scoped(t.Debtor, org_id).where(
        t.Debtor.deleted.is_(False),
        func.lower(t.Debtor.name).like(pattern, escape="\\")
        | (t.Debtor.kvk_number == compact)
        | (t.Debtor.customer_number == needle),
    )
    return list(session.scalars(query.order_by(t.Debtor.name, t.Debtor.id).limit(limit)))


def search_invoices(session: Session, org_id: int, text: str, *, limit: int = 20) -> list[t.Invoice]:
    """Invoices whose number is ``text`` or starts with it (any case), or whose provider reference is ``text``."""
    needle = text.strip()
    if not needle:
        return []
    pattern = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").lower() + "%"
    query = scoped(t.Invoice, org_id).where(
        t.Invoice.deleted.is_(False),
        func.lower(t.Invoice.number).like(pattern, escape="\\") | (t.Invoice.provider_ref == needle),
    )
    return list(session.scalars(query.order_by(t.Invoice.number, t.Invoice.id).limit(limit)))
