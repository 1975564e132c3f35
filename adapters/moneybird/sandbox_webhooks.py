"""Moneybird sandbox: outgoing webhook payloads, ``Moneybird-Signature`` signing and HTTP delivery.

The sandbox state queues one delivery per matching registered webhook whenever an invoice, payment or note
changes; ``deliver_webhooks()`` (or the background ``DeliveryWorker``) then POSTs them here with the exact
headers of moneybird.md §5.3-§5.5: ``Moneybird-Signature: t=..,v1=..`` over ``"{t}." + raw body``,
``Idempotency-Key`` reused on retries, ``User-Agent: MoneyBird Webhook``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable
from typing import Any

import requests
import structlog

log = structlog.get_logger(__name__)

USER_AGENT = "MoneyBird Webhook"  # moneybird.md §5.3
MAX_ATTEMPTS = 10  # moneybird.md §5.5: non-200 answers are retried up to 10 times


def signature_header(secrets: list[str], timestamp: int, raw_body: bytes) -> str:
    """``t=<unix>,v1=<hex>[,v1=<hex>]`` — one ``v1`` per active secret (moneybird.md §5.4)."""
    signed = f"{timestamp}.".encode() + raw_body
    parts = [f"t={timestamp}"]
    parts += [f"v1={hmac.new(s.encode(), signed, hashlib.sha256).hexdigest()}" for s in secrets]
    return ",".join(parts)


def event_matches(enabled_events: list[str], action: str) -> bool:
    """§5.2: names or group prefixes; no ``enabled_events`` = legacy invoice state changes only (§5.1)."""
    if not enabled_events:
        return action.startswith("sales_invoice_state_changed")
    return any(action == name or action.startswith(name) for name in enabled_events)


def payload(
    adm_id: str,
    webhook: dict[str, Any],
    entity_type: str,
    entity_id: str,
    state: str | None,
    action: str,
    entity: dict[str, Any],
) -> str:
    """The JSON body of one push (moneybird.md §5.3), serialised once so retries resend the same bytes."""
    return json.dumps(
        {
            "administration_id": adm_id,
            "webhook_id": webhook["id"],
            "webhook_token": webhook["token"],
            "entity_type": entity_type,
            "entity_id": entity_id,
            "state": state,
            "action": action,
            "entity": entity,
        },
        separators=(",", ":"),
    )


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int | None, str | None]:
    """POST and return (status, short body); (None, error text) when the receiver is unreachable."""
    try:
        response = requests.post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        return None, type(exc).__name__
    return response.status_code, response.text[:500]


def probe(url: str, timeout: float) -> int | None:
    """The unsigned registration check: the URL must answer 200 (moneybird.md §5.1)."""
    status, _ = post(url, b"{}", {"Content-Type": "application/json", "User-Agent": USER_AGENT}, timeout)
    return status


class DeliveryWorker:
    """Calls ``deliver`` every ``interval`` seconds in a daemon thread (the demo's ``background_delivery``)."""

    def __init__(self, deliver: Callable[[], int], interval: float = 0.5) -> None:
        self.deliver = deliver
        self.interval = interval
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="moneybird-sandbox-webhooks", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        if self.thread.is_alive():
            self.thread.join(timeout=5)

    def _run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                self.deliver()
            except Exception:  # noqa: BLE001 - the worker must survive a broken receiver
                log.exception("moneybird_sandbox_webhook_delivery_failed")
