"""The webhook inbox: raw deliveries stored (deduplicated) before they are acknowledged, then processed as jobs.

``connector.inbox`` records and processes events; dead letters wait here for a replay. Events that cannot be
routed to an organisation are stored with ``org_id`` None, and only that exact scope reads them back.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connector.errors import NotFound
from connector.storage import tables as t
from connector.storage.repos.scope import now, scoped, where_scoped


def record_inbox_event(session: Session, org_id: int | None, **fields: Any) -> int | None:
    """Insert a webhook event; returns its id, or None when (provider, dedupe_id, org) was seen before."""
    query = select(t.InboxEvent.id).where(
        t.InboxEvent.provider == fields["provider"], t.InboxEvent.dedupe_id == fields["dedupe_id"]
    )
    query = query.where(t.InboxEvent.org_id.is_(None) if org_id is None else t.InboxEvent.org_id == org_id)
    if session.scalar(query) is not None:
        return None
    if fields.get("signed_digest"):
        same_content = select(t.InboxEvent.id).where(
            t.InboxEvent.provider == fields["provider"], t.InboxEvent.signed_digest == fields["signed_digest"]
        )
        same_content = same_content.where(
            t.InboxEvent.org_id.is_(None) if org_id is None else t.InboxEvent.org_id == org_id
        )
        if session.scalar(same_content) is not None:
            return None
    event = t.InboxEvent(org_id=org_id, received_at=now(session), **fields)
    try:
        with session.begin_nested():
            session.add(event)
            session.flush()
    except IntegrityError:
        return None
    return event.id


def inbox_field_too_long(fields: Mapping[str, Any]) -> str | None:
    """Why these inbox fields do not fit their columns (the first that does not, named), or None when they all do.

    PostgreSQL refuses a string longer than its column (SQLite stores it anyway) or holding a NUL character, and
    neither stores an unpaired surrogate: the receiver checks first and keeps a signed delivery that does not fit
    as a dead letter with this reason instead of failing on insert."""
    columns = t.InboxEvent.__table__.columns
    for name, value in fields.items():
        if not isinstance(value, str):
            continue
        length = getattr(columns[name].type, "length", None) if name in columns else None
        if length is not None and len(value) > length:
            return f"{name} is {len(value)} characters long; at most {length} fit"
        if "\x00" in value:  # PostgreSQL text cannot hold NUL
            return f"{name} contains a NUL character"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # an unpaired surrogate from a JSON escape: no database stores it
            return f"{name} is not valid Unicode"
    return None


def _of(org_id: int | None) -> list[ColumnElement[bool]]:
    """An organisation's events (kept to a restricted member's administrations' tenants), or the unresolved ones."""
    return [t.InboxEvent.org_id.is_(None)] if org_id is None else where_scoped(t.InboxEvent, org_id)


def get_inbox_event(session: Session, org_id: int | None, event_id: int) -> t.InboxEvent:
    event = session.scalar(select(t.InboxEvent).where(*_of(org_id), t.InboxEvent.id == event_id))
    if event is None:
        raise NotFound(f"inbox event {event_id} not found")
    return event


def inbox_events(
    session: Session, org_id: int | None, status: str | None = None, limit: int = 200
) -> list[t.InboxEvent]:
    query = select(t.InboxEvent).where(*_of(org_id))
    if status:
        query = query.where(t.InboxEvent.status == status)
    return list(session.scalars(query.order_by(t.InboxEvent.id).limit(limit)))


def purge_webhook_bodies(session: Session, org_id: int, older_than: datetime) -> int:
    """Retention (docs/law.md#our-retention-policy): raw bodies of processed webhook events older than ``older_than``
    are deleted; the metadata (provider, entity, action, times) stays for the audit year. Dead letters keep their body
    for replay."""
    result = session.execute(
        update(t.InboxEvent)
        .where(
            *where_scoped(t.InboxEvent, org_id),
            t.InboxEvent.status == "processed",
            t.InboxEvent.received_at < older_than,
            func.length(t.InboxEvent.raw) > 0,
        )
        .values(raw=b"")
    )
    return int(getattr(result, "rowcount", 0) or 0)


def stale_inbox_events(session: Session, org_id: int, older_than: datetime) -> list[t.InboxEvent]:
    """Events still ``received`` (never processed, e.g. the enqueue failed) since before ``older_than``."""
    return list(
        session.scalars(
            scoped(t.InboxEvent, org_id).where(
                t.InboxEvent.status == "received",
                (t.InboxEvent.next_attempt_at.is_(None)) | (t.InboxEvent.next_attempt_at <= older_than),
                t.InboxEvent.received_at <= older_than,
            )
        )
    )


def webhook_health(session: Session, org_id: int) -> dict[int, tuple[datetime | None, int]]:
    """Per connection of the organisation: when its last webhook delivery was received and how many of its
    deliveries failed for good (dead letters waiting for a replay). Connections without deliveries are absent."""
    dead = func.sum(case((t.InboxEvent.status == "dead", 1), else_=0))
    query = (
        select(t.InboxEvent.connection_id, func.max(t.InboxEvent.received_at), dead)
        .where(*where_scoped(t.InboxEvent, org_id), t.InboxEvent.connection_id.is_not(None))
        .group_by(t.InboxEvent.connection_id)
    )
    return {int(cid): (last, int(failed or 0)) for cid, last, failed in session.execute(query)}
