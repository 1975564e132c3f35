"""Xero webhook verification and parsing, run by the receiver on the raw request bytes.

``verify``: ``x-xero-signature`` must equal base64(HMAC-SHA256(key, raw body)) for one of the keys, compared
in constant time on equal-length bytes; re-serialised JSON therefore fails (docs/providers/xero.md#signature). ``parse``
turns a verified body into ``WebhookEvent`` hints deduplicated on (tenantId, eventCategory, resourceId, eventDateUtc);
an intent-to-receive payload (empty ``events``) verifies like any other and parses to ``[]``, so the receiver
answers it 200 (correct signature) or 401 (wrong one) without special-casing it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from connector.errors import GarbageResponse, WebhookRejected
from connector.model import WebhookEvent
from connector.parsing import parse_json

SIGNATURE_HEADER = "x-xero-signature"
_ENTITY = {"INVOICE": "invoice", "CONTACT": "debtor", "CREDITNOTE": "credit_note", "SUBSCRIPTION": "other"}
_REQUIRED = ("tenantId", "eventCategory", "resourceId", "eventDateUtc", "eventType")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def signature(key: str, raw: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode("utf-8"), raw, hashlib.sha256).digest()).decode("ascii")


def verify(raw: bytes, headers: Mapping[str, str], secrets: Sequence[str], now: datetime) -> None:
    received = (_header(headers, SIGNATURE_HEADER) or "").strip().encode("ascii", "replace")
    if not received:
        raise WebhookRejected("missing x-xero-signature")
    for key in secrets:
        if not key:
            continue
        expected = signature(key, raw).encode("ascii")
        if len(expected) == len(received) and hmac.compare_digest(expected, received):
            return
    raise WebhookRejected("x-xero-signature does not match")


def _body(raw: bytes) -> dict[str, Any]:
    try:
        body = parse_json(raw)
    except (ValueError, UnicodeDecodeError):
        raise GarbageResponse("xero webhook body is not JSON", provider="xero") from None
    if not isinstance(body, dict) or not isinstance(body.get("events"), list):
        raise GarbageResponse("xero webhook body has no events list", provider="xero")
    return body


def _occurred(text: str) -> datetime | None:
    """``eventDateUtc``: ``…917Z`` in real payloads, zone-less in the spec; zone-less means UTC
    (docs/providers/xero.md#dates)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def dedupe_id(event: Mapping[str, Any]) -> str:
    key = "|".join(str(event[k]) for k in ("tenantId", "eventCategory", "resourceId", "eventDateUtc"))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def parse(raw: bytes, headers: Mapping[str, str]) -> list[WebhookEvent]:
    events = []
    for event in _body(raw)["events"]:
        if not isinstance(event, dict) or any(not event.get(k) for k in _REQUIRED):
            raise GarbageResponse("xero webhook event lacks tenantId/eventCategory/resourceId/...", provider="xero")
        events.append(
            WebhookEvent(
                provider_tenant_id=str(event["tenantId"]),
                dedupe_id=dedupe_id(event),
                entity_type=_ENTITY.get(str(event["eventCategory"]).upper(), "other"),
                entity_id=str(event["resourceId"]),
                action=str(event["eventType"]).lower(),
                occurred_at=_occurred(str(event["eventDateUtc"])),
            )
        )
    return events


def tenant_hint(raw: bytes, headers: Mapping[str, str]) -> str | None:
    try:
        events = _body(raw)["events"]
    except GarbageResponse:
        return None
    first = events[0] if events and isinstance(events[0], dict) else {}
    return str(first["tenantId"]) if first.get("tenantId") else None
