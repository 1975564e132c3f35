"""The debtor portal's rows: personal links (create, find, revoke, mark used) and the answers given through them.

Used by ``connector.auth.portal`` (links: issued by the outbox with every reminder, checked by the portal page) and
``connector.portal`` (answers). Only hashes of tokens and short codes are stored. ``find_portal_code`` is the one
unscoped lookup: a short code typed from a letter names its organisation by itself, like an API key
(docs/portal.md#links).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from connector.model.outbox import OutboxAction, OutboxItem, OutboxStatus
from connector.storage import tables as t
from connector.storage.convert import outbox_row_to_model
from connector.storage.repos.scope import now, scoped, where_scoped
from connector.storage.tables_portal import PortalAnswer, PortalLink


def create_portal_link(
    session: Session,
    org_id: int,
    administration_id: int,
    *,
    debtor_ref: str,
    lookup: str,
    code_hash: str | None,
    expires_at: datetime,
    outbox_key: str | None = None,
) -> PortalLink:
    row = PortalLink(
        org_id=org_id,
        administration_id=administration_id,
        debtor_ref=debtor_ref,
        lookup=lookup,
        code_hash=code_hash,
        outbox_key=(outbox_key or "")[:200] or None,
        created_at=now(session),
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return row


def find_portal_link(session: Session, org_id: int, lookup: str) -> PortalLink | None:
    """The link whose token's random part hashes to ``lookup``, in this organisation only."""
    return session.scalar(scoped(PortalLink, org_id).where(PortalLink.lookup == lookup))


def get_portal_link(session: Session, org_id: int, link_id: int) -> PortalLink | None:
    return session.scalar(scoped(PortalLink, org_id).where(PortalLink.id == link_id))


def find_portal_code(session: Session, code_hash: str) -> PortalLink | None:
    """The link a letter's short code belongs to (unscoped: the code names its organisation)."""
    return session.scalar(select(PortalLink).where(PortalLink.code_hash == code_hash))


def portal_links(session: Session, org_id: int, administration_id: int, debtor_ref: str) -> list[PortalLink]:
    query = scoped(PortalLink, org_id, administration_id).where(PortalLink.debtor_ref == debtor_ref)
    return list(session.scalars(query.order_by(PortalLink.id)))


def revoke_portal_links(
    session: Session, org_id: int, administration_id: int, debtor_ref: str, *, link_id: int | None = None
) -> int:
    """Revoke a debtor's links (or one of them); returns how many were still usable."""
    conditions = [*where_scoped(PortalLink, org_id, administration_id), PortalLink.debtor_ref == debtor_ref]
    if link_id is not None:
        conditions.append(PortalLink.id == link_id)
    result: Any = session.execute(
        update(PortalLink).where(*conditions, PortalLink.revoked_at.is_(None)).values(revoked_at=now(session))
    )
    return int(result.rowcount or 0)


def mark_portal_link_used(session: Session, org_id: int, link_id: int) -> None:
    session.execute(
        update(PortalLink)
        .where(*where_scoped(PortalLink, org_id), PortalLink.id == link_id)
        .values(last_used_at=now(session))
    )


def add_portal_answer(
    session: Session,
    org_id: int,
    administration_id: int,
    *,
    link_id: int,
    debtor_ref: str,
    kind: str,
    invoice_refs: Sequence[str],
    status: str = "open",
    reason: str | None = None,
    message: str | None = None,
    paid_on: date | None = None,
    amount_minor: int | None = None,
    currency: str | None = None,
    terms: int | None = None,
    arrangement_id: int | None = None,
    check_on: date | None = None,
) -> PortalAnswer:
    row = PortalAnswer(
        org_id=org_id,
        administration_id=administration_id,
        link_id=link_id,
        debtor_ref=debtor_ref,
        kind=kind,
        invoice_refs=list(invoice_refs),
        status=status,
        reason=reason,
        message=message,
        paid_on=paid_on,
        amount_minor=amount_minor,
        currency=currency,
        terms=terms,
        arrangement_id=arrangement_id,
        check_on=check_on,
        created_at=now(session),
    )
    session.add(row)
    session.flush()
    return row


def portal_answers(
    session: Session,
    org_id: int,
    administration_id: int | None = None,
    *,
    debtor_ref: str | None = None,
    kind: str | None = None,
    status: str | None = None,
) -> list[PortalAnswer]:
    query = scoped(PortalAnswer, org_id, administration_id)
    if debtor_ref is not None:
        query = query.where(PortalAnswer.debtor_ref == debtor_ref)
    if kind is not None:
        query = query.where(PortalAnswer.kind == kind)
    if status is not None:
        query = query.where(PortalAnswer.status == status)
    return list(session.scalars(query.order_by(PortalAnswer.id)))


OPEN_ANSWER_STATUSES = ("open", "awaiting_approval")  # the rules send nothing for these answers' invoices


def open_portal_answers(session: Session, org_id: int, administration_id: int) -> list[PortalAnswer]:
    """The answers a person has not resolved yet, oldest first (the snapshots read them as holds)."""
    query = scoped(PortalAnswer, org_id, administration_id).where(PortalAnswer.status.in_(OPEN_ANSWER_STATUSES))
    return list(session.scalars(query.order_by(PortalAnswer.id)))


def resolve_portal_answer(session: Session, org_id: int, answer_id: int, status: str = "resolved") -> bool:
    """A person closed the answer's task, or the payment it claimed was seen (``confirmed``): the ladder may go on
    for its invoices. False when it was not open."""
    result: Any = session.execute(
        update(PortalAnswer)
        .where(
            *where_scoped(PortalAnswer, org_id),
            PortalAnswer.id == answer_id,
            PortalAnswer.status.in_(OPEN_ANSWER_STATUSES),
        )
        .values(status=status)
    )
    return bool(result.rowcount)


def portal_answer_tasks(session: Session, org_id: int, administration_id: int) -> dict[int, OutboxItem]:
    """The open worklist tasks of the debtor's answers, by answer id (a claimed payment's waits for its check day)."""
    query = scoped(t.OutboxItem, org_id, administration_id).where(
        t.OutboxItem.action == OutboxAction.PORTAL_ANSWER.value, t.OutboxItem.status == OutboxStatus.TASK_OPEN.value
    )
    items = [outbox_row_to_model(row) for row in session.scalars(query.order_by(t.OutboxItem.id))]
    return {item.payload.portal_answer: item for item in items if item.payload.portal_answer is not None}


def portal_messages(session: Session, org_id: int, administration_id: int, debtor_ref: str) -> list[OutboxItem]:
    """The messages that went out to one debtor (done outbox items), newest first: the page shows the costs and
    interest the latest of them stated."""
    query = scoped(t.OutboxItem, org_id, administration_id).where(
        t.OutboxItem.debtor_ref == debtor_ref, t.OutboxItem.status == OutboxStatus.DONE.value
    )
    return [outbox_row_to_model(row) for row in session.scalars(query.order_by(t.OutboxItem.id.desc()).limit(50))]
