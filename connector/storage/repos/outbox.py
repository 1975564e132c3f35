"""The outbox table: every message and write-back the connector owes, keyed by a deterministic idempotency key.

Written by the decide step and debtor management, drained by ``connector.outbox``, listed by the worklist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.storage import tables as t
from connector.storage.repos.scope import now


def add_outbox_item(session: Session, org_id: int, administration_id: int, **fields: Any) -> bool:
    """Insert unless the idempotency key exists already; True when inserted."""
    key = fields["idempotency_key"]
    exists = session.scalar(
        select(t.OutboxItem.id).where(t.OutboxItem.org_id == org_id, t.OutboxItem.idempotency_key == key)
    )
    if exists is not None:
        return False
    session.add(t.OutboxItem(org_id=org_id, administration_id=administration_id, created_at=now(session), **fields))
    session.flush()
    return True


def pending_outbox(
    session: Session, org_id: int, now: datetime, administration_id: int | None = None, limit: int = 500
) -> list[t.OutboxItem]:
    query = select(t.OutboxItem).where(t.OutboxItem.org_id == org_id, t.OutboxItem.status == "pending")
    if administration_id is not None:
        query = query.where(t.OutboxItem.administration_id == administration_id)
    query = query.where((t.OutboxItem.next_attempt_at.is_(None)) | (t.OutboxItem.next_attempt_at <= now))
    return list(session.scalars(query.order_by(t.OutboxItem.id).limit(limit)))


def outbox_items(session: Session, org_id: int, status: str | None = None) -> list[t.OutboxItem]:
    query = select(t.OutboxItem).where(t.OutboxItem.org_id == org_id)
    if status:
        query = query.where(t.OutboxItem.status == status)
    return list(session.scalars(query.order_by(t.OutboxItem.id)))
