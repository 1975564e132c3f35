"""Moneybird sandbox: registered webhooks, outgoing payloads, ``Moneybird-Signature`` signing and HTTP delivery.

``WebhookState`` is mixed into the state object (``state.py``): it queues one delivery per matching registered
webhook whenever an invoice, payment or note changes; ``deliver_webhooks()`` (or the background
``DeliveryWorker``) then POSTs them with the exact headers of docs/providers/moneybird.md#webhooks:
``Moneybird-Signature: t=..,v1=..`` over ``"{t}." + raw body``, ``Idempotency-Key`` reused on retries,
``User-Agent: MoneyBird Webhook``. The routes that register webhooks are in ``writeback.py``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import requests
import structlog

from sandboxes.moneybird.records import IdSource
from sandboxes.moneybird.render import NOT_FOUND, Record, SandboxError, stamp

log = structlog.get_logger(__name__)

USER_AGENT = "MoneyBird Webhook"  # docs/providers/moneybird.md#payload
MAX_ATTEMPTS = 10  # docs/providers/moneybird.md#retries-and-duplicates: non-200 answers are retried up to 10 times


def signature_header(secrets: list[str], timestamp: int, raw_body: bytes) -> str:
    """``t=<unix>,v1=<hex>[,v1=<hex>]`` — one ``v1`` per active secret (docs/providers/moneybird.md#signature)."""
    signed = f"{timestamp}.".encode() + raw_body
    parts = [f"t={timestamp}"]
    parts += [f"v1={hmac.new(s.encode(), signed, hashlib.sha256).hexdigest()}" for s in secrets]
    return ",".join(parts)


def event_matches(enabled_events: list[str], action: str) -> bool:
    """docs/providers/moneybird.md#subscribing: names or group prefixes; no ``enabled_events`` = legacy invoice state
    changes only (docs/providers/moneybird.md#subscribing)."""
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
    """The JSON body of one push (docs/providers/moneybird.md#payload), serialised once so retries resend the same
    bytes."""
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
    """The unsigned registration check: the URL must answer 200 (docs/providers/moneybird.md#subscribing)."""
    status, _ = post(url, b"{}", {"Content-Type": "application/json", "User-Agent": USER_AGENT}, timeout)
    return status


class WebhookState:
    """The webhook half of the state object (mixed into ``MoneybirdSandbox``): registered webhooks live in each
    administration's records, queued pushes in ``data["deliveries"]``. Expects the host's attributes below."""

    data: dict[str, Any]
    lock: threading.RLock
    duplicate_rate: float
    webhook_timeout: float
    failed_deliveries: list[Record]
    _rng: random.Random
    _backoff: dict[str, float]
    _in_flight: set[str]
    _next_id: IdSource

    def now(self) -> datetime:
        raise NotImplementedError

    def save(self) -> None:
        raise NotImplementedError

    def tenant_ids(self) -> list[str]:
        raise NotImplementedError

    def administration(self, adm_id: str) -> Record:
        raise NotImplementedError

    # -- registration, signing and delivery --------------------------------------------------------------------
    def emit(
        self,
        adm_id: str,
        action: str,
        entity_type: str,
        entity_id: str,
        state: str | None,
        entity: Record | Callable[[], Record],
    ) -> None:
        """Queue one push per active webhook of the administration that subscribes to ``action``.

        ``entity`` is the API representation at push time (docs/providers/moneybird.md#payload); a callable is rendered
        lazily.
        """
        for webhook in self.administration(adm_id)["webhooks"].values():
            if webhook.get("deactivated_at") or not event_matches(webhook["enabled_events"], action):
                continue
            if callable(entity):
                entity = entity()
            body = payload(adm_id, webhook, entity_type, entity_id, state, action, entity)
            self.data["deliveries"].append(
                {
                    "id": uuid.uuid4().hex,
                    "adm": adm_id,
                    "webhook_id": webhook["id"],
                    "body": body,
                    "key": str(uuid.uuid4()),
                    "attempts": 0,
                }
            )

    def create_webhook(
        self,
        adm_id: str,
        url: str,
        enabled_events: list[str],
        *,
        secret: str | None = None,
    ) -> Record:
        adm = self.administration(adm_id)
        webhook = {
            "id": self._next_id(),
            "administration_id": adm_id,
            "url": url,
            "enabled_events": list(enabled_events),
            "last_http_status": None,
            "last_http_body": None,
            "token": secrets.token_urlsafe(18),
            "secret": secret or secrets.token_hex(32),
            "previous_secret": None,
            "previous_secret_until": None,
            "deactivated_at": None,
        }
        adm["webhooks"][webhook["id"]] = webhook
        self.save()
        return webhook

    def set_webhook_target(self, url: str, key: str) -> None:
        """Register ``url`` for every event on every administration, signed with ``key`` (no probe)."""
        with self.lock:
            for adm_id in self.tenant_ids():
                self.create_webhook(adm_id, url, ["sales_invoice", "payment", "contact", "note"], secret=key)

    def rotate_webhook_secret(self, adm_id: str, webhook_id: str, overlap: timedelta = timedelta(hours=24)) -> str:
        """New secret; pushes are signed with the new and the old secret (two ``v1``) during ``overlap``."""
        with self.lock:
            webhook = self.administration(adm_id)["webhooks"].get(str(webhook_id))
            if webhook is None:
                raise SandboxError(404, NOT_FOUND)
            webhook["previous_secret"] = webhook["secret"]
            webhook["previous_secret_until"] = stamp(self.now() + overlap)
            webhook["secret"] = secrets.token_hex(32)
            self.save()
            return str(webhook["secret"])

    def _signing_secrets(self, webhook: Record) -> list[str]:
        active = [webhook["secret"]]
        if webhook.get("previous_secret") and webhook["previous_secret_until"] > stamp(self.now()):
            active.append(webhook["previous_secret"])
        return active

    def deliver_webhooks(self, *, respect_backoff: bool = False) -> int:
        """POST every queued push now; returns how many POSTs were answered 200 (duplicates included)."""
        with self.lock:
            jobs = []
            for delivery in list(self.data["deliveries"]):
                webhook = self.data["administrations"][delivery["adm"]]["webhooks"].get(delivery["webhook_id"])
                if webhook is None:
                    self.data["deliveries"].remove(delivery)
                elif delivery["id"] in self._in_flight:
                    continue  # another thread (the background worker) is pushing it right now
                elif not respect_backoff or self._backoff.get(delivery["id"], 0.0) <= time.monotonic():
                    self._in_flight.add(delivery["id"])
                    jobs.append((delivery, webhook))
        delivered = 0
        for delivery, webhook in jobs:
            status = self._push(delivery, webhook)
            with self.lock:
                delivery["attempts"] += 1
                self._in_flight.discard(delivery["id"])
                if status == 200:
                    delivered += 1
                    self.data["deliveries"].remove(delivery)
                elif delivery["attempts"] >= MAX_ATTEMPTS:
                    self.data["deliveries"].remove(delivery)
                    self.failed_deliveries.append(delivery)
                else:
                    self._backoff[delivery["id"]] = time.monotonic() + min(2 ** delivery["attempts"], 60) / 2
                duplicate = status == 200 and self.duplicate_rate and self._rng.random() < self.duplicate_rate
            # docs/providers/moneybird.md#retries-and-duplicates: duplicates even after a 200
            if duplicate and self._push(delivery, webhook) == 200:
                delivered += 1
        if jobs:
            self.save()
        return delivered

    def _push(self, delivery: Record, webhook: Record) -> int | None:
        raw = delivery["body"].encode()
        with self.lock:
            signature = signature_header(self._signing_secrets(webhook), int(self.now().timestamp()), raw)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Idempotency-Key": delivery["key"],
            "Moneybird-Signature": signature,
        }
        status, text = post(webhook["url"], raw, headers, self.webhook_timeout)
        with self.lock:
            webhook["last_http_status"] = status
            webhook["last_http_body"] = text
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
