"""Exact sandbox: webhook subscriptions, the ``HashCode``-signed bodies and their delivery
(docs/providers/exact.md#webhooks).

``WebhookState`` is mixed into the state object (``state.py``): changes queue one event per matching
subscription of the division; ``deliver_webhooks()`` POSTs them as ``{"Content":{…},"HashCode":"…"}`` with the
upper-case hex HMAC-SHA256 of the Content bytes under the app's webhook secret, and keeps failed ones queued for
up to ten tries (docs/providers/exact.md#signature, docs/providers/exact.md#retries-and-duplicates).
``set_webhook_target`` stands in for the App Center settings; the subscription endpoints themselves are in
``writeback.py``.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import threading
from datetime import datetime
from typing import Any

import requests

from sandboxes.exact.render import dumps, new_id


class WebhookState:
    """The webhook half of ``ExactState``; expects the host's attributes and methods below."""

    db: dict[str, Any]
    lock: threading.RLock
    client_id: str
    webhook_key: str
    rng: random.Random

    def now(self) -> datetime:
        raise NotImplementedError

    def save(self) -> None:
        raise NotImplementedError

    def tenant_ids(self) -> list[str]:
        raise NotImplementedError

    def division(self, tenant: str | int) -> dict[str, Any]:
        raise NotImplementedError

    # --- subscriptions, signing and delivery ---------------------------------------------------------------------
    def queue_event(self, tenant: str, topic: str, key: str, action: str) -> None:
        for sub in self.division(tenant)["subscriptions"].values():
            if sub["Topic"] == topic:
                created = self.now().strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.now().microsecond // 1000:03d}"
                self.db["queue"].append(
                    {
                        "url": sub["CallbackURL"],
                        "tries": 0,
                        "content": {
                            "Topic": topic,
                            "ClientId": self.client_id,
                            "Division": int(tenant),
                            "Action": action,
                            "Key": key,
                            "ExactOnlineEndpoint": f"https://start.exactonline.nl/api/v1/{tenant}/{topic}",
                            "EventCreatedOn": created,
                        },
                    }
                )

    def signed_body(self, content: dict[str, Any]) -> bytes:
        """docs/providers/exact.md#signature: ``{"Content":{…},"HashCode":"<UPPER hex HMAC-SHA256 of the Content
        bytes>"}``."""
        raw = dumps(content).encode("utf-8")
        code = hmac.new(self.webhook_key.encode("utf-8"), raw, hashlib.sha256).hexdigest().upper()
        return b'{"Content":' + raw + b',"HashCode":"' + code.encode("ascii") + b'"}'

    def set_webhook_target(self, url: str, key: str) -> None:
        """The app's webhook secret (App Center) and, when ``url`` is set, subscribe every division to it."""
        with self.lock:
            self.webhook_key = key
            if url:
                for tenant in self.tenant_ids():
                    for topic in ("SalesEntries", "SalesInvoices", "BankEntries", "Accounts"):
                        self.subscribe(tenant, url, topic)
            self.save()

    def subscribe(self, tenant: str, url: str, topic: str) -> dict[str, Any]:
        subs = self.division(tenant)["subscriptions"]
        for sub in subs.values():
            if sub["CallbackURL"] == url and sub["Topic"] == topic:
                return dict(sub)
        sub = {
            "ID": new_id(self.rng),
            "CallbackURL": url,
            "Topic": topic,
            "ClientID": self.client_id,
            "Division": int(tenant),
            "UserID": self.db["user"].get("UserID"),
            "Description": None,
            "Created": self.now(),
            "Creator": self.db["user"].get("UserID"),
            "IsInstant": False,
        }
        subs[sub["ID"]] = sub
        return dict(sub)

    def deliver_webhooks(self) -> int:
        """POST queued events to their callbacks; failures stay queued (Exact retries 10 times,
        docs/providers/exact.md#retries-and-duplicates)."""
        with self.lock:
            queue, self.db["queue"] = self.db["queue"], []
        delivered, keep = 0, []
        for item in queue:
            body = self.signed_body(item["content"])
            try:
                ok = (
                    requests.post(
                        item["url"], data=body, headers={"Content-Type": "application/json"}, timeout=10
                    ).status_code
                    < 300
                )
            except requests.RequestException:
                ok = False
            delivered += ok
            item["tries"] += 0 if ok else 1
            if not ok and item["tries"] < 10:
                keep.append(item)
        with self.lock:
            self.db["queue"] = keep + self.db["queue"]
            self.save()
        return delivered
