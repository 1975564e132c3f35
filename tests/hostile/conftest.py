"""A receiving web app on a migrated database (SQLite and PostgreSQL) with one connected tenant per provider.

The hostile-input tests post to it through Flask's test client: Xero and Exact verify with the app-wide keys from
settings, Moneybird with the per-tenant secret stored (encrypted) on its administration, as after a real connect.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from flask import Flask
from flask.testing import FlaskClient

from adapters.exact import webhooks as exact_webhooks
from adapters.moneybird import webhooks as moneybird_webhooks
from adapters.xero import webhooks as xero_webhooks
from connector.auth.crypto import TokenCipher
from connector.model import Tenant
from connector.runtime import Runtime
from connector.settings import Settings
from connector.storage import repos
from connector.storage.db import transaction
from dashboard import create_app

XERO_KEY = "xero-webhook-key-for-tests"
EXACT_KEY = "exact-webhook-key-for-tests"
MONEYBIRD_SECRET = "moneybird-per-tenant-secret"
TENANTS = {"xero": "e629a03c-7ffe-4913-bd94-ff2fdb36a702", "exact": "123456", "moneybird": "381927349137"}


@dataclass
class ReceiverWorld:
    app: Flask
    client: FlaskClient
    runtime: Runtime
    org_id: int
    queue: Any

    def now(self) -> datetime:
        return self.runtime.clock()

    def inbox(self) -> list[Any]:
        """Every stored inbox row, whatever its organisation (dead letters without one included)."""
        with self.runtime.sessions() as s:
            return [*repos.inbox_events(s, self.org_id, limit=100_000), *repos.inbox_events(s, None, limit=100_000)]


def make_settings(tmp_path: Path, db_url: str, **extra: Any) -> Settings:
    return Settings(
        var_dir=tmp_path / "var",
        database_url=db_url,
        secret_keys=[TokenCipher.generate_key()],
        xero={"webhook_key": XERO_KEY},
        exact={"webhook_key": EXACT_KEY},
        **extra,
    )


def seed_tenants(rt: Runtime) -> int:
    with transaction(rt.sessions) as s:
        org_id = repos.create_organisation(s, "Hostile BV")
        for provider, tenant_id in TENANTS.items():
            connection = repos.create_connection(s, org_id, provider, provider)
            adm = repos.upsert_administration(
                s, org_id, connection.id, provider, Tenant(provider_tenant_id=tenant_id, name=provider)
            )
            if provider == "moneybird":
                binding = rt.webhook_secret_binding(provider, tenant_id)
                adm.webhook_secret_ciphertext = rt.cipher.encrypt(binding, {"secret": MONEYBIRD_SECRET})
    return org_id


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[ReceiverWorld]:
    rt = Runtime(make_settings(tmp_path, db_url))
    org_id = seed_tenants(rt)
    queue = mock.Mock()
    app = create_app(rt.settings, runtime=rt, queue=queue, org_id=org_id)
    yield ReceiverWorld(app, app.test_client(), rt, org_id, queue)
    rt.engine.dispose()


# --- signed deliveries, as each provider sends them ------------------------------------------------------------
def xero_delivery(events: list[dict[str, Any]], key: str = XERO_KEY) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps({"events": events, "firstEventSequence": 1, "lastEventSequence": 1, "entropy": "X"}).encode()
    return raw, {"x-xero-signature": xero_webhooks.signature(key, raw)}


def xero_event(**overrides: Any) -> dict[str, Any]:
    return {
        "resourceId": "44aa0707-f718-4f1c-8d53-f2da9ca59533",
        "eventDateUtc": "2026-02-09T09:18:28.917Z",
        "eventType": "UPDATE",
        "eventCategory": "INVOICE",
        "tenantId": TENANTS["xero"],
        "tenantType": "ORGANISATION",
        **overrides,
    }


def exact_delivery(content: dict[str, Any] | bytes, key: str = EXACT_KEY) -> tuple[bytes, dict[str, str]]:
    raw_content = content if isinstance(content, bytes) else json.dumps(content).encode()
    code = hmac.new(key.encode(), raw_content, hashlib.sha256).hexdigest().upper()
    assert exact_webhooks.hash_code(raw_content, key) == code, "the test's HashCode must be Exact's"
    return b'{"Content":' + raw_content + b',"HashCode":"' + code.encode() + b'"}', {}


def exact_content(**overrides: Any) -> dict[str, Any]:
    return {
        "Topic": "SalesEntries",
        "Division": int(TENANTS["exact"]),
        "Action": "Update",
        "Key": "00000000-0000-0000-0000-00000000abcd",
        "EventCreatedOn": "2026-01-15T10:20:30.123",
        **overrides,
    }


def moneybird_delivery(
    body: dict[str, Any] | bytes, now: datetime, *, key: str = "k-1", secret: str = MONEYBIRD_SECRET
) -> tuple[bytes, dict[str, str]]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    stamp = int(now.timestamp())
    signature = moneybird_webhooks.sign(secret, stamp, raw)
    return raw, {"Moneybird-Signature": f"t={stamp},v1={signature}", "Idempotency-Key": key}


def moneybird_body(**overrides: Any) -> dict[str, Any]:
    return {
        "administration_id": TENANTS["moneybird"],
        "webhook_id": "1",
        "entity_type": "SalesInvoice",
        "entity_id": "42",
        "state": "paid",
        "action": "sales_invoice_state_changed_to_paid",
        **overrides,
    }
