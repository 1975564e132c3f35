"""The outbox table: every message and write-back the connector owes, keyed by a deterministic idempotency key.

Written by the decide step and debtor management, drained by ``connector.outbox``, listed by the worklist. Rows
never leave storage: callers get typed ``OutboxItem``s and change them through ``update_outbox_item``; every
payload is validated against ``OutboxPayload`` on the way in and on the way out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TypedDict, Unpack

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connector.model.outbox import OutboxAction, OutboxChannel, OutboxItem, OutboxPayload, OutboxStatus
from connector.storage import tables as t
from connector.storage.convert import outbox_row_to_model
from connector.storage.repos.scope import now, scoped, where_scoped


def add_outbox_item(
    session: Session,
    org_id: int,
    administration_id: int,
    *,
    idempotency_key: str,
    action: OutboxAction,
    debtor_ref: str,
    invoice_refs: Sequence[str],
    level: int,
    level_name: str,
    channel: OutboxChannel,
    run_date: date,
    status: OutboxStatus = OutboxStatus.PENDING,
    payload: OutboxPayload | None = None,
    next_attempt_at: datetime | None = None,
) -> bool:
    """Queue an item unless its idempotency key exists already; True when queued. Two runs queueing the same key
    at once: the second insert meets the unique key and is "already queued", never an error."""
    exists = session.scalar(
        select(t.OutboxItem.id).where(
            *where_scoped(t.OutboxItem, org_id), t.OutboxItem.idempotency_key == idempotency_key
        )
    )
    if exists is not None:
        return False
    row = t.OutboxItem(
        org_id=org_id,
        administration_id=administration_id,
        idempotency_key=idempotency_key,
        action=OutboxAction(action).value,
        debtor_ref=debtor_ref,
        invoice_refs=list(invoice_refs),
        level=level,
        level_name=level_name,
        channel=OutboxChannel(channel).value,
        run_date=run_date,
        status=OutboxStatus(status).value,
        payload=OutboxPayload.model_validate(payload or {}).stored(),
        created_at=now(session),
        next_attempt_at=next_attempt_at,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


def get_outbox_item(session: Session, org_id: int, item_id: int) -> OutboxItem | None:
    row = session.scalar(scoped(t.OutboxItem, org_id).where(t.OutboxItem.id == item_id))
    return outbox_row_to_model(row) if row is not None else None


def pending_outbox(
    session: Session, org_id: int, due_by: datetime, administration_id: int | None = None, limit: int = 500
) -> list[OutboxItem]:
    """Pending items whose next attempt is due by ``due_by``, oldest first."""
    query = scoped(t.OutboxItem, org_id, administration_id).where(
        t.OutboxItem.status == OutboxStatus.PENDING.value,
        (t.OutboxItem.next_attempt_at.is_(None)) | (t.OutboxItem.next_attempt_at <= due_by),
    )
    return [outbox_row_to_model(row) for row in session.scalars(query.order_by(t.OutboxItem.id).limit(limit))]


def next_outbox_attempt(session: Session, org_id: int, administration_id: int) -> datetime | None:
    """When the administration's earliest pending item may be tried again (None: nothing pending)."""
    query = scoped(t.OutboxItem, org_id, administration_id).where(t.OutboxItem.status == OutboxStatus.PENDING.value)
    found = session.execute(
        query.with_only_columns(
            func.count(t.OutboxItem.id), func.min(func.coalesce(t.OutboxItem.next_attempt_at, t.OutboxItem.created_at))
        )
    ).one()
    return None if not found[0] else found[1]


def outbox_items(session: Session, org_id: int, status: OutboxStatus | None = None) -> list[OutboxItem]:
    query = scoped(t.OutboxItem, org_id)
    if status:
        query = query.where(t.OutboxItem.status == OutboxStatus(status).value)
    return [outbox_row_to_model(row) for row in session.scalars(query.order_by(t.OutboxItem.id))]


def claim_outbox_item(
    session: Session, org_id: int, item_id: int, holder: str, until: datetime, at: datetime
) -> OutboxItem | None:
    """Claim a pending, due item for ``holder`` until ``until``; the item as it now is, or None when another
    process holds it or it is no longer pending. One conditional UPDATE decides: PostgreSQL locks the row and
    re-checks the condition for the second claimant, SQLite runs one writer at a time, so exactly one wins. A
    claim that lapsed (its process died) can be taken again (docs/architecture.md#the-outbox-claims-each-item)."""
    claimed = session.execute(
        update(t.OutboxItem)
        .where(
            *where_scoped(t.OutboxItem, org_id),
            t.OutboxItem.id == item_id,
            t.OutboxItem.status == OutboxStatus.PENDING.value,
            (t.OutboxItem.next_attempt_at.is_(None)) | (t.OutboxItem.next_attempt_at <= at),
            (t.OutboxItem.claimed_until.is_(None))
            | (t.OutboxItem.claimed_until <= at)
            | (t.OutboxItem.claimed_by == holder),
        )
        .values(claimed_by=holder, claimed_until=until)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return None
    row = session.scalar(
        scoped(t.OutboxItem, org_id).where(t.OutboxItem.id == item_id).execution_options(populate_existing=True)
    )
    return outbox_row_to_model(row) if row is not None else None


def hold_unclaimed_outbox_item(
    session: Session, org_id: int, item_id: int, statuses: Sequence[OutboxStatus], at: datetime
) -> bool:
    """Lock an item for a person's change (skip, snooze) when it is in one of ``statuses`` and no drain holds a live
    claim on it; False when it is gone, in another state or claimed. One conditional UPDATE that changes nothing:
    PostgreSQL locks the row until the transaction ends (a drain's claim then waits and re-checks the status),
    SQLite runs one writer at a time (docs/worklist.md#actions)."""
    held = session.execute(
        update(t.OutboxItem)
        .where(
            *where_scoped(t.OutboxItem, org_id),
            t.OutboxItem.id == item_id,
            t.OutboxItem.status.in_([OutboxStatus(s).value for s in statuses]),
            (t.OutboxItem.claimed_until.is_(None)) | (t.OutboxItem.claimed_until <= at),
        )
        .values(claimed_by=t.OutboxItem.claimed_by)
        .execution_options(synchronize_session=False)
    )
    return getattr(held, "rowcount", 0) == 1


class OutboxChanges(TypedDict, total=False):
    status: OutboxStatus
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    done_at: datetime | None
    provider_refs: Sequence[str]
    payload: OutboxPayload
    claimed_by: str | None
    claimed_until: datetime | None


def update_outbox_item(
    session: Session, org_id: int, item_id: int, **changes: Unpack[OutboxChanges]
) -> OutboxItem | None:
    """Change an item's state; returns it as it now is, or None when the organisation has no such item."""
    row = session.scalar(scoped(t.OutboxItem, org_id).where(t.OutboxItem.id == item_id))
    if row is None:
        return None
    if "status" in changes:
        row.status = OutboxStatus(changes["status"]).value
    if "attempts" in changes:
        row.attempts = changes["attempts"]
    if "last_error" in changes:
        row.last_error = changes["last_error"]
    if "next_attempt_at" in changes:
        row.next_attempt_at = changes["next_attempt_at"]
    if "done_at" in changes:
        row.done_at = changes["done_at"]
    if "provider_refs" in changes:
        row.provider_refs = list(changes["provider_refs"])
    if "payload" in changes:
        row.payload = OutboxPayload.model_validate(changes["payload"]).stored()
    if "claimed_by" in changes:
        row.claimed_by = changes["claimed_by"]
    if "claimed_until" in changes:
        row.claimed_until = changes["claimed_until"]
    session.flush()
    return outbox_row_to_model(row)
