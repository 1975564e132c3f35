"""What storage hands back for the public API's own rows: API keys, webhook subscriptions, deliveries, attempts.

Plain frozen records, read by ``connector.apikeys`` and ``connector.notify`` (the services over them) and, through
those, by the API and the CLI. The event types a subscription can ask for are listed here, once, for everyone
who emits, checks or documents them (docs/api.md#outbound-webhooks).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any


class ApiScope(enum.StrEnum):
    READ = "read"
    WRITE = "write"


class EventType(enum.StrEnum):
    """The outbound webhook events; the value is the ``type`` the receiver sees."""

    DECISION_MADE = "decision.made"
    REMINDER_SENT = "reminder.sent"
    LETTER_POSTED = "letter.posted"
    PAYMENT_DETECTED = "payment.detected"
    INVOICE_DISPUTED = "invoice.disputed"
    PROMISE_BROKEN = "promise.broken"
    CONNECTION_NEEDS_REAUTH = "connection.needs_reauthorisation"


@dataclass(frozen=True)
class ApiKeyRecord:
    id: int
    org_id: int
    name: str
    prefix: str
    key_hash: str
    scope: ApiScope
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class SubscriptionRecord:
    id: int
    org_id: int
    url: str
    events: tuple[str, ...]
    secret_ciphertext: str
    description: str
    active: bool
    created_at: datetime


@dataclass(frozen=True)
class DeliveryRecord:
    id: int
    org_id: int
    subscription_id: int
    message_id: str
    event_type: str
    payload: dict[str, Any]
    status: str  # pending|delivered|dead
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True)
class AttemptRecord:
    id: int
    delivery_id: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int
