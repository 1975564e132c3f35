"""Outbound webhooks: subscriptions, and delivering what the pipeline owes them, signed per Standard Webhooks.

The pipeline only writes delivery rows (``repos.emit_event`` inside its own transaction: no network there); this
module sends them, from the periodic job (``connector.jobs``), ``dunning webhook deliver`` or the API's replay.
Each delivery is claimed atomically (``repos.claim_webhook_deliveries``), POSTed with ``webhook-id``,
``webhook-timestamp`` and ``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">``, and retried with
exponential backoff for about 24 hours, then dead; every try is logged with the receiver's status code. URLs must be
http(s); redirects are not followed (docs/api.md#outbound-webhooks).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests
import structlog

from connector.errors import ConnectorError, NotFound
from connector.model.api import AttemptRecord, DeliveryRecord, EventType, SubscriptionRecord
from connector.runtime import Runtime
from connector.storage import repos
from connector.storage.db import transaction

log = structlog.get_logger(__name__)

SECRET_START = "whsec_"  # noqa: S105 - the prefix Standard Webhooks gives secrets, not a secret
# waits after each failed try: 5 s, 5 min, 30 min, 2 h, 5 h, 8 h, 8 h (about 23.6 hours), then dead
BACKOFF = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=8),
    timedelta(hours=8),
)
CLAIM_LEASE = timedelta(minutes=2)


class InvalidSubscription(ConnectorError):
    """A subscription that cannot be accepted: the message says what to change."""


@dataclass(frozen=True)
class NewSubscription:
    record: SubscriptionRecord
    secret: str  # whsec_...: shown once at creation


@dataclass(frozen=True)
class DeliveryRun:
    delivered: int = 0
    retrying: int = 0
    dead: int = 0


def check_url(url: str) -> str:
    """An http(s) URL with a host and no credentials in it, or ``InvalidSubscription``."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidSubscription("the webhook URL must start with https:// (or http://) and name a host")
    if parts.username or parts.password:
        raise InvalidSubscription("put no user name or password in the webhook URL: verify our signature instead")
    return url.strip()


def check_events(events: Sequence[str]) -> list[str]:
    known = [e.value for e in EventType]
    unknown = sorted(set(events) - set(known))
    if unknown or not events:
        raise InvalidSubscription(
            f"choose events from {', '.join(known)}" + (f"; unknown: {unknown}" if unknown else "")
        )
    return sorted(set(events))


def _binding(org_id: int) -> str:
    return f"webhook-subscription:{org_id}"


def subscribe(rt: Runtime, org_id: int, url: str, events: Sequence[str], description: str = "") -> NewSubscription:
    secret = SECRET_START + base64.b64encode(secrets.token_bytes(32)).decode()
    ciphertext = rt.cipher.encrypt(_binding(org_id), {"secret": secret})
    with transaction(rt.sessions) as s:
        record = repos.add_webhook_subscription(
            s, org_id, url=check_url(url), events=check_events(events), secret_ciphertext=ciphertext,
            description=description[:200],
        )  # fmt: skip
        repos.audit(s, org_id, "webhook", f"webhook subscription {record.id} to {record.url} created")
    return NewSubscription(record=record, secret=secret)


def subscriptions(rt: Runtime, org_id: int) -> list[SubscriptionRecord]:
    with rt.sessions() as s:
        return repos.webhook_subscriptions(s, org_id)


def unsubscribe(rt: Runtime, org_id: int, subscription_id: int) -> None:
    with transaction(rt.sessions) as s:
        if not repos.delete_webhook_subscription(s, org_id, subscription_id):
            raise NotFound(f"no webhook subscription {subscription_id} here")
        repos.audit(s, org_id, "webhook", f"webhook subscription {subscription_id} deleted")


def deliveries(
    rt: Runtime, org_id: int, *, status: str | None = None, before_id: int = 0, limit: int = 100
) -> list[DeliveryRecord]:
    with rt.sessions() as s:
        return repos.webhook_deliveries(s, org_id, status=status, after_id=before_id, limit=limit)


def delivery(rt: Runtime, org_id: int, delivery_id: int) -> tuple[DeliveryRecord, list[AttemptRecord]]:
    with rt.sessions() as s:
        found = repos.get_webhook_delivery(s, org_id, delivery_id)
        if found is None:
            raise NotFound(f"no webhook delivery {delivery_id} here")
        return found, repos.webhook_attempts(s, org_id, delivery_id)


def replay(rt: Runtime, org_id: int, delivery_id: int) -> DeliveryRecord:
    with transaction(rt.sessions) as s:
        found = repos.replay_webhook_delivery(s, org_id, delivery_id)
        if found is None:
            raise NotFound(f"no webhook delivery {delivery_id} here")
        repos.audit(s, org_id, "webhook", f"webhook delivery {delivery_id} replayed")
    return found


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks signature: ``v1,`` + base64 HMAC-SHA256 of ``id.timestamp.body``."""
    key = base64.b64decode(secret.removeprefix(SECRET_START))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def _post(rt: Runtime, sub: SubscriptionRecord, item: DeliveryRecord, now: datetime) -> tuple[int | None, str | None]:
    secret = str(rt.cipher.decrypt(_binding(sub.org_id), sub.secret_ciphertext)["secret"])
    body = json.dumps(item.payload, separators=(",", ":"), sort_keys=True).encode()
    stamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "dunning-connector-webhooks/1",
        "webhook-id": item.message_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign(secret, item.message_id, stamp, body),
    }
    try:
        check_url(sub.url)
        response = requests.post(
            sub.url, data=body, headers=headers, timeout=rt.settings.webhook_delivery_timeout_seconds,
            allow_redirects=False,
        )  # fmt: skip
    except InvalidSubscription as exc:
        return None, str(exc)
    except requests.RequestException as exc:
        return None, f"could not reach the receiver ({type(exc).__name__})"
    error = None if 200 <= response.status_code < 300 else f"the receiver answered {response.status_code}"
    return response.status_code, error


def deliver_due(rt: Runtime, org_id: int, limit: int = 50) -> DeliveryRun:
    """Send the organisation's due deliveries once each; failures wait for their next try, or die after ~24 h."""
    with transaction(rt.sessions) as s:
        claimed = repos.claim_webhook_deliveries(s, org_id, CLAIM_LEASE, limit)
        subs = {sub.id: sub for sub in repos.webhook_subscriptions(s, org_id)}
    delivered = retrying = dead = 0
    for item in claimed:
        started = time.monotonic()
        now = rt.clock()
        status, error = _post(rt, subs[item.subscription_id], item, now)
        took = int((time.monotonic() - started) * 1000)
        wait = BACKOFF[item.attempts] if item.attempts < len(BACKOFF) else None
        with transaction(rt.sessions) as s:
            after = repos.record_webhook_attempt(
                s, org_id, item.id, status_code=status, error=error, duration_ms=took,
                next_attempt_at=now + wait if wait is not None else None,
            )  # fmt: skip
        outcome = after.status if after else "gone"
        log.info("webhook.attempt", delivery=item.id, status_code=status, outcome=outcome)
        delivered += outcome == "delivered"
        retrying += outcome == "pending"
        dead += outcome == "dead"
    return DeliveryRun(delivered=delivered, retrying=retrying, dead=dead)


def deliver_all(rt: Runtime) -> DeliveryRun:
    """Every organisation's due deliveries (the periodic job)."""
    total = DeliveryRun()
    with rt.sessions() as s:
        organisations = [org_id for org_id, _ in repos.list_organisations(s)]
    for org_id in organisations:
        run = deliver_due(rt, org_id)
        total = DeliveryRun(total.delivered + run.delivered, total.retrying + run.retrying, total.dead + run.dead)
    return total
