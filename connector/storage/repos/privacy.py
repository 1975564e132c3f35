"""Privacy: everything stored about one debtor (for an export or an erasure), and the retention purges' deletes.

``connector.debtors.privacy`` exports and erases one debtor's data; ``connector.debtors.retention`` runs the daily
purges (synced copies of a disconnected administration, letters whose claim can no longer be enforced). Every
function is scoped to its organisation like every other query.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from connector.storage import tables as t
from connector.storage.repos.scope import scoped, where_scoped


def debtor_rows(session: Session, org_id: int, administration_id: int, debtor_ref: str) -> dict[str, list[Any]]:
    """Every row that concerns one debtor, by table: the synced copies and our own dunning records."""
    invoices = list(
        session.scalars(
            scoped(t.Invoice, org_id, administration_id)
            .where(t.Invoice.debtor_ref == debtor_ref)
            .order_by(t.Invoice.id)
        )
    )
    refs = [inv.provider_ref for inv in invoices]
    plans = list(
        session.scalars(
            scoped(t.Arrangement, org_id, administration_id)
            .where(t.Arrangement.debtor_ref == debtor_ref)
            .order_by(t.Arrangement.id)
        )
    )

    def of(table: Any, *conditions: Any) -> list[Any]:
        query = scoped(table, org_id, administration_id).where(*conditions)
        return list(session.scalars(query.order_by(table.id)))

    about_debtor = t.AuditEntry.debtor_ref == debtor_ref
    if refs:
        about_debtor = or_(about_debtor, t.AuditEntry.invoice_ref.in_(refs))
    return {
        "debtors": of(t.Debtor, t.Debtor.provider_ref == debtor_ref),
        "invoices": invoices,
        "payments": of(t.Payment, t.Payment.invoice_ref.in_(refs)) if refs else [],
        "credit_notes": of(t.CreditNote, t.CreditNote.debtor_ref == debtor_ref),
        "reminder_states": of(t.ReminderState, t.ReminderState.invoice_ref.in_(refs)) if refs else [],
        "contact_moments": of(t.ContactMoment, t.ContactMoment.debtor_ref == debtor_ref),
        "letters": of(t.LetterEvidence, t.LetterEvidence.debtor_ref == debtor_ref),
        "arrangements": plans,
        "installments": (of(t.Installment, t.Installment.arrangement_id.in_([p.id for p in plans])) if plans else []),
        "outbox": of(t.OutboxItem, t.OutboxItem.debtor_ref == debtor_ref),
        "audit": of(t.AuditEntry, about_debtor),
    }


def erase_debtor_rows(session: Session, org_id: int, administration_id: int, debtor_ref: str) -> dict[str, int]:
    """Delete every row of ``debtor_rows``; returns how many rows of each table went."""
    rows = debtor_rows(session, org_id, administration_id, debtor_ref)
    counts: dict[str, int] = {}
    for name in ("installments", "arrangements", *(n for n in rows if n not in ("installments", "arrangements"))):
        for row in rows[name]:
            session.delete(row)
        counts[name] = len(rows[name])
    session.flush()
    return counts


def purge_synced_copies(session: Session, org_id: int, administration_id: int) -> dict[str, int]:
    """Delete the synced copies of one administration (invoices, credit notes, payments, debtors) and its sync
    cursors, so a reconnect starts with a full sync. Our own dunning records stay."""
    counts: dict[str, int] = {}
    for name, table in (
        ("payments", t.Payment),
        ("credit_notes", t.CreditNote),
        ("invoices", t.Invoice),
        ("debtors", t.Debtor),
        ("sync_cursors", t.SyncCursor),
    ):
        result = session.execute(delete(table).where(*where_scoped(table, org_id, administration_id)))
        counts[name] = int(getattr(result, "rowcount", 0) or 0)
    return counts


def all_letter_evidence(session: Session, org_id: int) -> list[t.LetterEvidence]:
    """Every letter on record for the organisation (the retention purge judges each)."""
    return list(session.scalars(scoped(t.LetterEvidence, org_id).order_by(t.LetterEvidence.id)))


def invoice_closing(session: Session, org_id: int, administration_id: int, refs: Sequence[str]) -> dict[str, Any]:
    """For each invoice ref: (status, paid_on) of the synced copy, where one is still stored."""
    if not refs:
        return {}
    rows = session.execute(
        select(t.Invoice.provider_ref, t.Invoice.status, t.Invoice.paid_on).where(
            *where_scoped(t.Invoice, org_id, administration_id), t.Invoice.provider_ref.in_(list(refs))
        )
    )
    return {str(ref): (status, paid_on) for ref, status, paid_on in rows}


def delete_letter_evidence(session: Session, org_id: int, evidence_ids: Sequence[int]) -> int:
    if not evidence_ids:
        return 0
    result = session.execute(
        delete(t.LetterEvidence).where(
            *where_scoped(t.LetterEvidence, org_id), t.LetterEvidence.id.in_(list(evidence_ids))
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
