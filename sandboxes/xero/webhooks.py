"""Outgoing Xero webhooks from the sandbox: queued events, signed deliveries and the intent-to-receive check.

Mixed into the sandbox state object. ``set_webhook_target(url, key)`` stands in for the developer portal
(docs/providers/xero.md#subscribing); changes queue INVOICE/CONTACT/CREDITNOTE events; ``deliver_webhooks()`` POSTs them
in Xero's payload shape signed ``x-xero-signature`` = base64(HMAC-SHA256(key, raw body)) and keeps failed ones queued;
``send_intent_to_receive()`` replays Xero's ITR: correctly signed empty payloads must get 200 with an empty body,
deliberately mis-signed ones 401 (docs/providers/xero.md#signature).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

API_BASE = "https://api.xero.com/api.xro/2.0"
_RESOURCE_PATHS = {"INVOICE": "Invoices", "CONTACT": "Contacts", "CREDITNOTE": "CreditNotes"}


def sign(key: str, raw: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode("utf-8"), raw, hashlib.sha256).digest()).decode()


def payload_bytes(events: list[dict[str, Any]], first: int, last: int, entropy: str) -> bytes:
    """Xero's body, spaces included as real deliveries have them (docs/providers/xero.md#test-vectors)."""
    events_json = json.dumps(events, separators=(",", ":"))
    return (
        f'{{"events":{events_json},"firstEventSequence": {first},"lastEventSequence": {last}, "entropy": "{entropy}"}}'
    ).encode()


@dataclass
class ITRResult:
    """Outcome of an intent-to-receive run, as the developer portal reports it."""

    passed: bool
    attempts: list[dict[str, Any]] = field(default_factory=list)


class WebhookState:
    """Expects ``now()``, ``lock`` and ``changed()`` from the host class."""

    def __init__(self) -> None:
        self.webhook_url: str | None = None
        self.webhook_key: str | None = None
        self.webhook_status = "NOT_CONFIGURED"
        self.event_queue: list[dict[str, Any]] = []
        self.event_sequence = 0
        self.deliveries: list[dict[str, Any]] = []
        self.max_events_per_delivery = 50
        self._rng = random.Random(7)  # entropy strings; deterministic for reproducible tests

    def now(self) -> datetime:
        raise NotImplementedError

    def set_webhook_target(self, url: str, key: str) -> None:
        self.webhook_url, self.webhook_key = url, key
        self.webhook_status = "CONFIGURED"

    def queue_event(
        self, tenant: str, category: str, event_type: str, resource_id: str, data: dict[str, Any] | None = None
    ) -> None:
        if self.webhook_url is None:
            return
        moment = self.now().astimezone(UTC)
        event: dict[str, Any] = {
            "resourceUrl": f"{API_BASE}/{_RESOURCE_PATHS[category]}/{resource_id}",
            "resourceId": resource_id,
            "eventDateUtc": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z",
            "eventType": event_type,
            "eventCategory": category,
            "tenantId": tenant,
            "tenantType": "ORGANISATION",
        }
        if data is not None:
            event["data"] = data
        self.event_queue.append(event)

    def deliver_webhooks(self, *, duplicate: bool = False, session: requests.Session | None = None) -> int:
        """POST queued events; return how many were acknowledged with 200. ``duplicate`` sends each twice."""
        if not self.webhook_url or not self.webhook_key:
            return 0
        http = session or requests.Session()
        delivered = 0
        while self.event_queue:
            batch = self.event_queue[: self.max_events_per_delivery]
            first = self.event_sequence + 1
            raw = payload_bytes(batch, first, first + len(batch) - 1, self._entropy())
            statuses = [self._post(http, raw, sign(self.webhook_key, raw)) for _ in range(2 if duplicate else 1)]
            if statuses[0] != 200:
                break  # Xero retries later with decreasing frequency (docs/providers/xero.md#retries-and-duplicates)
            self.event_sequence += len(batch)
            del self.event_queue[: len(batch)]
            delivered += len(batch)
        return delivered

    def send_intent_to_receive(self, *, session: requests.Session | None = None) -> ITRResult:
        """Several empty-event payloads, some deliberately mis-signed; pass = 200/empty vs 401 every time."""
        if not self.webhook_url or not self.webhook_key:
            raise RuntimeError("set_webhook_target(url, key) first")
        http = session or requests.Session()
        result = ITRResult(passed=True)
        for correctly_signed in (True, False, True, False):
            raw = payload_bytes([], 0, 0, self._entropy())
            signature = sign(self.webhook_key, raw)
            if not correctly_signed:
                signature = _corrupt(signature)
            response = self._send(http, raw, signature)
            status = response.status_code if response is not None else 0
            body = response.content if response is not None else b""
            ok = (status == 200 and body == b"") if correctly_signed else status == 401
            result.attempts.append({"correctly_signed": correctly_signed, "status": status, "ok": ok})
            result.passed = result.passed and ok
        self.webhook_status = "OK" if result.passed else "INTENT_TO_RECEIVE_FAILED"
        return result

    def _post(self, http: requests.Session, raw: bytes, signature: str) -> int:
        response = self._send(http, raw, signature)
        status = response.status_code if response is not None else 0
        self.deliveries.append({"status": status, "bytes": len(raw)})
        return status

    def _send(self, http: requests.Session, raw: bytes, signature: str) -> requests.Response | None:
        if self.webhook_url is None:
            return None
        try:
            return http.post(
                self.webhook_url,
                data=raw,
                timeout=5,
                headers={"Content-Type": "application/json", "x-xero-signature": signature},
            )
        except requests.RequestException:
            return None

    def _entropy(self) -> str:
        return "".join(self._rng.choice(string.ascii_uppercase) for _ in range(20))


def _corrupt(signature: str) -> str:
    """Change the first character, as in the real mis-signed ITR (``/jzN…`` vs ``BjzN…``,
    docs/providers/xero.md#test-vectors)."""
    first = "B" if signature[0] != "B" else "/"
    return first + signature[1:]
