"""What sync stores: debtors, invoices, credit notes and payments of an administration, with the stream cursors.

``connector.sync`` upserts each page together with its cursor in one transaction; everything downstream (the
decide step, the outbox's freshness gate, reports, debtor management) reads the rows back from here. Rows are
upserted by ``provider_ref`` and only count as changed when a value differs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from connector import model
from connector.errors import ValueTooLong
from connector.storage import tables as t
from connector.storage.repos.scope import now, scoped, where_scoped

Row = TypeVar("Row", t.Debtor, t.Invoice, t.Payment, t.CreditNote)


def get_cursor(session: Session, org_id: int, administration_id: int, stream: str) -> str | None:
    row = session.get(t.SyncCursor, (administration_id, stream))
    return row.cursor if row is not None and row.org_id == org_id else None


def set_cursor(session: Session, org_id: int, administration_id: int, stream: str, cursor: str | None) -> None:
    row = session.get(t.SyncCursor, (administration_id, stream))
    if row is None:
        session.add(
            t.SyncCursor(
                administration_id=administration_id,
                stream=stream,
                org_id=org_id,
                cursor=cursor,
                updated_at=now(session),
            )
        )
    elif row.org_id == org_id:
        row.cursor = cursor
        row.updated_at = now(session)


_STREAM_TABLES: dict[str, Any] = {
    "debtors": t.Debtor,
    "invoices": t.Invoice,
    "payments": t.Payment,
    "credit_notes": t.CreditNote,
}


def known_versions(
    session: Session, org_id: int, administration_id: int, stream: str, refs: Sequence[str]
) -> dict[str, str]:
    table = _STREAM_TABLES[stream]
    found: dict[str, str] = {}
    for chunk in _chunks(list(refs), 500):
        rows = session.execute(
            select(table.provider_ref, table.provider_version).where(
                *where_scoped(table, org_id, administration_id), table.provider_ref.in_(chunk)
            )
        )
        found.update({ref: version for ref, version in rows if version is not None})
    return found


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _existing(
    session: Session, table: type[Row], org_id: int, administration_id: int, refs: list[str]
) -> dict[str, Row]:
    existing: dict[str, Row] = {}
    for chunk in _chunks(refs, 500):
        rows = session.scalars(scoped(table, org_id, administration_id).where(table.provider_ref.in_(chunk)))
        existing.update({row.provider_ref: row for row in rows})
    return existing


def check_fits(table: type[t.Base], value: dict[str, Any], ref: object = None) -> None:
    """A provider's string longer than its column is an error naming the field, before the database sees it
    (PostgreSQL enforces the lengths, SQLite does not: docs/architecture.md#column-lengths). ``ref`` names the
    record (its ``provider_ref`` by default)."""
    columns = table.__table__.columns
    for key, item in value.items():
        length = getattr(columns[key].type, "length", None) if key in columns else None
        if isinstance(item, str) and length is not None and len(item) > length:
            raise ValueTooLong(
                f"{table.__tablename__}.{key} of record {str(value.get('provider_ref', ref))[:100]} is {len(item)} "
                f"characters, longer than the {length} we store: nothing of this page was stored"
            )


def _upsert(
    session: Session, table: type[Row], org_id: int, administration_id: int, values: list[dict[str, Any]]
) -> int:
    """Insert or update rows by provider_ref; returns how many rows were new or changed."""
    for value in values:
        check_fits(table, value)
    existing = _existing(session, table, org_id, administration_id, [v["provider_ref"] for v in values])
    changed = 0
    for value in values:
        row = existing.get(value["provider_ref"])
        if row is None:
            row = table(org_id=org_id, administration_id=administration_id, **value)
            session.add(row)
            existing[value["provider_ref"]] = row
            changed += 1
            continue
        dirty = False
        for key, new in value.items():
            if key != "synced_at" and getattr(row, key) != new:
                setattr(row, key, new)
                dirty = True
        row.synced_at = value["synced_at"]
        changed += int(dirty)
    session.flush()
    return changed


def upsert_debtors(
    session: Session, org_id: int, administration_id: int, debtors: Sequence[model.Debtor], now: datetime
) -> int:
    values = [
        {
            "provider_ref": d.provider_ref,
            "name": d.name,
            "company_name": d.company_name,
            "email": d.email,
            "phone": d.phone,
            "kvk_number": d.kvk_number,
            "vat_number": d.vat_number,
            "segment": d.segment.value,
            "address": d.address.model_dump(),
            "language": d.language,
            "customer_number": d.customer_number,
            "blocked": d.blocked,
            "provider_version": d.provider_version,
            "updated_at": d.updated_at,
            "synced_at": now,
            "deleted": False,
        }
        for d in debtors
    ]
    return _upsert(session, t.Debtor, org_id, administration_id, values)


def upsert_invoices(
    session: Session, org_id: int, administration_id: int, invoices: Sequence[model.Invoice], now: datetime
) -> int:
    values = []
    for inv in invoices:
        values.append(
            {
                "provider_ref": inv.provider_ref,
                "number": inv.number,
                "debtor_ref": inv.debtor_ref,
                "invoice_date": inv.invoice_date,
                "due_date": inv.due_date,
                "payment_term_days": inv.payment_term_days,
                "currency": inv.currency,
                "total_minor": model.Money(amount=inv.total, currency=inv.currency).to_minor(),
                "open_minor": inv.open_money.to_minor(),
                "status": inv.status.value,
                "provider_state": inv.provider_state,
                "provider_version": inv.provider_version,
                "payment_url": inv.payment_url,
                "reference": inv.reference,
                "paused_at_provider": inv.paused_at_provider,
                "provider_reminder_count": inv.provider_reminder_count,
                "disputed": inv.disputed,
                "updated_at": inv.updated_at,
                "synced_at": now,
                "deleted": False,
            }
        )
    return _upsert(session, t.Invoice, org_id, administration_id, values)


def upsert_payments(
    session: Session, org_id: int, administration_id: int, payments: Sequence[model.Payment], now: datetime
) -> int:
    values = [
        {
            "provider_ref": p.provider_ref,
            "invoice_ref": p.invoice_ref,
            "payment_date": p.payment_date,
            "amount_minor": model.Money(amount=p.amount, currency=p.currency).to_minor(),
            "currency": p.currency,
            "kind": p.kind,
            "provider_version": p.provider_version,
            "synced_at": now,
        }
        for p in payments
    ]
    return _upsert(session, t.Payment, org_id, administration_id, values)


def upsert_credit_notes(
    session: Session, org_id: int, administration_id: int, notes: Sequence[model.CreditNote], now: datetime
) -> int:
    values = [
        {
            "provider_ref": c.provider_ref,
            "number": c.number,
            "debtor_ref": c.debtor_ref,
            "issue_date": c.issue_date,
            "currency": c.currency,
            "total_minor": model.Money(amount=c.total, currency=c.currency).to_minor(),
            "remaining_minor": model.Money(amount=c.remaining, currency=c.currency).to_minor(),
            "invoice_ref": c.invoice_ref,
            "provider_version": c.provider_version,
            "synced_at": now,
        }
        for c in notes
    ]
    return _upsert(session, t.CreditNote, org_id, administration_id, values)


def mark_deleted(session: Session, org_id: int, administration_id: int, stream: str, refs: Sequence[str]) -> int:
    table = _STREAM_TABLES[stream]
    if not refs or not hasattr(table, "deleted"):
        return 0
    values: dict[str, Any] = {"deleted": True}
    if table is t.Invoice:
        values["status"] = model.InvoiceStatus.VOIDED.value
    result = session.execute(
        update(table)
        .where(*where_scoped(table, org_id, administration_id), table.provider_ref.in_(refs))
        .values(**values)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def get_invoices(
    session: Session,
    org_id: int,
    administration_id: int,
    refs: Sequence[str] | None = None,
    *,
    open_only: bool = False,
) -> list[t.Invoice]:
    query = scoped(t.Invoice, org_id, administration_id)
    if refs is not None:
        query = query.where(t.Invoice.provider_ref.in_(list(refs)))
    if open_only:
        query = query.where(t.Invoice.status == model.InvoiceStatus.OPEN.value, t.Invoice.deleted.is_(False))
    return list(session.scalars(query.order_by(t.Invoice.due_date, t.Invoice.id)))


def find_invoices(session: Session, org_id: int, ref: str, administration_id: int | None = None) -> list[t.Invoice]:
    """Invoices a person names: by the number on the invoice or by the provider's reference, in any
    administration of the organisation (a number may repeat across administrations) or in the one given."""
    query = scoped(t.Invoice, org_id, administration_id).where(
        (t.Invoice.provider_ref == ref) | (t.Invoice.number == ref)
    )
    return list(session.scalars(query.order_by(t.Invoice.administration_id, t.Invoice.id)))


def find_debtors(session: Session, org_id: int, ref: str, administration_id: int | None = None) -> list[t.Debtor]:
    """Debtors a person names: by the provider's reference or by customer number, like ``find_invoices``."""
    query = scoped(t.Debtor, org_id, administration_id).where(
        (t.Debtor.provider_ref == ref) | (t.Debtor.customer_number == ref)
    )
    return list(session.scalars(query.order_by(t.Debtor.administration_id, t.Debtor.id)))


def get_debtors(
    session: Session, org_id: int, administration_id: int, refs: Sequence[str] | None = None
) -> dict[str, t.Debtor]:
    query = scoped(t.Debtor, org_id, administration_id)
    if refs is not None:
        query = query.where(t.Debtor.provider_ref.in_(list(refs)))
    return {d.provider_ref: d for d in session.scalars(query)}


def get_payments(session: Session, org_id: int, administration_id: int) -> list[t.Payment]:
    return list(session.scalars(scoped(t.Payment, org_id, administration_id)))


def counts(session: Session, org_id: int, administration_ids: Sequence[int]) -> dict[str, int]:
    def count(table: Any, *extra: Any) -> int:
        return int(
            session.scalar(
                select(func.count()).select_from(table).where(*where_scoped(table, org_id, administration_ids), *extra)
            )
            or 0
        )

    open_minor = session.scalar(
        select(func.coalesce(func.sum(t.Invoice.open_minor), 0)).where(
            *where_scoped(t.Invoice, org_id, administration_ids),
            t.Invoice.status == model.InvoiceStatus.OPEN.value,
            t.Invoice.deleted.is_(False),
        )
    )
    return {
        "open_minor": int(open_minor or 0),
        "invoices": count(t.Invoice),
        "open_invoices": count(
            t.Invoice, t.Invoice.status == model.InvoiceStatus.OPEN.value, t.Invoice.deleted.is_(False)
        ),
        "payments": count(t.Payment),
        "debtors": count(t.Debtor),
        "credit_notes": count(t.CreditNote),
    }


def open_by_currency(session: Session, org_id: int, administration_ids: Sequence[int]) -> dict[str, int]:
    """Open amounts in minor units per currency over the administrations (a practice's clients keep books in
    several currencies: never summed across them)."""
    rows = session.execute(
        select(t.Invoice.currency, func.sum(t.Invoice.open_minor))
        .where(
            *where_scoped(t.Invoice, org_id, administration_ids),
            t.Invoice.status == model.InvoiceStatus.OPEN.value,
            t.Invoice.deleted.is_(False),
        )
        .group_by(t.Invoice.currency)
        .order_by(t.Invoice.currency)
    )
    return {str(currency): int(total or 0) for currency, total in rows}
