"""Debtor management's records: letters sent with their evidence, contact moments, payment arrangements.

``connector.debtors`` and the outbox's delivery write them; the decide step reads the arrangements and the
14-day-letter evidence into every snapshot, and the hand-over dossier lists them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.errors import NotFound
from connector.storage import tables as t
from connector.storage.repos.scope import now, scoped, where_scoped


def record_letter_evidence(
    session: Session,
    org_id: int,
    administration_id: int,
    *,
    debtor_ref: str,
    invoice_refs: list[str],
    kind: str,
    sent_on: date | None,
    channel: str,
    stated_costs_minor: int | None,
    currency: str,
    sha256: str,
    document_ref: str | None = None,
    message_id: str | None = None,
    outbox_id: int | None = None,
    queued_on: date | None = None,
    dates_assume_sent_on: date | None = None,
    printed_term_ends: date | None = None,
    text_counts_from_receipt: bool | None = None,
    delivery_proof: str | None = None,
) -> int:
    """Store proof of a letter (``sent_on`` None: queued for post, not posted yet); idempotent: the same document
    on the same day (or the same document still queued) is one row."""
    same_day = t.LetterEvidence.sent_on.is_(None) if sent_on is None else t.LetterEvidence.sent_on == sent_on
    existing = session.scalar(
        select(t.LetterEvidence.id).where(
            *where_scoped(t.LetterEvidence, org_id, administration_id),
            t.LetterEvidence.debtor_ref == debtor_ref,
            t.LetterEvidence.kind == kind,
            t.LetterEvidence.sha256 == sha256,
            same_day,
        )
    )
    if existing is not None:
        return int(existing)
    row = t.LetterEvidence(
        org_id=org_id,
        administration_id=administration_id,
        debtor_ref=debtor_ref,
        invoice_refs=list(invoice_refs),
        kind=kind,
        sent_on=sent_on,
        channel=channel,
        stated_costs_minor=stated_costs_minor,
        currency=currency,
        sha256=sha256,
        document_ref=document_ref,
        message_id=message_id,
        created_at=now(session),
        outbox_id=outbox_id,
        queued_on=queued_on,
        dates_assume_sent_on=dates_assume_sent_on,
        printed_term_ends=printed_term_ends,
        text_counts_from_receipt=text_counts_from_receipt,
        delivery_proof=delivery_proof,
    )
    session.add(row)
    session.flush()
    return row.id


def letter_evidence(
    session: Session,
    org_id: int,
    administration_id: int,
    *,
    debtor_ref: str | None = None,
    kind: str | None = None,
) -> list[t.LetterEvidence]:
    query = scoped(t.LetterEvidence, org_id, administration_id)
    if debtor_ref is not None:
        query = query.where(t.LetterEvidence.debtor_ref == debtor_ref)
    if kind is not None:
        query = query.where(t.LetterEvidence.kind == kind)
    return list(session.scalars(query.order_by(t.LetterEvidence.id)))  # in the order they were made


def get_letter_evidence(session: Session, org_id: int, evidence_id: int) -> t.LetterEvidence:
    row = session.scalar(scoped(t.LetterEvidence, org_id).where(t.LetterEvidence.id == evidence_id))
    if row is None:
        raise NotFound(f"no letter {evidence_id} here")
    return row


def letters_for_post(session: Session, org_id: int, *, posted: bool, limit: int = 500) -> list[t.LetterEvidence]:
    """Letters that went to the post queue: still waiting to be posted (oldest first), or posted (latest first)."""
    query = scoped(t.LetterEvidence, org_id).where(t.LetterEvidence.queued_on.is_not(None))
    if posted:
        query = query.where(t.LetterEvidence.sent_on.is_not(None)).order_by(
            t.LetterEvidence.sent_on.desc(), t.LetterEvidence.id.desc()
        )
    else:
        query = query.where(t.LetterEvidence.sent_on.is_(None)).order_by(t.LetterEvidence.id)
    return list(session.scalars(query.limit(limit)))


def set_letter_received(session: Session, org_id: int, evidence_id: int, received_on: date) -> t.LetterEvidence:
    """Record proven receipt (track & trace, read receipt); it overrides the postal presumption."""
    row = get_letter_evidence(session, org_id, evidence_id)
    row.received_on = received_on
    return row


def record_contact_moment(
    session: Session,
    org_id: int,
    administration_id: int,
    *,
    debtor_ref: str,
    invoice_ref: str | None = None,
    at: datetime,
    channel: str,
    direction: str = "out",
    level: int | None = None,
    reason_code: str | None = None,
    outcome: str | None = None,
    note: str | None = None,
    promise_date: date | None = None,
    document_sha256: str | None = None,
) -> int:
    """Store one message, call, reply or note with a debtor (docs/credit-management.md#late-payment-reasons,
    docs/credit-management.md#the-debtor-file)."""
    row = t.ContactMoment(
        org_id=org_id,
        administration_id=administration_id,
        debtor_ref=debtor_ref,
        invoice_ref=invoice_ref,
        at=at,
        channel=channel,
        direction=direction,
        level=level,
        reason_code=reason_code,
        outcome=outcome,
        note=note,
        promise_date=promise_date,
        document_sha256=document_sha256,
    )
    session.add(row)
    session.flush()
    return row.id


def contact_moments(
    session: Session,
    org_id: int,
    administration_id: int,
    *,
    debtor_ref: str | None = None,
    invoice_ref: str | None = None,
) -> list[t.ContactMoment]:
    query = scoped(t.ContactMoment, org_id, administration_id)
    if debtor_ref is not None:
        query = query.where(t.ContactMoment.debtor_ref == debtor_ref)
    if invoice_ref is not None:
        query = query.where(t.ContactMoment.invoice_ref == invoice_ref)
    return list(session.scalars(query.order_by(t.ContactMoment.at, t.ContactMoment.id)))


def create_arrangement(
    session: Session,
    org_id: int,
    administration_id: int,
    *,
    debtor_ref: str,
    invoice_refs: list[str],
    agreed_on: date,
    schedule: Sequence[tuple[date, int]],
    currency: str,
    note: str | None = None,
) -> t.Arrangement:
    """A payment arrangement with its installments (``schedule``: due date and amount in minor units)."""
    plan = t.Arrangement(
        org_id=org_id,
        administration_id=administration_id,
        debtor_ref=debtor_ref,
        invoice_refs=list(invoice_refs),
        status="active",
        agreed_on=agreed_on,
        note=note,
        created_at=now(session),
    )
    session.add(plan)
    session.flush()
    for number, (due_date, amount_minor) in enumerate(schedule, start=1):
        session.add(
            t.Installment(
                org_id=org_id,
                administration_id=administration_id,
                arrangement_id=plan.id,
                number=number,
                due_date=due_date,
                amount_minor=amount_minor,
                currency=currency,
                paid=False,
            )
        )
    session.flush()
    return plan


def arrangements(
    session: Session,
    org_id: int,
    administration_id: int | None = None,
    *,
    status: str | None = None,
    debtor_ref: str | None = None,
) -> list[t.Arrangement]:
    query = scoped(t.Arrangement, org_id, administration_id)
    if status is not None:
        query = query.where(t.Arrangement.status == status)
    if debtor_ref is not None:
        query = query.where(t.Arrangement.debtor_ref == debtor_ref)
    return list(session.scalars(query.order_by(t.Arrangement.id)))


def get_arrangement(session: Session, org_id: int, arrangement_id: int) -> t.Arrangement:
    plan = session.scalar(scoped(t.Arrangement, org_id).where(t.Arrangement.id == arrangement_id))
    if plan is None:
        raise NotFound(f"arrangement {arrangement_id} not found")
    return plan


def installments(session: Session, org_id: int, arrangement_ids: Sequence[int]) -> dict[int, list[t.Installment]]:
    """The installments of each arrangement, in schedule order."""
    found: dict[int, list[t.Installment]] = {i: [] for i in arrangement_ids}
    if not arrangement_ids:
        return found
    rows = session.scalars(
        scoped(t.Installment, org_id)
        .where(t.Installment.arrangement_id.in_(list(arrangement_ids)))
        .order_by(t.Installment.arrangement_id, t.Installment.number)
    )
    for row in rows:
        found.setdefault(row.arrangement_id, []).append(row)
    return found
