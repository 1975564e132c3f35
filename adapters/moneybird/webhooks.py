"""Moneybird webhook verification and parsing (docs/providers/moneybird.md#webhooks), pure functions over the raw bytes.

``Moneybird-Signature: t=<unix>,v1=<hex>[,v1=...]`` is HMAC-SHA256 over ``"{t}." + raw body``; any ``v1`` may
match (rotation), unknown schemes are ignored, ``t`` must be within 5 minutes either way. Dedupe on the
``Idempotency-Key`` header (unique per push, reused on retries) and, since that header is not signed, on the
digest of the signed content too (``signed_digest``): a replay with a new key within the window is the same push.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from connector.errors import GarbageResponse, WebhookRejected
from connector.model import WebhookEvent
from connector.parsing import parse_json

TOLERANCE_SECONDS = 300
MAX_TIMESTAMP_DIGITS = 12  # Unix seconds until the year 33658; longer is no timestamp
_ENTITY = {"SalesInvoice": "invoice", "Contact": "debtor", "Payment": "payment", "Administration": "tenant"}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def sign(secret: str, timestamp: int, raw: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256).hexdigest()


def _signature_parts(header: str) -> tuple[int | None, list[str]]:
    """``t`` (a Unix time: at most 12 ASCII digits, anything else is no ``t``) and every ``v1`` of the header."""
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit() and len(value) <= MAX_TIMESTAMP_DIGITS:
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value.strip())
    return timestamp, candidates


def signed_digest(raw: bytes, headers: Mapping[str, str]) -> str | None:
    """SHA-256 of exactly what the signature covers (``"{t}." + raw body``): a replay of a delivery carries the
    same one whatever ``Idempotency-Key`` it is sent with (that header is not signed)."""
    timestamp, _ = _signature_parts(_header(headers, "Moneybird-Signature") or "")
    return None if timestamp is None else hashlib.sha256(f"{timestamp}.".encode() + raw).hexdigest()


def verify(raw: bytes, headers: Mapping[str, str], secrets: Sequence[str], now: datetime) -> None:
    header = _header(headers, "Moneybird-Signature")
    if not header:
        raise WebhookRejected("Moneybird-Signature header missing")
    timestamp, candidates = _signature_parts(header)
    if timestamp is None or not candidates:
        raise WebhookRejected("Moneybird-Signature without t= or v1=")
    if abs(now.timestamp() - timestamp) > TOLERANCE_SECONDS:
        raise WebhookRejected("Moneybird-Signature timestamp outside the 5-minute window")
    for secret in secrets:
        expected = sign(secret, timestamp, raw).encode()
        for candidate in candidates:
            if hmac.compare_digest(expected, candidate.encode()):
                return
    raise WebhookRejected("Moneybird-Signature does not match")


def _body(raw: bytes) -> dict[str, Any]:
    try:
        body = parse_json(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise GarbageResponse(f"webhook body is not JSON: {exc}", provider="moneybird") from exc
    if not isinstance(body, dict):
        raise GarbageResponse("webhook body is not a JSON object", provider="moneybird")
    return body


def parse(raw: bytes, headers: Mapping[str, str]) -> list[WebhookEvent]:
    body = _body(raw)
    try:
        action = str(body["action"])
        tenant = str(body["administration_id"])
        entity_type = _ENTITY.get(str(body.get("entity_type")), "other")
        entity = body.get("entity") if isinstance(body.get("entity"), dict) else {}
        entity_id = str(body["entity_id"]) if body.get("entity_id") is not None else None
    except KeyError as exc:
        raise GarbageResponse(f"webhook body lacks {exc}", provider="moneybird") from exc
    if entity_type == "payment" and entity and entity.get("invoice_id"):
        # docs/providers/moneybird.md#payload: for payment events the entity is the Payment; re-read its invoice
        entity_type, entity_id = "invoice", str(entity["invoice_id"])
    dedupe = _header(headers, "Idempotency-Key") or hashlib.sha256(raw).hexdigest()
    return [
        WebhookEvent(
            provider_tenant_id=tenant,
            dedupe_id=dedupe,
            entity_type=entity_type,
            entity_id=entity_id,
            action=action,
            signed_digest=signed_digest(raw, headers),
        )
    ]


def is_handshake(raw: bytes, headers: Mapping[str, str]) -> bool:
    """The registration probe arrives unsigned before we know the secret (docs/providers/moneybird.md#subscribing): an
    unsigned body that names no entity. Unsigned deliveries that do name one are rejected by ``verify``."""
    if _header(headers, "Moneybird-Signature"):
        return False
    if not raw.strip():
        return True
    try:
        body = parse_json(raw)
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(body, dict) and not body.get("entity_id") and not body.get("entity")


def tenant_hint(raw: bytes, headers: Mapping[str, str]) -> str | None:
    try:
        body = parse_json(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    value = body.get("administration_id") if isinstance(body, dict) else None
    return str(value) if value is not None else None
