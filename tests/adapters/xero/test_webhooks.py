"""Xero webhook signatures over raw bytes, parsing and dedupe, and the intent-to-receive handshake
(docs/providers/xero.md#webhooks)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import pytest
from flask import Flask, Response, request
from hypothesis import given
from hypothesis import strategies as st

from adapters.xero import webhooks
from adapters.xero.provider import XeroAdapter
from connector.errors import GarbageResponse, WebhookRejected
from sandboxes.runner import RunningServer, serve_in_thread
from sandboxes.xero.state import XeroSandbox

NOW = datetime(2026, 3, 10, tzinfo=UTC)
ITR_RAW = b'{"events":[],"firstEventSequence": 0,"lastEventSequence": 0, "entropy": "NLDZEGWUXNHESAQVGLYF"}'
COMPACT = b'{"events":[],"firstEventSequence":0,"lastEventSequence":0,"entropy":"NLDZEGWUXNHESAQVGLYF"}'
EVENT_RAW = (
    b'{"events":[{"resourceUrl":"https://api.xero.com/api.xro/2.0/Invoices/44aa0707-f718-4f1c-8d53-f2da9ca59533",'
    b'"resourceId":"44aa0707-f718-4f1c-8d53-f2da9ca59533","eventDateUtc":"2018-02-09T09:18:28.917Z",'
    b'"eventType":"UPDATE","eventCategory":"INVOICE","tenantId":"e629a03c-7ffe-4913-bd94-ff2fdb36a702",'
    b'"tenantType":"ORGANISATION"}],"firstEventSequence": 2,"lastEventSequence": 2, "entropy": "GATSEZXWIBPBRNQOTMOH"}'
)
VECTORS = [  # docs/providers/xero.md#test-vectors
    (ITR_RAW, "ixznmr+Pdl6QymsWZM+9UkY4lu97q04sJyejmSOp25U="),
    (COMPACT, "lP5MXGwGFXpuc9jrLBZW4sxLzqLDvpg0bOSt0/hgGzI="),
    (EVENT_RAW, "SEi96Ea0UJgNTwfrbX+t1ef/uPuhRrWURlcFjYjm0OY="),
]


@pytest.mark.parametrize(("raw", "expected"), VECTORS)
def test_published_vectors_verify(raw: bytes, expected: str) -> None:
    assert webhooks.signature("test_key", raw) == expected
    XeroAdapter.verify_webhook(raw, {"x-xero-signature": expected}, ["test_key"], NOW)
    XeroAdapter.verify_webhook(raw, {"X-Xero-Signature": expected}, ["test_key"], NOW)  # any header case


@pytest.mark.parametrize(("raw", "expected"), VECTORS)
def test_reserialised_body_fails(raw: bytes, expected: str) -> None:
    reserialised = json.dumps(json.loads(raw)).encode()
    assert reserialised != raw
    with pytest.raises(WebhookRejected):
        XeroAdapter.verify_webhook(reserialised, {"x-xero-signature": expected}, ["test_key"], NOW)


@pytest.mark.parametrize(
    "headers",
    [
        {"x-xero-signature": ""},
        {"x-xero-signature": "/xznmr+Pdl6QymsWZM+9UkY4lu97q04sJyejmSOp25U="},  # first char changed, as in the real ITR
        {"x-xero-signature": "ixznmr+Pdl6QymsWZM+9UkY4lu97q04sJyejmSOp25U"},  # padding missing
        {"x-xero-signature": "not base64 at all ✓"},
        {"x-xero-signature": "ixznmr+Pdl6QymsWZM+9UkY4lu97q04sJyejmSOp25U=\n"[:-1] + "A"},
    ],
)
def test_bad_signatures_are_rejected(headers: dict[str, str]) -> None:
    with pytest.raises(WebhookRejected):
        XeroAdapter.verify_webhook(ITR_RAW, headers, ["test_key"], NOW)


def test_an_empty_key_never_verifies() -> None:
    with pytest.raises(WebhookRejected):
        XeroAdapter.verify_webhook(ITR_RAW, {"x-xero-signature": VECTORS[0][1]}, [""], NOW)


def test_compare_digest_is_used() -> None:
    with mock.patch("adapters.xero.webhooks.hmac.compare_digest", wraps=__import__("hmac").compare_digest) as spy:
        XeroAdapter.verify_webhook(ITR_RAW, {"x-xero-signature": VECTORS[0][1]}, ["test_key"], NOW)
    assert spy.call_count == 1
    assert all(isinstance(arg, bytes) for arg in spy.call_args.args)


@given(st.binary(min_size=1, max_size=200), st.integers(min_value=0), st.integers(min_value=1, max_value=255))
def test_any_one_byte_change_fails(body: bytes, position: int, flip: int) -> None:
    sig = webhooks.signature("k", body)
    XeroAdapter.verify_webhook(body, {"x-xero-signature": sig}, ["k"], NOW)
    index = position % len(body)
    changed = body[:index] + bytes([body[index] ^ flip]) + body[index + 1 :]
    with pytest.raises(WebhookRejected):
        XeroAdapter.verify_webhook(changed, {"x-xero-signature": sig}, ["k"], NOW)


def test_itr_parses_to_no_events() -> None:
    assert XeroAdapter.parse_webhook(ITR_RAW, {}) == []
    assert XeroAdapter.is_webhook_handshake(ITR_RAW, {}) is False  # verified like any delivery (401 if mis-signed)


def test_event_parse_and_dedupe() -> None:
    [event] = XeroAdapter.parse_webhook(EVENT_RAW, {})
    assert event.provider_tenant_id == "e629a03c-7ffe-4913-bd94-ff2fdb36a702"
    assert (event.entity_type, event.entity_id, event.action) == (
        "invoice",
        "44aa0707-f718-4f1c-8d53-f2da9ca59533",
        "update",
    )
    assert event.occurred_at == datetime(2018, 2, 9, 9, 18, 28, 917000, tzinfo=UTC)
    again = json.loads(EVENT_RAW)
    again["entropy"], again["firstEventSequence"] = "OTHER", 9
    [duplicate] = XeroAdapter.parse_webhook(json.dumps(again).encode(), {})
    assert duplicate.dedupe_id == event.dedupe_id  # same tenant/category/resource/time, other delivery
    later = json.loads(EVENT_RAW)
    later["events"][0]["eventDateUtc"] = "2018-02-09T09:18:29.000"  # zone-less = UTC
    [newer] = XeroAdapter.parse_webhook(json.dumps(later).encode(), {})
    assert newer.dedupe_id != event.dedupe_id
    assert newer.occurred_at == datetime(2018, 2, 9, 9, 18, 29, tzinfo=UTC)
    assert XeroAdapter.webhook_tenant_hint(EVENT_RAW, {}) == "e629a03c-7ffe-4913-bd94-ff2fdb36a702"


@pytest.mark.parametrize(
    ("category", "entity"), [("CONTACT", "debtor"), ("CREDITNOTE", "credit_note"), ("SUBSCRIPTION", "other")]
)
def test_categories(category: str, entity: str) -> None:
    body = json.loads(EVENT_RAW)
    body["events"][0]["eventCategory"] = category
    [event] = XeroAdapter.parse_webhook(json.dumps(body).encode(), {})
    assert event.entity_type == entity


@pytest.mark.parametrize("raw", [b"", b"[]", b"{}", b'{"events": {}}', b'{"events": [{"tenantId": "x"}]}', b"\xff"])
def test_garbage_bodies(raw: bytes) -> None:
    with pytest.raises(GarbageResponse):
        XeroAdapter.parse_webhook(raw, {})


def receiver(key: str, received: list[Any], *, verify: bool = True) -> Flask:
    """A minimal receiver with the contract the real one follows: verify raw bytes, 401 or record + 200 empty."""
    app = Flask("receiver")

    @app.post("/webhooks/xero")
    def hook() -> Response:
        raw = request.get_data(cache=True)
        if verify:
            try:
                XeroAdapter.verify_webhook(raw, dict(request.headers), [key], NOW)
            except WebhookRejected:
                return Response(status=401)
        received.extend(XeroAdapter.parse_webhook(raw, dict(request.headers)))
        return Response(status=200)

    return app


@pytest.fixture
def listen() -> Any:
    servers: list[RunningServer] = []

    def start(app: Flask) -> str:
        servers.append(serve_in_thread(app))
        return f"{servers[-1].url}/webhooks/xero"

    yield start
    for server in servers:
        server.shutdown()


def test_itr_passes_with_a_verifying_receiver(sandbox: XeroSandbox, listen: Callable[[Flask], str]) -> None:
    received: list[Any] = []
    sandbox.set_webhook_target(listen(receiver("sandbox-key", received)), "sandbox-key")
    result = sandbox.send_intent_to_receive()
    assert result.passed, result.attempts
    assert [a["status"] for a in result.attempts] == [200, 401, 200, 401]
    assert received == []
    assert sandbox.webhook_status == "OK"


def test_itr_fails_when_mis_signed_deliveries_get_200(sandbox: XeroSandbox, listen: Callable[[Flask], str]) -> None:
    sandbox.set_webhook_target(listen(receiver("sandbox-key", [], verify=False)), "sandbox-key")
    result = sandbox.send_intent_to_receive()
    assert not result.passed
    assert [a["ok"] for a in result.attempts] == [True, False, True, False]
    assert sandbox.webhook_status == "INTENT_TO_RECEIVE_FAILED"


def test_itr_fails_with_the_wrong_key(sandbox: XeroSandbox, listen: Callable[[Flask], str]) -> None:
    sandbox.set_webhook_target(listen(receiver("another-key", [])), "sandbox-key")
    assert not sandbox.send_intent_to_receive().passed


def test_changes_are_delivered_signed(sandbox: XeroSandbox, listen: Callable[[Flask], str], clock: Any) -> None:
    received: list[Any] = []
    sandbox.set_webhook_target(listen(receiver("sandbox-key", received)), "sandbox-key")
    tenant = sandbox.tenant_ids()[0]
    invoice_id = sandbox.create_invoice(tenant, total=__import__("decimal").Decimal("50.00"))
    contact_id = sandbox.org(tenant).invoices[invoice_id]["ContactID"]
    clock.advance(seconds=1)  # a create and an update in the same millisecond share a dedupe id (harmless hints)
    credit_id = sandbox.create_credit(
        tenant, "credit_note", contact_id, __import__("decimal").Decimal("10.00"), allocate_to=invoice_id
    )
    assert sandbox.deliver_webhooks(duplicate=True) == 4  # contact, invoice, credit note, invoice update
    kinds = [(e.entity_type, e.entity_id, e.action) for e in received]
    assert ("debtor", contact_id, "create") in kinds
    assert ("invoice", invoice_id, "create") in kinds
    assert ("credit_note", credit_id, "create") in kinds
    assert ("invoice", invoice_id, "update") in kinds
    assert len(received) == 8
    assert len({e.dedupe_id for e in received}) == 4  # duplicates dedupe
    assert sandbox.deliver_webhooks() == 0


def test_failed_delivery_stays_queued(sandbox: XeroSandbox, listen: Callable[[Flask], str]) -> None:
    sandbox.set_webhook_target(listen(receiver("wrong-key", [])), "sandbox-key")
    sandbox.create_invoice(sandbox.tenant_ids()[0])
    assert sandbox.deliver_webhooks() == 0
    assert len(sandbox.event_queue) == 2
    assert sandbox.deliveries[-1]["status"] == 401
