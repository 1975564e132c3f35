"""Exact Online webhooks: the empty validation POST, ``HashCode`` verification over raw bytes, and parsing.

Sits between the receiver (``webhooks/`` gives us the exact bytes received) and ``connector.inbox``. A
delivery is ``{"Content": {...}, "HashCode": "<HEX>"}``; the signature is the UPPER-case hex HMAC-SHA256 of
the raw ``Content`` object with the app's webhook secret (docs/providers/exact.md#signature). We locate the ``Content``
value's exact byte span with the JSON scanner (never re-serialise) and compare case-sensitively in constant time.
Events are thin hints (docs/providers/exact.md#subscribing): the core re-reads the entity or runs the division's sync.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from connector.errors import GarbageResponse, WebhookRejected
from connector.model import WebhookEvent
from connector.parsing import json_too_deep, parse_json

_DECODER = json.JSONDecoder()
_WS = " \t\r\n"
# Topic → our entity type. SalesEntries keys are our invoice refs (EntryID); the other financial topics only
# say "receivables in this division may have changed" (no receivables/payments topic,
# docs/providers/exact.md#subscribing).
_KEYED_TOPICS = {"SalesEntries": "invoice", "Accounts": "debtor"}
_DIVISION_HINT_TOPICS = {"SalesInvoices", "BankEntries", "CashEntries", "FinancialTransactions"}


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WS:
        pos += 1
    return pos


def top_level_spans(text: str) -> dict[str, tuple[int, int]]:
    """Character spans of each top-level member value of a JSON object, exactly as they appear in ``text``."""
    pos = _skip_ws(text, 0)
    if not text.startswith("{", pos):
        raise ValueError("not a JSON object")
    spans: dict[str, tuple[int, int]] = {}
    pos = _skip_ws(text, pos + 1)
    if text.startswith("}", pos):
        return spans
    while True:
        key, pos = _DECODER.raw_decode(text, pos)
        pos = _skip_ws(text, pos)
        if not isinstance(key, str) or not text.startswith(":", pos):
            raise ValueError("malformed member")
        start = _skip_ws(text, pos + 1)
        _, end = _DECODER.raw_decode(text, start)
        if key in spans:
            raise ValueError(f"duplicate member {key!r}")
        spans[key] = (start, end)
        pos = _skip_ws(text, end)
        if text.startswith("}", pos):
            if _skip_ws(text, pos + 1) != len(text):
                raise ValueError("trailing data")
            return spans
        if not text.startswith(",", pos):
            raise ValueError("expected ','")
        pos = _skip_ws(text, pos + 1)


def split_delivery(raw: bytes) -> tuple[bytes, str]:
    """The raw ``Content`` bytes and the ``HashCode`` string of a delivery; ``ValueError`` if malformed."""
    text = raw.decode("utf-8")
    if json_too_deep(raw):  # raw_decode recurses per level: refuse before it can exhaust the stack
        raise ValueError("nested too deeply")
    spans = top_level_spans(text)
    if "Content" not in spans or "HashCode" not in spans:
        raise ValueError("Content or HashCode missing")
    c_start, c_end = spans["Content"]
    if not text.startswith("{", c_start):
        raise ValueError("Content is not an object")
    h_start, h_end = spans["HashCode"]
    hash_code = json.loads(text[h_start:h_end])
    if not isinstance(hash_code, str):
        raise ValueError("HashCode is not a string")
    return text[c_start:c_end].encode("utf-8"), hash_code  # a substring of valid UTF-8 re-encodes byte-exactly


def hash_code(content: bytes, secret: str) -> str:
    """docs/providers/exact.md#signature: UPPER-case hex HMAC-SHA256(webhook secret, raw Content bytes)."""
    return hmac.new(secret.encode("utf-8"), content, hashlib.sha256).hexdigest().upper()


def is_handshake(raw: bytes) -> bool:
    """docs/providers/exact.md#subscribing: the subscription's validation request is an empty POST without a
    signature."""
    return raw.strip() == b""


def verify(raw: bytes, secrets: Sequence[str]) -> None:
    try:
        content, given = split_delivery(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WebhookRejected("exact: not a signed delivery") from exc
    usable = [s for s in secrets if s]
    if not usable:
        raise WebhookRejected("exact: no webhook key configured")
    given_bytes = given.encode("ascii", "replace")
    matched = False
    for secret in usable:  # every secret is tried (rotation), compare_digest is case-sensitive
        matched |= hmac.compare_digest(hash_code(content, secret).encode("ascii"), given_bytes)
    if not matched:
        raise WebhookRejected("exact: HashCode mismatch")


def _content(raw: bytes) -> Mapping[str, Any]:
    try:
        body = parse_json(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise GarbageResponse("exact webhook is not JSON") from exc
    content = body.get("Content") if isinstance(body, Mapping) else None
    if not isinstance(content, Mapping):
        raise GarbageResponse("exact webhook without a Content object")
    return content


def tenant_hint(raw: bytes) -> str | None:
    try:
        division = _content(raw).get("Division")
    except GarbageResponse:
        return None
    return str(division) if isinstance(division, int | str) and str(division).isdigit() else None


def _created_on(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    # format unverified (docs/providers/exact.md#payload)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse(raw: bytes) -> list[WebhookEvent]:
    content = _content(raw)
    topic, division = content.get("Topic"), content.get("Division")
    if not isinstance(topic, str) or not isinstance(division, int | str) or not str(division).isdigit():
        raise GarbageResponse("exact webhook without Topic/Division")
    action = str(content.get("Action") or "Update")
    key = str(content["Key"]).lower() if content.get("Key") else None
    stamp = content.get("EventCreatedOn") or ""
    # docs/providers/exact.md#retries-and-duplicates: dedupe on (Topic, Key, Action, Division) plus the event time when
    # Exact sends one
    dedupe = f"exact:{division}:{topic}:{key or ''}:{action}:{stamp}"
    if topic in _KEYED_TOPICS:
        entity_type, entity_id = _KEYED_TOPICS[topic], key
    elif topic in _DIVISION_HINT_TOPICS:
        entity_type, entity_id = "invoice", None  # run the division's PaymentTerms cursor
    else:
        entity_type, entity_id = "other", key
    return [
        WebhookEvent(
            provider_tenant_id=str(division),
            dedupe_id=dedupe,
            entity_type=entity_type,
            entity_id=entity_id,
            action=action.lower(),
            occurred_at=_created_on(stamp),
        )
    ]
