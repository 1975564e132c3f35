"""The audit trail: every decision, non-decision, write-back and manual action with its reason.

Written by every step in the same transaction as the change it explains; read by ``dunning why``, the dossier of
a hand-over, the debtor's timeline, and the counts that derive idempotency keys and risk classes. Who acted is
recorded with every entry written inside ``acting_as`` (the web app wraps each request of a signed-in user in it),
so the services need no extra argument for it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connector.storage import tables as t
from connector.storage.repos.scope import now, scoped, where_scoped

_ACTOR: ContextVar[str | None] = ContextVar("dunning_audit_actor", default=None)


@contextmanager
def acting_as(who: str | None) -> Iterator[None]:
    """Every audit entry written inside the block records ``who`` (an e-mail address, ``cli``) under ``by``."""
    token = _ACTOR.set(who)
    try:
        yield
    finally:
        _ACTOR.reset(token)


def audit(
    session: Session,
    org_id: int,
    kind: str,
    message: str,
    *,
    administration_id: int | None = None,
    invoice_ref: str | None = None,
    debtor_ref: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> None:
    session.add(
        t.AuditEntry(
            org_id=org_id,
            administration_id=administration_id,
            invoice_ref=invoice_ref,
            debtor_ref=debtor_ref,
            kind=kind,
            message=message,
            data=_with_actor(data),
            created_at=now(session),
        )
    )


def _with_actor(data: Mapping[str, Any] | None) -> dict[str, Any]:
    entry = dict(data or {})
    actor = _ACTOR.get()
    if actor and "by" not in entry:
        entry["by"] = actor
    return entry


def audit_trail(
    session: Session, org_id: int, *, invoice_ref: str | None = None, kind: str | None = None, limit: int = 200
) -> list[t.AuditEntry]:
    query = scoped(t.AuditEntry, org_id)
    if invoice_ref:
        query = query.where(t.AuditEntry.invoice_ref == invoice_ref)
    if kind:
        query = query.where(t.AuditEntry.kind == kind)
    return list(session.scalars(query.order_by(t.AuditEntry.id.desc()).limit(limit)))


def debtor_audit(
    session: Session, org_id: int, administration_id: int, debtor_ref: str, invoice_refs: Sequence[str] = ()
) -> list[t.AuditEntry]:
    """A debtor's audit trail (docs/credit-management.md#the-debtor-file): entries naming the debtor or one of its
    invoices, oldest first."""
    subject = t.AuditEntry.debtor_ref == debtor_ref
    if invoice_refs:
        subject = subject | t.AuditEntry.invoice_ref.in_(list(invoice_refs))
    query = scoped(t.AuditEntry, org_id, administration_id).where(subject)
    return list(session.scalars(query.order_by(t.AuditEntry.id)))


def audit_counts(session: Session, org_id: int, administration_id: int, kind: str) -> dict[str, int]:
    """How many audit entries of ``kind`` each debtor has (e.g. broken promises)."""
    rows = session.execute(
        select(t.AuditEntry.debtor_ref, func.count())
        .where(
            *where_scoped(t.AuditEntry, org_id, administration_id),
            t.AuditEntry.kind == kind,
            t.AuditEntry.debtor_ref.is_not(None),
        )
        .group_by(t.AuditEntry.debtor_ref)
    )
    return {str(ref): int(count) for ref, count in rows}


def audit_count(
    session: Session,
    org_id: int,
    administration_id: int,
    kind: str,
    *,
    invoice_ref: str | None = None,
    debtor_ref: str | None = None,
) -> int:
    query = select(func.count()).where(
        *where_scoped(t.AuditEntry, org_id, administration_id), t.AuditEntry.kind == kind
    )
    if invoice_ref is not None:
        query = query.where(t.AuditEntry.invoice_ref == invoice_ref)
    if debtor_ref is not None:
        query = query.where(t.AuditEntry.debtor_ref == debtor_ref)
    return int(session.scalar(query) or 0)
