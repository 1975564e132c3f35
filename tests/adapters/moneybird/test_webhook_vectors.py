"""Moneybird webhook verification, table-driven: the header's own rules (docs/providers/moneybird.md#signature). Valid,
altered, wrong-secret, rotated and unsigned deliveries are checked for every adapter by the conformance suite."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest

from adapters.moneybird import webhooks
from adapters.moneybird.webhooks import sign
from connector.errors import GarbageResponse, WebhookRejected

# docs/providers/moneybird.md#signature: the self-computed reference vector
VECTOR_BODY = (
    b'{"administration_id":"123","webhook_id":"456","entity_type":"SalesInvoice","entity_id":"789",'
    b'"state":"paid","action":"sales_invoice_state_changed_to_paid"}'
)
VECTOR_T = 1787320245
VECTOR_V1 = "57f9887d4f02805dedaa6603ce7f68342edcf6070115e0f7a9a12a92e2359d88"
NOW = datetime.fromtimestamp(VECTOR_T, UTC)


def test_reference_vector() -> None:
    assert sign("test_secret", VECTOR_T, VECTOR_BODY) == VECTOR_V1
    webhooks.verify(VECTOR_BODY, {"Moneybird-Signature": f"t={VECTOR_T},v1={VECTOR_V1}"}, ["test_secret"], NOW)


GOOD = f"t={VECTOR_T},v1={VECTOR_V1}"
CASES: list[tuple[str, bytes, dict[str, str], list[str], datetime, bool]] = [
    ("header name is case-insensitive", VECTOR_BODY, {"moneybird-signature": GOOD}, ["test_secret"], NOW, True),
    (
        "re-serialised JSON",
        json.dumps(json.loads(VECTOR_BODY), indent=1).encode(),
        {"Moneybird-Signature": GOOD},
        ["test_secret"],
        NOW,
        False,
    ),
    ("header empty", VECTOR_BODY, {"Moneybird-Signature": ""}, ["test_secret"], NOW, False),
    ("no t=", VECTOR_BODY, {"Moneybird-Signature": f"v1={VECTOR_V1}"}, ["test_secret"], NOW, False),
    ("no v1=", VECTOR_BODY, {"Moneybird-Signature": f"t={VECTOR_T}"}, ["test_secret"], NOW, False),
    ("junk v1", VECTOR_BODY, {"Moneybird-Signature": f"t={VECTOR_T},v1=zz!!"}, ["test_secret"], NOW, False),
    (
        "two v1 during rotation, second matches",
        VECTOR_BODY,
        {"Moneybird-Signature": f"t={VECTOR_T},v1={'0' * 64},v1={VECTOR_V1}"},
        ["test_secret"],
        NOW,
        True,
    ),
    (
        "unknown scheme beside a valid v1",
        VECTOR_BODY,
        {"Moneybird-Signature": f"t={VECTOR_T},v0=abc,{GOOD[len(f't={VECTOR_T},') :]}"},
        ["test_secret"],
        NOW,
        True,
    ),
    (
        "unknown scheme only (downgrade)",
        VECTOR_BODY,
        {"Moneybird-Signature": f"t={VECTOR_T},v0={VECTOR_V1}"},
        ["test_secret"],
        NOW,
        False,
    ),
    (
        "exactly 300 s old",
        VECTOR_BODY,
        {"Moneybird-Signature": GOOD},
        ["test_secret"],
        NOW + timedelta(seconds=300),
        True,
    ),
    ("301 s old", VECTOR_BODY, {"Moneybird-Signature": GOOD}, ["test_secret"], NOW + timedelta(seconds=301), False),
    (
        "301 s in the future",
        VECTOR_BODY,
        {"Moneybird-Signature": GOOD},
        ["test_secret"],
        NOW - timedelta(seconds=301),
        False,
    ),
]


@pytest.mark.parametrize(("case", "raw", "headers", "secrets", "now", "ok"), CASES, ids=[c[0] for c in CASES])
def test_verify(case: str, raw: bytes, headers: dict[str, str], secrets: list[str], now: datetime, ok: bool) -> None:
    if ok:
        webhooks.verify(raw, headers, secrets, now)
    else:
        with pytest.raises(WebhookRejected):
            webhooks.verify(raw, headers, secrets, now)


def test_signatures_are_compared_in_constant_time() -> None:
    with mock.patch("adapters.moneybird.webhooks.hmac.compare_digest", wraps=__import__("hmac").compare_digest) as cmp:
        webhooks.verify(VECTOR_BODY, {"Moneybird-Signature": GOOD}, ["test_secret"], NOW)
    assert cmp.called
    source = open(webhooks.__file__, encoding="utf-8").read()
    assert "== candidate" not in source
    assert "candidate ==" not in source
    assert "expected ==" not in source


def test_parse_uses_the_idempotency_key_and_maps_payments_to_their_invoice() -> None:
    (event,) = webhooks.parse(VECTOR_BODY, {"Idempotency-Key": "push-1"})
    assert (event.provider_tenant_id, event.dedupe_id, event.entity_type, event.entity_id) == (
        "123",
        "push-1",
        "invoice",
        "789",
    )
    payment = json.dumps(
        {
            "administration_id": "1",
            "entity_type": "Payment",
            "entity_id": "9",
            "action": "payment_registered",
            "entity": {"invoice_id": "42", "invoice_type": "SalesInvoice"},
        }
    ).encode()
    (hint,) = webhooks.parse(payment, {})
    assert (hint.entity_type, hint.entity_id) == ("invoice", "42")
    assert len(hint.dedupe_id) == 64
    with pytest.raises(GarbageResponse):
        webhooks.parse(b'{"administration_id": "1"}', {})


@pytest.mark.parametrize(
    ("raw", "headers", "probe"),
    [
        (b"", {}, True),
        (b"{}", {}, True),
        (VECTOR_BODY, {}, False),
        (b"{}", {"Moneybird-Signature": GOOD}, False),
        (b"not json", {}, False),
    ],
)
def test_registration_probe(raw: bytes, headers: dict[str, str], probe: bool) -> None:
    assert webhooks.is_handshake(raw, headers) is probe
