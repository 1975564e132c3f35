"""Hostile edges of the three webhook receivers: nothing from outside is a 500 (docs/operations.md#webhooks).

Each case posts through the real app (Flask test client) on SQLite and PostgreSQL: too-deep JSON, signature
headers no provider sends, signed deliveries whose fields do not fit their columns, and a Moneybird delivery
replayed with a new (unsigned) Idempotency-Key.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from structlog.testing import capture_logs

from adapters.moneybird import webhooks as moneybird_webhooks
from connector.runtime import Runtime
from dashboard import create_app
from tests.hostile.conftest import (
    MONEYBIRD_SECRET,
    TENANTS,
    ReceiverWorld,
    exact_content,
    exact_delivery,
    make_settings,
    moneybird_body,
    moneybird_delivery,
    xero_delivery,
    xero_event,
)

DEEP = 100_000  # far beyond Python's recursion limit: json.loads raises RecursionError on it


def _deep(depth: int = DEEP) -> bytes:
    return b"[" * depth + b"]" * depth


def _deep_object(depth: int = DEEP) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


Delivery = Callable[[datetime], tuple[bytes, dict[str, str]]]

DEEP_CASES: list[tuple[str, str, Delivery]] = [
    ("xero unsigned", "xero", lambda now: (_deep(), {"x-xero-signature": "x"})),
    ("xero signed", "xero", lambda now: (_deep(), {"x-xero-signature": _xero_sig(_deep())})),
    ("xero deep object", "xero", lambda now: (_deep_object(), {})),
    ("exact unsigned", "exact", lambda now: (b'{"Content":' + _deep() + b',"HashCode":"AB"}', {})),
    ("exact signed", "exact", lambda now: exact_delivery(_deep())),
    ("moneybird unsigned", "moneybird", lambda now: (_deep_object(), {})),
    ("moneybird signed", "moneybird", lambda now: moneybird_delivery(_deep_object(), now)),
]


def _xero_sig(raw: bytes) -> str:
    from adapters.xero.webhooks import signature
    from tests.hostile.conftest import XERO_KEY

    return signature(XERO_KEY, raw)


@pytest.mark.parametrize(("name", "provider", "delivery"), DEEP_CASES, ids=[c[0] for c in DEEP_CASES])
def test_too_deep_json_is_a_clear_400(world: ReceiverWorld, name: str, provider: str, delivery: Delivery) -> None:
    raw, headers = delivery(world.now())
    response = world.client.post(f"/webhooks/{provider}", data=raw, headers=headers)
    assert response.status_code == 400, f"{name}: a too-deep body must be refused with 400, got {response.status_code}"
    assert b"levels deep" in response.data, f"{name}: the 400 must say why, got {response.data[:200]!r}"
    assert world.inbox() == [], f"{name}: nothing may be stored for a refused body"


def _signature_headers(now: datetime, t: str) -> dict[str, str]:
    raw = json.dumps(moneybird_body()).encode()
    return {"Moneybird-Signature": f"t={t},v1={moneybird_webhooks.sign(MONEYBIRD_SECRET, int(now.timestamp()), raw)}"}


BAD_T = [
    ("hundreds of digits", "9" * 400),
    ("more digits than int() takes", "9" * 5000),
    ("superscript digit", "1²"),
    ("arabic-indic digits", "١٧٨٧٣٢٠٢٤٥"),
    ("negative", "-1"),
    ("empty", ""),
    ("spaces", " 12 "),
]


@pytest.mark.parametrize(("name", "t"), BAD_T, ids=[b[0] for b in BAD_T])
def test_moneybird_odd_timestamps_are_401(world: ReceiverWorld, name: str, t: str) -> None:
    raw = json.dumps(moneybird_body()).encode()
    headers = _signature_headers(world.now(), t)
    try:
        headers["Moneybird-Signature"].encode("latin-1")
    except UnicodeEncodeError:
        # an HTTP header carries bytes: what a client sends as UTF-8 arrives decoded as latin-1 (PEP 3333)
        headers["Moneybird-Signature"] = headers["Moneybird-Signature"].encode("utf-8").decode("latin-1")
    response = world.client.post("/webhooks/moneybird", data=raw, headers=headers)
    assert response.status_code == 401, f"t={name}: expected 401, got {response.status_code}"
    assert world.inbox() == [], f"t={name}: nothing may be stored without a valid signature"


LONG = "x" * 5000

TOO_LONG: list[tuple[str, str, Delivery]] = [
    ("xero resourceId", "xero", lambda now: xero_delivery([xero_event(resourceId=LONG)])),
    ("xero eventType", "xero", lambda now: xero_delivery([xero_event(eventType=LONG)])),
    ("xero tenantId", "xero", lambda now: xero_delivery([xero_event(tenantId=LONG)])),
    ("exact Key", "exact", lambda now: exact_delivery(exact_content(Key=LONG))),
    ("exact Action", "exact", lambda now: exact_delivery(exact_content(Action=LONG))),
    ("exact Topic", "exact", lambda now: exact_delivery(exact_content(Topic=LONG))),
    ("moneybird entity_id", "moneybird", lambda now: moneybird_delivery(moneybird_body(entity_id=LONG), now)),
    ("moneybird action", "moneybird", lambda now: moneybird_delivery(moneybird_body(action=LONG), now)),
    ("moneybird Idempotency-Key", "moneybird", lambda now: moneybird_delivery(moneybird_body(), now, key=LONG)),
]


@pytest.mark.parametrize(("name", "provider", "delivery"), TOO_LONG, ids=[c[0] for c in TOO_LONG])
def test_signed_fields_longer_than_their_columns_become_dead_letters(
    world: ReceiverWorld, name: str, provider: str, delivery: Delivery
) -> None:
    raw, headers = delivery(world.now())
    response = world.client.post(f"/webhooks/{provider}", data=raw, headers=headers)
    assert response.status_code == 200, f"{name}: a verified delivery is acknowledged (got {response.status_code})"
    rows = world.inbox()
    assert [r.status for r in rows] == ["dead"], f"{name}: expected one dead letter, got {[r.status for r in rows]}"
    assert "characters" in (rows[0].last_error or ""), f"{name}: the dead letter names its reason: {rows[0].last_error}"
    assert world.queue.enqueue.call_count == 0, f"{name}: a dead letter is not processed"
    again = world.client.post(f"/webhooks/{provider}", data=raw, headers=headers)
    assert again.status_code == 200 and len(world.inbox()) == 1, f"{name}: the provider's retry is not stored twice"


def test_moneybird_replay_with_a_new_idempotency_key_is_not_stored_twice(world: ReceiverWorld) -> None:
    raw, headers = moneybird_delivery(moneybird_body(), world.now(), key="push-1")
    assert world.client.post("/webhooks/moneybird", data=raw, headers=headers).status_code == 200
    replayed: dict[str, Any] = {**headers, "Idempotency-Key": "attacker-chosen"}
    assert world.client.post("/webhooks/moneybird", data=raw, headers=replayed).status_code == 200
    without_key = {k: v for k, v in headers.items() if k != "Idempotency-Key"}
    assert world.client.post("/webhooks/moneybird", data=raw, headers=without_key).status_code == 200
    assert len(world.inbox()) == 1, "the same signed content is one event, whatever Idempotency-Key it carries"
    # Moneybird's own retry signs again (a new t) and keeps the key: still the same push
    later = world.now().replace(microsecond=0)
    stamp = int(later.timestamp()) + 1
    retry = {"Moneybird-Signature": f"t={stamp},v1={moneybird_webhooks.sign(MONEYBIRD_SECRET, stamp, raw)}"}
    assert (
        world.client.post("/webhooks/moneybird", data=raw, headers={**retry, "Idempotency-Key": "push-1"}).status_code
        == 200
    )
    assert len(world.inbox()) == 1, "a retry of the same push (same key, new t) is not stored again"
    assert [r.provider_tenant_id for r in world.inbox()] == [TENANTS["moneybird"]], "stored for the right tenant"


def test_a_process_without_the_secrets_key_answers_503_per_delivery(world: ReceiverWorld, tmp_path: Path) -> None:
    """After ``rotate-keys`` a process still started with only another key cannot read the tenant's webhook
    secret: each delivery gets a 503 with Retry-After (the provider retries) and a log line, never a 500."""
    stale = Runtime(make_settings(tmp_path / "stale", world.runtime.settings.database_url))
    app = create_app(stale.settings, runtime=stale, queue=mock.Mock(), org_id=world.org_id)
    raw, headers = moneybird_delivery(moneybird_body(), world.now())
    with capture_logs() as logs:
        response = app.test_client().post("/webhooks/moneybird", data=raw, headers=headers)
    stale.engine.dispose()
    assert response.status_code == 503, f"expected 503 from a process lacking the key, got {response.status_code}"
    assert response.headers.get("Retry-After") == "60", "the 503 tells the provider when to retry"
    assert b"retry" in response.data, f"the 503 says what happens: {response.data!r}"
    assert [e["event"] for e in logs if e["log_level"] == "error"] == ["webhook.secret_unreadable"], logs
    assert world.inbox() == [], "nothing stored from a delivery that could not be verified"
    # Xero's key is in the settings, not the database: the same process still serves it
    xero_raw, xero_headers = xero_delivery([xero_event()])
    assert app.test_client().post("/webhooks/xero", data=xero_raw, headers=xero_headers).status_code == 200
