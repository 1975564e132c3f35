"""Outbound webhooks: subscriptions, the deliveries an event creates, claiming them, and the delivery log.

``emit_event`` is the small hook the pipeline calls inside its own transaction: one delivery row per active
subscription that asked for the event, nothing sent (no network in the pipeline). ``connector.notify`` claims
due deliveries (a conditional update: only one worker wins a row), posts them and records each attempt.
See docs/api.md#outbound-webhooks.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from connector.model.api import AttemptRecord, DeliveryRecord, SubscriptionRecord
from connector.storage.repos.scope import now, scoped, where_scoped
from connector.storage.tables_api import WebhookAttempt, WebhookDelivery, WebhookSubscription


def _subscription(row: WebhookSubscription) -> SubscriptionRecord:
    return SubscriptionRecord(
        id=row.id,
        org_id=row.org_id,
        url=row.url,
        events=tuple(row.events),
        secret_ciphertext=row.secret_ciphertext,
        description=row.description,
        active=row.active,
        created_at=row.created_at,
    )


def _delivery(row: WebhookDelivery) -> DeliveryRecord:
    return DeliveryRecord(
        id=row.id,
        org_id=row.org_id,
        subscription_id=row.subscription_id,
        message_id=row.message_id,
        event_type=row.event_type,
        payload=dict(row.payload),
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
    )


def add_webhook_subscription(
    session: Session, org_id: int, *, url: str, events: Sequence[str], secret_ciphertext: str, description: str = ""
) -> SubscriptionRecord:
    row = WebhookSubscription(
        org_id=org_id,
        url=url,
        events=list(events),
        secret_ciphertext=secret_ciphertext,
        description=description,
        active=True,
        created_at=now(session),
    )
    session.add(row)
    session.flush()
    return _subscription(row)


def webhook_subscriptions(session: Session, org_id: int) -> list[SubscriptionRecord]:
    query = scoped(WebhookSubscription, org_id).order_by(WebhookSubscription.id)
    return [_subscription(r) for r in session.scalars(query)]


def get_webhook_subscription(session: Session, org_id: int, subscription_id: int) -> SubscriptionRecord | None:
    row = session.scalar(scoped(WebhookSubscription, org_id).where(WebhookSubscription.id == subscription_id))
    return _subscription(row) if row is not None else None


def delete_webhook_subscription(session: Session, org_id: int, subscription_id: int) -> bool:
    row = session.scalar(scoped(WebhookSubscription, org_id).where(WebhookSubscription.id == subscription_id))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def emit_event(session: Session, org_id: int, event_type: str, data: dict[str, Any]) -> int:
    """Owe ``event_type`` with ``data`` to every active subscription that asked for it; how many deliveries."""
    at = now(session)
    subscriptions = session.scalars(
        scoped(WebhookSubscription, org_id).where(WebhookSubscription.active.is_(True))
    ).all()
    created = 0
    for sub in subscriptions:
        if event_type not in sub.events:
            continue
        session.add(
            WebhookDelivery(
                org_id=org_id,
                subscription_id=sub.id,
                message_id=f"msg_{uuid.uuid4().hex}",
                event_type=event_type,
                payload={"type": event_type, "timestamp": at.isoformat(), "data": data},
                status="pending",
                attempts=0,
                next_attempt_at=at,
                created_at=at,
            )
        )
        created += 1
    if created:
        session.flush()
    return created


def claim_webhook_deliveries(session: Session, org_id: int, lease: timedelta, limit: int = 50) -> list[DeliveryRecord]:
    """Claim up to ``limit`` due deliveries for ``lease``: a row is claimed only by the update that changes it,
    so two workers never both send one (a worker that dies lets its claim run out)."""
    at = now(session)
    due = session.scalars(
        select(WebhookDelivery.id)
        .where(
            *where_scoped(WebhookDelivery, org_id),
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at <= at,
            or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < at),
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    ).all()
    claimed = []
    for delivery_id in due:
        won = session.execute(
            update(WebhookDelivery)
            .where(
                *where_scoped(WebhookDelivery, org_id),
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.status == "pending",
                or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < at),
            )
            .values(claimed_until=at + lease)
            .returning(WebhookDelivery.id)
        ).scalar_one_or_none()
        if won is not None:
            claimed.append(delivery_id)
    if not claimed:
        return []
    rows = session.scalars(scoped(WebhookDelivery, org_id).where(WebhookDelivery.id.in_(claimed)))
    return sorted((_delivery(r) for r in rows), key=lambda d: claimed.index(d.id))


def record_webhook_attempt(
    session: Session,
    org_id: int,
    delivery_id: int,
    *,
    status_code: int | None,
    error: str | None,
    duration_ms: int,
    next_attempt_at: datetime | None,
) -> DeliveryRecord | None:
    """Log one try; a 2xx delivers, otherwise the delivery waits for ``next_attempt_at`` or, without one, is dead."""
    row = session.scalar(scoped(WebhookDelivery, org_id).where(WebhookDelivery.id == delivery_id))
    if row is None:
        return None
    at = now(session)
    session.add(
        WebhookAttempt(
            org_id=org_id,
            delivery_id=delivery_id,
            at=at,
            status_code=status_code,
            error=error[:300] if error else None,
            duration_ms=duration_ms,
        )
    )
    row.attempts += 1
    row.last_status_code = status_code
    row.last_error = error[:300] if error else None
    row.claimed_until = None
    if status_code is not None and 200 <= status_code < 300:
        row.status, row.delivered_at = "delivered", at
    elif next_attempt_at is None:
        row.status = "dead"
    else:
        row.next_attempt_at = next_attempt_at
    session.flush()
    return _delivery(row)


def webhook_deliveries(
    session: Session,
    org_id: int,
    *,
    subscription_id: int | None = None,
    status: str | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> list[DeliveryRecord]:
    """Deliveries, newest first below ``after_id`` when it is given (the API's cursor), at most ``limit``."""
    query = scoped(WebhookDelivery, org_id)
    if subscription_id is not None:
        query = query.where(WebhookDelivery.subscription_id == subscription_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    if after_id:
        query = query.where(WebhookDelivery.id < after_id)
    return [_delivery(r) for r in session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit))]


def get_webhook_delivery(session: Session, org_id: int, delivery_id: int) -> DeliveryRecord | None:
    row = session.scalar(scoped(WebhookDelivery, org_id).where(WebhookDelivery.id == delivery_id))
    return _delivery(row) if row is not None else None


def webhook_attempts(session: Session, org_id: int, delivery_id: int) -> list[AttemptRecord]:
    query = scoped(WebhookAttempt, org_id).where(WebhookAttempt.delivery_id == delivery_id).order_by(WebhookAttempt.id)
    return [
        AttemptRecord(
            id=r.id,
            delivery_id=r.delivery_id,
            at=r.at,
            status_code=r.status_code,
            error=r.error,
            duration_ms=r.duration_ms,
        )
        for r in session.scalars(query)
    ]


def replay_webhook_delivery(session: Session, org_id: int, delivery_id: int) -> DeliveryRecord | None:
    """Send a delivery again, whatever became of it: a new round of retries for the same message id."""
    row = session.scalar(scoped(WebhookDelivery, org_id).where(WebhookDelivery.id == delivery_id))
    if row is None:
        return None
    row.status, row.attempts, row.claimed_until, row.next_attempt_at = "pending", 0, None, now(session)
    session.flush()
    return _delivery(row)
