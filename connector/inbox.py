"""Webhook inbox: verify, persist (deduplicated) before acknowledging, then process as a job.

``receive`` is what ``POST /webhooks/<provider>`` calls: it never makes an outbound call, and it answers 401 for
a bad signature (storing nothing), 400 for a body nested too deeply to parse safely, 503 while this process
lacks the key a tenant's secret was stored with, 200 for a handshake, and 200 once every event is stored. A
verified body that cannot be parsed, or whose fields do not fit their columns, becomes a dead letter with its
reason. ``process_event`` re-reads the named entity through the adapter; failures back off (1 m, 5 m, 30 m, 2 h,
12 h) and end as dead letters that ``replay_dead`` revives.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog

from connector.auth.crypto import TokenDecryptError
from connector.errors import ConnectorError, GarbageResponse, NotSupported, ReauthRequired, WebhookRejected
from connector.model import WebhookEvent
from connector.parsing import MAX_JSON_DEPTH, json_too_deep
from connector.registry import adapter_class
from connector.runtime import Runtime
from connector.storage import repos, tables
from connector.storage.db import transaction
from connector.sync import apply_hint, refresh_invoices

log = structlog.get_logger(__name__)
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2), timedelta(hours=12))
Enqueue = Callable[[int | None, int], None]


@dataclass
class Receipt:
    status: int
    stored: list[tuple[int | None, int]]
    reason: str = ""
    dropped: int = 0


def webhook_secrets(rt: Runtime, provider: str, tenant_hint: str | None) -> list[str]:
    """The app-wide key from settings plus any per-tenant secrets (Moneybird returns one per webhook)."""
    secrets = []
    key = rt.settings.provider(provider).webhook_key.get_secret_value()
    if key:
        secrets.append(key)
    if tenant_hint:
        with rt.sessions() as s:
            for ciphertext in repos.route_webhook_secrets(s, provider, tenant_hint):
                secrets.append(
                    str(rt.cipher.decrypt(rt.webhook_secret_binding(provider, tenant_hint), ciphertext)["secret"])
                )
    return secrets


def receive(rt: Runtime, provider: str, raw: bytes, headers: Mapping[str, str], now: datetime) -> Receipt:
    if json_too_deep(raw):  # before anything parses it: json recurses once per level
        log.warning("webhook.rejected", provider=provider, reason="nested too deeply")
        return Receipt(400, [], f"refused: the body nests more than {MAX_JSON_DEPTH} levels deep")
    cls = adapter_class(provider)
    if cls.is_webhook_handshake(raw, headers):
        return Receipt(200, [], "handshake")
    hint = cls.webhook_tenant_hint(raw, headers)
    try:
        cls.verify_webhook(raw, headers, webhook_secrets(rt, provider, hint), now)
    except (WebhookRejected, NotSupported) as exc:
        log.warning("webhook.rejected", provider=provider, reason=str(exc))
        return Receipt(401, [], str(exc))
    except TokenDecryptError:
        # this process lacks the key the tenant's webhook secret was stored with (a rotation half-rolled out):
        # the provider retries a 503, by then a process with the new key answers (docs/operations.md#rotate-keys)
        log.error("webhook.secret_unreadable", provider=provider, action="give this process every key in use")
        return Receipt(503, [], "temporarily unable to verify this delivery; retry later")
    try:
        events = cls.parse_webhook(raw, headers)
    except (GarbageResponse, ValueError) as exc:
        _dead_letter(rt, provider, hint, raw, f"unparseable: {exc}")
        return Receipt(200, [], "dead letter")  # verified, so acknowledged; dead letters are not enqueued
    rows = [_inbox_fields(provider, event) for event in events]
    for fields in rows:
        too_long = repos.inbox_field_too_long(fields)
        if too_long:  # PostgreSQL would refuse the row and the provider retry for ever: keep it, say why
            _dead_letter(rt, provider, hint, raw, f"does not fit: {too_long}")
            return Receipt(200, [], "dead letter")
    stored: list[tuple[int | None, int]] = []
    dropped = 0
    with transaction(rt.sessions) as s:
        for fields in rows:
            administrations = repos.route_tenant(s, provider, fields["provider_tenant_id"])
            if not administrations:
                dropped += 1  # unknown or disconnected tenant: acknowledged so the provider stops retrying
                continue
            for adm in administrations:
                event_id = repos.record_inbox_event(s, adm.org_id, connection_id=adm.connection_id, raw=raw, **fields)
                if event_id is not None:
                    stored.append((adm.org_id, event_id))
    if dropped:
        log.info("webhook.dropped_unknown_tenant", provider=provider, count=dropped)
    return Receipt(200, stored, dropped=dropped)


def _inbox_fields(provider: str, event: WebhookEvent) -> dict[str, Any]:
    return {
        "provider": provider,
        "provider_tenant_id": event.provider_tenant_id,
        "dedupe_id": event.dedupe_id,
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "action": event.action,
        "signed_digest": event.signed_digest,
    }


def _dead_letter(rt: Runtime, provider: str, hint: str | None, raw: bytes, reason: str) -> list[int]:
    if hint and repos.inbox_field_too_long({"provider_tenant_id": hint}):
        hint = None  # no tenant has such an id: the dead letter waits without one
    with transaction(rt.sessions) as s:
        orgs = sorted({a.org_id for a in repos.route_tenant(s, provider, hint)}) if hint else []
        ids = []
        targets: list[int | None] = list(orgs) or [None]
        for org_id in targets:
            event_id = repos.record_inbox_event(
                s,
                org_id,
                provider=provider,
                provider_tenant_id=hint,
                raw=raw,
                status="dead",
                last_error=reason,
                dedupe_id=f"dead:{hashlib.sha256(raw).hexdigest()}",
            )
            if event_id is not None:
                ids.append(event_id)
    log.warning("webhook.dead_letter", provider=provider, reason=reason)
    return ids


def process_event(rt: Runtime, org_id: int | None, event_id: int) -> str:
    """Apply one stored event, coalesced with the other waiting invoice hints of its administration (our own
    write-backs echo back as webhooks: one re-read of up to 100 invoices instead of one call per event).
    Returns the event's final status (processed, received for a retry, dead)."""
    with rt.sessions() as s:
        event = repos.get_inbox_event(s, org_id, event_id)
        if event.status != "received" or org_id is None or event.connection_id is None:
            return event.status
        connection = repos.get_connection(s, org_id, event.connection_id)
        administrations = [
            a
            for a in repos.list_administrations(s, org_id, connection.id)
            if a.provider_tenant_id == event.provider_tenant_id
        ]
        batch = [event]
        if event.entity_type in ("invoice", "credit_note"):
            batch += [
                e
                for e in repos.inbox_events(s, org_id, status="received", limit=1000)
                if e.id != event.id
                and e.connection_id == event.connection_id
                and e.entity_id
                and e.provider_tenant_id == event.provider_tenant_id
                and e.entity_type in ("invoice", "credit_note")
            ][:99]
        hint = WebhookEvent(
            provider_tenant_id=event.provider_tenant_id or "",
            dedupe_id=event.dedupe_id,
            entity_type=event.entity_type or "other",
            entity_id=event.entity_id,
            action=event.action or "",
        )
        refs = sorted({e.entity_id for e in batch if e.entity_id})
    try:
        outcome = "administration not connected any more"
        if administrations and len(batch) > 1:
            refresh_invoices(rt, rt.adapter_for(connection), administrations[0], refs)
            outcome = f"re-read {len(refs)} invoice(s)"
        elif administrations:
            outcome = apply_hint(rt, rt.adapter_for(connection), administrations[0], hint)
    except (ConnectorError, OSError) as exc:
        return _failed(rt, org_id, event_id, exc)
    with transaction(rt.sessions) as s:
        for member in batch:
            row = repos.get_inbox_event(s, org_id, member.id)
            row.status, row.processed_at, row.last_error = "processed", rt.clock(), None
        repos.audit(
            s,
            org_id,
            "webhook",
            f"{event.action}: {outcome}",
            invoice_ref=event.entity_id,
            administration_id=administrations[0].id if administrations else None,
        )
    return "processed"


def _failed(rt: Runtime, org_id: int, event_id: int, exc: Exception) -> str:
    with transaction(rt.sessions) as s:
        row = repos.get_inbox_event(s, org_id, event_id)
        row.attempts += 1
        row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if isinstance(exc, ReauthRequired | GarbageResponse) or row.attempts > len(BACKOFF):
            row.status = "dead"
        else:
            row.next_attempt_at = rt.clock() + BACKOFF[row.attempts - 1]
        log.warning("webhook.processing_failed", event_id=event_id, attempts=row.attempts, status=row.status)
        return row.status


def replay_dead(rt: Runtime, org_id: int | None) -> list[int]:
    """Move dead letters back to ``received`` (attempts reset) and return their ids for processing.

    A body that could not be parsed is parsed again (the parser may have learnt it since): each event it yields is
    routed and recorded like a fresh delivery, and the dead letter is closed as re-parsed. One that still cannot
    be parsed stays dead with its reason.
    """
    with transaction(rt.sessions) as s:
        revived = []
        for row in repos.inbox_events(s, org_id, status="dead", limit=10_000):
            if row.connection_id is None:
                revived.extend(_reparse(s, row))
                continue
            row.status, row.attempts, row.next_attempt_at = "received", 0, None
            revived.append(row.id)
    return revived


def _reparse(s: Any, row: tables.InboxEvent) -> list[int]:
    try:
        events = adapter_class(row.provider).parse_webhook(row.raw, {})
    except (GarbageResponse, ValueError) as exc:
        row.last_error = f"still unparseable: {exc}"[:2000]
        return []
    rows = [_inbox_fields(row.provider, event) for event in events]
    too_long = next((reason for fields in rows if (reason := repos.inbox_field_too_long(fields))), None)
    if too_long:
        row.last_error = f"still does not fit: {too_long}"
        return []
    created = []
    for fields in rows:
        for adm in repos.route_tenant(s, row.provider, fields["provider_tenant_id"]):
            if row.org_id is not None and adm.org_id != row.org_id:
                continue
            event_id = repos.record_inbox_event(s, adm.org_id, connection_id=adm.connection_id, raw=row.raw, **fields)
            if event_id is not None:
                created.append(event_id)
    row.status, row.last_error = "processed", f"re-parsed into {len(created)} event(s)"
    return created


def due_events(rt: Runtime, org_id: int, now: datetime, stale_after: timedelta = timedelta(minutes=2)) -> list[int]:
    """The sweeper: events left ``received`` (enqueue lost, or waiting for their retry time)."""
    with rt.sessions() as s:
        return [e.id for e in repos.stale_inbox_events(s, org_id, now - stale_after)]
