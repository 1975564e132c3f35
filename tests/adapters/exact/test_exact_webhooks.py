"""Exact webhook verification and parsing: HashCode vectors computed here, raw bytes, case, handshake, delivery."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from flask import Flask, request
from hypothesis import given
from hypothesis import strategies as st

from adapters.exact import webhooks
from adapters.exact.provider import ExactAdapter
from connector.errors import WebhookRejected
from sandboxes.runner import RunningServer, serve_in_thread
from tests.adapters.exact.conftest import Exact

NOW = datetime(2026, 3, 2, tzinfo=UTC)
KEY = "test-webhook-secret"
CONTENT = (
    '{"Topic":"SalesInvoices","ClientId":"00000000-0000-0000-0000-000000000001","Division":123456,'
    '"Action":"Update","Key":"00000000-0000-0000-0000-00000000abcd","ExactOnlineEndpoint":'
    "\"https://start.exactonline.nl/api/v1/123456/salesinvoice/SalesInvoices(guid'00000000-0000-0000-0000-"
    '00000000abcd\')","EventCreatedOn":"2025-01-15T10:20:30.123"}'
)


def sign(content: bytes, key: str = KEY) -> str:
    return hmac.new(key.encode(), content, hashlib.sha256).hexdigest().upper()


SIGNED = sign(CONTENT.encode())


def delivery(content: str, code: str | None = None, *, spaced: bool = False) -> bytes:
    code = code if code is not None else sign(content.encode())
    sep = ", " if spaced else ","
    return f'{{"Content":{" " if spaced else ""}{content}{sep}"HashCode":"{code}"}}'.encode()


@pytest.mark.parametrize(
    ("key", "message", "expected"),
    [
        ("secret", '{"Topic":"Accounts"}', "073C45FEE1098FE28F6F30AC7DBE9EB447CDE585039B7180E7227760B725F224"),
        (KEY, CONTENT, "99CCEE88968EFD4F8CCB81C700919AE8BBCCE1139DEF520E1ADD81C3609B79F6"),
    ],
)
def test_reference_vectors(key: str, message: str, expected: str) -> None:
    # computed here with hmac, compared with docs/providers/exact.md#test-vectors's table
    computed = sign(message.encode(), key)
    assert computed == expected == webhooks.hash_code(message.encode(), key)
    ExactAdapter.verify_webhook(delivery(message, computed), {}, [key], NOW)


@pytest.mark.parametrize(
    ("name", "raw", "ok"),
    [
        ("compact", delivery(CONTENT), True),
        ("whitespace, signed as sent", delivery('{ "Topic": "Accounts", "Division": 1 }', spaced=True), True),
        ("HashCode before Content", f'{{"HashCode":"{SIGNED}","Content":{CONTENT}}}'.encode(), True),
        ("lower-case hex", delivery(CONTENT, sign(CONTENT.encode()).lower()), False),
        ("base64", delivery(CONTENT, "mczuiJaO/U+My4HHAJGa6LvM4RE570gOGt2Bw2CbefY="), False),
        ("re-serialised content", delivery(json.dumps(json.loads(CONTENT)), sign(CONTENT.encode())), False),
        (
            "key order changed",
            delivery(json.dumps(json.loads(CONTENT), sort_keys=True, separators=(",", ":")), sign(CONTENT.encode())),
            False,
        ),
        ("empty HashCode", delivery(CONTENT, ""), False),
        ("not JSON", b"Content=1&HashCode=2", False),
        ("trailing garbage", delivery(CONTENT) + b"x", False),
        (
            "duplicate Content member",
            f'{{"Content":{{"Topic":"X"}},"Content":{CONTENT},"HashCode":"{SIGNED}"}}'.encode(),
            False,
        ),
    ],
)
def test_verification_table(name: str, raw: bytes, ok: bool) -> None:
    if ok:
        ExactAdapter.verify_webhook(raw, {}, [KEY], NOW)
    else:
        with pytest.raises(WebhookRejected):
            ExactAdapter.verify_webhook(raw, {}, [KEY], NOW)


def test_an_empty_key_never_verifies() -> None:
    with pytest.raises(WebhookRejected):
        ExactAdapter.verify_webhook(delivery(CONTENT), {}, ["", "old-key"], NOW)


def test_compare_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest
    monkeypatch.setattr(webhooks.hmac, "compare_digest", lambda a, b: calls.append((a, b)) or real(a, b))
    ExactAdapter.verify_webhook(delivery(CONTENT), {}, [KEY], NOW)
    assert calls
    assert all(isinstance(a, bytes) and isinstance(b, bytes) for a, b in calls)


@given(st.binary(min_size=1, max_size=1).filter(lambda b: b not in b" \t\r\n"), st.integers(min_value=0))
def test_any_one_byte_change_fails(replacement: bytes, where: int) -> None:
    raw = bytearray(delivery(CONTENT))
    index = where % len(raw)
    if raw[index : index + 1] == replacement:
        return
    raw[index : index + 1] = replacement
    with pytest.raises(WebhookRejected):
        ExactAdapter.verify_webhook(bytes(raw), {}, [KEY], NOW)


def test_validation_post_is_a_handshake() -> None:
    assert ExactAdapter.is_webhook_handshake(b"", {"Content-Length": "0"})
    assert not ExactAdapter.is_webhook_handshake(delivery(CONTENT), {})
    with pytest.raises(WebhookRejected):
        ExactAdapter.verify_webhook(b"", {}, [KEY], NOW)


def test_parse_and_dedupe() -> None:
    raw = delivery(CONTENT)
    assert ExactAdapter.webhook_tenant_hint(raw, {}) == "123456"
    [event] = ExactAdapter.parse_webhook(raw, {})
    assert event.provider_tenant_id == "123456"
    assert event.action == "update"
    assert event.entity_type == "invoice"
    assert event.entity_id is None  # SalesInvoices: run the division cursor
    assert event.dedupe_id == (
        "exact:123456:SalesInvoices:00000000-0000-0000-0000-00000000abcd:Update:2025-01-15T10:20:30.123"
    )
    keyed = CONTENT.replace("SalesInvoices", "SalesEntries", 1)
    [entry] = ExactAdapter.parse_webhook(delivery(keyed), {})
    assert entry.entity_type == "invoice"
    assert entry.entity_id == "00000000-0000-0000-0000-00000000abcd"
    assert entry.dedupe_id != event.dedupe_id


class Receiver:
    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        app = Flask("receiver")

        @app.post("/webhooks/exact")
        def hook() -> tuple[str, int]:
            raw = request.get_data(cache=True)
            self.bodies.append(raw)
            if ExactAdapter.is_webhook_handshake(raw, request.headers):
                return "", 200
            try:
                ExactAdapter.verify_webhook(raw, request.headers, [KEY], NOW)
            except WebhookRejected:
                return "", 401
            return "", 200

        self.running: RunningServer = serve_in_thread(app)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    yield rec
    rec.running.shutdown()


def test_subscription_validation_and_signed_delivery(exact: Exact, receiver: Receiver) -> None:
    adapter = exact.adapter()
    tenant = exact.state.tenant_ids()[0]
    url = f"{receiver.running.url}/webhooks/exact"
    registration = adapter.register_webhook(tenant, url)
    assert len(registration.provider_ref.split(",")) == 5
    assert receiver.bodies == [b""] * 5  # one empty validation POST per subscription
    assert adapter.register_webhook(tenant, url).provider_ref == registration.provider_ref  # idempotent
    new = exact.state.create_invoice(tenant, total=Decimal("99.95"))
    assert exact.state.deliver_webhooks() == 2  # SalesEntries + SalesInvoices
    events = [e for raw in receiver.bodies[5:] for e in ExactAdapter.parse_webhook(raw, {})]
    hinted = [e.entity_id for e in events if e.entity_id]
    assert hinted == [new]
    assert adapter.fetch_invoices(tenant, hinted)[0].open_amount == Decimal("99.95")


def test_a_failing_callback_fails_the_subscription(exact: Exact) -> None:
    from connector.errors import PermanentError, TransientError

    with pytest.raises((PermanentError, TransientError)):
        exact.adapter().register_webhook(exact.state.tenant_ids()[0], "http://127.0.0.1:9/nowhere")


def test_wrong_key_deliveries_are_refused_by_the_receiver(exact: Exact, receiver: Receiver) -> None:
    tenant = exact.state.tenant_ids()[0]
    exact.state.set_webhook_target(f"{receiver.running.url}/webhooks/exact", "not-the-key")
    exact.state.create_invoice(tenant)
    assert exact.state.deliver_webhooks() == 0  # 401s: stays queued for Exact's retries
    exact.state.set_webhook_target("", KEY)
    assert exact.state.deliver_webhooks() == 2
