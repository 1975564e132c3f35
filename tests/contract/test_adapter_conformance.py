"""One conformance suite for every adapter in the registry, each run against its own sandbox.

What every adapter must do the same way: declare itself fully; classify each status exactly as its table says
(one answer per row, no "either of two"); map the provider's records into ``connector.model`` so that what the
sandbox holds is what the core sees, through payments, and survives the model's JSON round trip; verify the
sandbox's own signed webhook deliveries and refuse every altered one; and offer exactly the write-backs its
capabilities promise. Provider quirks stay in ``tests/adapters/<provider>/``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest

from connector.errors import GarbageResponse, NotSupported, WebhookRejected
from connector.model import Capability, Invoice, InvoiceStatus, Payment, ReminderWrite, WriteAction
from connector.ports import AccountingAdapter, ResponseAction
from connector.registry import ADAPTERS
from connector.settings import Settings
from sandboxes.runner import SANDBOXES
from tests.contract.conftest import NOW, World, start_world
from tests.receiver import start_receiver

OK, RETRY, LIMITED = ResponseAction.OK, ResponseAction.RETRY, ResponseAction.RATE_LIMITED
REAUTH, MISSING, PERMANENT = ResponseAction.REAUTH, ResponseAction.NOT_FOUND, ResponseAction.PERMANENT
DUE = NOW.date() + timedelta(days=14)


@pytest.fixture(params=sorted(ADAPTERS))
def adapter(request: pytest.FixtureRequest) -> type[AccountingAdapter]:
    return ADAPTERS[request.param]


# --- declarations ------------------------------------------------------------------------------------------------
def test_every_adapter_has_a_sandbox() -> None:
    assert sorted(ADAPTERS) == sorted(SANDBOXES)


def test_declarations(adapter: type[AccountingAdapter]) -> None:
    assert adapter.id, "no id"
    assert adapter.name, "no name"
    assert adapter.page_size > 0, "no page size"
    assert adapter.oauth.authorize_path.startswith("/"), "authorize path is not a path"
    assert adapter.oauth.token_path.startswith("/"), "token path is not a path"
    assert adapter.limits, "no rate limits declared"
    for limit in adapter.limits:
        assert limit.calls > 0, f"limit {limit.name} allows no calls"
        assert limit.seconds > 0, f"limit {limit.name} has no window"


def test_built_the_way_the_runtime_builds_it(adapter: type[AccountingAdapter]) -> None:
    """Runtime.adapter_for calls cls(http, config, clock=...): every adapter accepts the base constructor."""
    config = Settings(secret_keys=["x"]).provider(adapter.id)  # type: ignore[list-item]
    built = adapter(mock.Mock(), config, clock=lambda: NOW)
    assert built.clock() == NOW


# --- status classification: one exact answer per row and adapter ---------------------------------------------------
NO_ACCESS = b'{"error":"No access to sales_invoices"}'  # Moneybird's 401 for a scope the grant lacks
CLASSIFICATION: list[tuple[int, dict[str, str], bytes, dict[str, ResponseAction]]] = [
    # status, headers, body, {adapter: action}
    (200, {}, b"{}", {"exact": OK, "moneybird": OK, "xero": OK}),
    (201, {}, b"{}", {"exact": OK, "moneybird": OK, "xero": OK}),
    (204, {}, b"", {"exact": OK, "moneybird": OK, "xero": OK}),
    (400, {}, b"{}", {"exact": PERMANENT, "moneybird": PERMANENT, "xero": PERMANENT}),
    (401, {}, b"{}", {"exact": REAUTH, "moneybird": REAUTH, "xero": REAUTH}),
    (401, {}, NO_ACCESS, {"exact": REAUTH, "moneybird": PERMANENT, "xero": REAUTH}),
    (403, {}, b"{}", {"exact": PERMANENT, "moneybird": PERMANENT, "xero": REAUTH}),  # Xero: tenant disconnected
    (404, {}, b"{}", {"exact": MISSING, "moneybird": MISSING, "xero": MISSING}),
    (409, {}, b"{}", {"exact": PERMANENT, "moneybird": PERMANENT, "xero": PERMANENT}),
    (412, {}, b"{}", {"exact": PERMANENT, "moneybird": PERMANENT, "xero": PERMANENT}),
    (422, {}, b"{}", {"exact": PERMANENT, "moneybird": PERMANENT, "xero": PERMANENT}),
    (429, {}, b"{}", {"exact": LIMITED, "moneybird": LIMITED, "xero": LIMITED}),
    (429, {"Retry-After": "30"}, b"", {"exact": LIMITED, "moneybird": LIMITED, "xero": LIMITED}),
    (500, {}, b"{}", {"exact": RETRY, "moneybird": RETRY, "xero": RETRY}),
    (502, {}, b"", {"exact": RETRY, "moneybird": RETRY, "xero": RETRY}),
    (503, {"Retry-After": "120"}, b"", {"exact": RETRY, "moneybird": RETRY, "xero": RETRY}),
]


def test_the_classification_table_covers_every_adapter() -> None:
    for status, _headers, _body, expected in CLASSIFICATION:
        assert sorted(expected) == sorted(ADAPTERS), f"row {status} does not name every adapter"


@pytest.mark.parametrize(
    ("status", "headers", "body", "expected"),
    CLASSIFICATION,
    ids=[f"{row[0]}-{'-'.join(row[1]) or 'plain'}-{len(row[2])}b" for row in CLASSIFICATION],
)
def test_classify(
    adapter: type[AccountingAdapter],
    status: int,
    headers: dict[str, str],
    body: bytes,
    expected: dict[str, ResponseAction],
) -> None:
    assert adapter.classify(status, headers, body) is expected[adapter.id]


# --- the common model: what the sandbox holds is what the core sees ------------------------------------------------
def test_tenants_are_the_sandbox_tenants(world: World) -> None:
    tenants = world.adapter.list_tenants()
    assert sorted(t.provider_tenant_id for t in tenants) == sorted(world.state.tenant_ids())
    for tenant in tenants:
        assert tenant.name, f"tenant {tenant.provider_tenant_id} has no name"
        assert len(tenant.currency) == 3, f"tenant {tenant.provider_tenant_id} currency {tenant.currency!r}"


def fetch(world: World, ref: str) -> tuple[Invoice, list[Payment]]:
    page = world.adapter.fetch_invoice_page(world.tenant, [ref])
    invoices = [inv for inv in page.records if inv.provider_ref == ref]
    assert len(invoices) == 1, f"{world.provider}: fetching {ref} gave {[i.provider_ref for i in page.records]}"
    return invoices[0], [p for p in page.payments if p.invoice_ref == ref]


def round_trips(record: Invoice | Payment) -> None:
    again = type(record).model_validate_json(record.model_dump_json())
    assert again == record, f"{type(record).__name__} changed through JSON: {record!r} -> {again!r}"


def test_an_invoice_and_its_payments_round_trip_through_the_common_model(world: World) -> None:
    ref = world.state.create_invoice(world.tenant, total=Decimal("121.00"), due_date=DUE)
    created, payments = fetch(world, ref)
    round_trips(created)
    assert created.status is InvoiceStatus.OPEN
    assert created.total == Decimal("121.00")
    assert created.open_amount == Decimal("121.00")
    assert created.due_date == DUE
    assert created.currency == "EUR"
    assert created.debtor_ref, "no debtor"
    assert payments == []

    world.state.register_payment(world.tenant, ref, Decimal("21.00"))
    part_paid, payments = fetch(world, ref)
    assert part_paid.status is InvoiceStatus.OPEN
    assert part_paid.open_amount == Decimal("100.00")
    assert sum(p.amount for p in payments) == Decimal("21.00")
    for payment in payments:
        round_trips(payment)

    world.state.register_payment(world.tenant, ref, Decimal("100.00"))
    paid, payments = fetch(world, ref)
    assert paid.status is InvoiceStatus.PAID
    assert paid.open_amount == Decimal("0")
    assert sum(p.amount for p in payments) == Decimal("121.00")


def test_the_open_invoices_the_core_sees_are_the_sandbox_open_invoices(world: World) -> None:
    latest: dict[str, Invoice] = {}
    for page in world.adapter.iter_invoice_pages(world.tenant, None, lambda refs: {}):
        latest.update((inv.provider_ref, inv) for inv in page.records)
    seen_open = {ref for ref, inv in latest.items() if inv.status is InvoiceStatus.OPEN and inv.open_amount > 0}
    assert seen_open == set(world.state.open_invoice_ids(world.tenant))
    for invoice in latest.values():
        assert 0 <= invoice.open_amount <= invoice.total, f"{invoice.provider_ref}: open {invoice.open_amount}"
        round_trips(invoice)


# --- signed webhooks: the sandbox signs, the adapter verifies ---------------------------------------------------------
SECRET = "conformance-webhook-secret"
SIGNATURE_HEADERS = {"xero": "x-xero-signature", "moneybird": "moneybird-signature", "exact": None}  # Exact: in body


@dataclass(frozen=True)
class Delivery:
    """One webhook POST exactly as the sandbox sent it, for an invoice created in ``tenant``."""

    provider: str
    raw: bytes
    headers: dict[str, str]
    tenant: str
    ref: str


@pytest.fixture(scope="module", params=sorted(ADAPTERS))
def delivery(request: pytest.FixtureRequest) -> Delivery:
    world, receiver = start_world(request.param), start_receiver()
    try:
        world.state.set_webhook_target(receiver.url, SECRET)
        ref = world.state.create_invoice(world.tenant, total=Decimal("50.00"), due_date=DUE)
        world.state.deliver_webhooks()
        assert receiver.received, f"{world.provider}: the sandbox delivered nothing"
        adapter = ADAPTERS[world.provider]
        for raw, headers in receiver.received:
            if any(e.entity_id == ref for e in adapter.parse_webhook(raw, headers)):
                return Delivery(world.provider, raw, headers, world.tenant, ref)
        raise AssertionError(f"{world.provider}: no delivery names invoice {ref}")
    finally:
        receiver.shutdown()
        world.server.shutdown()


def without_signature(delivery: Delivery) -> tuple[bytes, dict[str, str]]:
    header = SIGNATURE_HEADERS[delivery.provider]
    if header is None:  # Exact: {"Content":{...},"HashCode":"..."}
        return re.sub(rb',\s*"HashCode"\s*:\s*"[0-9A-Fa-f]*"', b"", delivery.raw), delivery.headers
    return delivery.raw, {k: v for k, v in delivery.headers.items() if k.lower() != header}


def one_byte_changed(raw: bytes) -> bytes:
    """The first digit in the body, one higher: still valid JSON, inside what every provider signs."""
    match = re.search(rb"\d", raw)
    assert match is not None
    digit = int(match.group()) + 1
    return raw[: match.start()] + str(digit % 10).encode() + raw[match.end() :]


Vector = Callable[[Delivery], tuple[bytes, dict[str, str], list[str]]]
SIGNATURE_VECTORS: list[tuple[str, Vector, bool]] = [
    ("valid", lambda d: (d.raw, d.headers, [SECRET]), True),
    ("one byte changed", lambda d: (one_byte_changed(d.raw), d.headers, [SECRET]), False),
    ("wrong secret", lambda d: (d.raw, d.headers, ["another-secret"]), False),
    ("rotation: signed with the previous secret", lambda d: (d.raw, d.headers, ["the-new-secret", SECRET]), True),
    ("rotation: signed with the new secret", lambda d: (d.raw, d.headers, [SECRET, "the-old-secret"]), True),
    ("signature missing", lambda d: (*without_signature(d), [SECRET]), False),
    ("no secret configured", lambda d: (d.raw, d.headers, []), False),
]


@pytest.mark.parametrize(("case", "vector", "accepted"), SIGNATURE_VECTORS, ids=[v[0] for v in SIGNATURE_VECTORS])
def test_signature_vectors(delivery: Delivery, case: str, vector: Vector, accepted: bool) -> None:
    adapter = ADAPTERS[delivery.provider]
    raw, headers, secrets = vector(delivery)
    if accepted:
        adapter.verify_webhook(raw, headers, secrets, NOW)
    else:
        with pytest.raises(WebhookRejected):
            adapter.verify_webhook(raw, headers, secrets, NOW)


def test_a_verified_delivery_parses_into_hints_for_its_tenant(delivery: Delivery) -> None:
    adapter = ADAPTERS[delivery.provider]
    assert not adapter.is_webhook_handshake(delivery.raw, delivery.headers), "a real delivery is not a handshake"
    events = adapter.parse_webhook(delivery.raw, delivery.headers)
    assert {e.provider_tenant_id for e in events} == {delivery.tenant}
    assert "invoice" in {e.entity_type for e in events if e.entity_id == delivery.ref}
    hint = adapter.webhook_tenant_hint(delivery.raw, delivery.headers)
    assert hint in (None, delivery.tenant)


def test_webhook_contract(adapter: type[AccountingAdapter]) -> None:
    if Capability.WEBHOOKS not in adapter.capabilities:
        with pytest.raises(NotSupported):
            adapter.verify_webhook(b"{}", {}, ["k"], NOW)
        return
    for headers in ({}, {"X-Junk": "1"}):
        with pytest.raises(WebhookRejected):
            adapter.verify_webhook(b'{"a":1}', headers, ["secret"], NOW)
    with pytest.raises((GarbageResponse, ValueError)):
        adapter.parse_webhook(b"not json", {})


# --- capabilities: exactly the write-backs promised, each landing in the sandbox -------------------------------------
NEEDS: dict[WriteAction, Capability] = {
    WriteAction.SEND_REMINDER: Capability.SEND_REMINDER,
    WriteAction.NOTE: Capability.WRITE_NOTE,
    WriteAction.PAUSE_PROVIDER_REMINDERS: Capability.PAUSE_PROVIDER_REMINDERS,
    WriteAction.RESUME_PROVIDER_REMINDERS: Capability.PAUSE_PROVIDER_REMINDERS,
    WriteAction.CREDIT_HOLD: Capability.CREDIT_HOLD,
    WriteAction.CREDIT_RELEASE: Capability.CREDIT_HOLD,
    WriteAction.DOCUMENT: Capability.WRITE_DOCUMENT,
    WriteAction.MARK_UNCOLLECTIBLE: Capability.MARK_UNCOLLECTIBLE,
}
UNDOES = {WriteAction.RESUME_PROVIDER_REMINDERS: WriteAction.PAUSE_PROVIDER_REMINDERS}  # resume what was paused
UNDOES[WriteAction.CREDIT_RELEASE] = WriteAction.CREDIT_HOLD
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_every_write_action_names_the_capability_it_needs() -> None:
    assert set(NEEDS) == set(WriteAction)


def test_capabilities_match_implemented_methods(adapter: type[AccountingAdapter]) -> None:
    def overridden(name: str) -> bool:
        return getattr(adapter, name) is not getattr(AccountingAdapter, name)

    assert overridden("iter_invoice_pages"), "reads no invoices"
    assert overridden("fetch_invoices"), "cannot fetch invoices for a webhook hint"
    webhooks = Capability.WEBHOOKS in adapter.capabilities
    assert overridden("verify_webhook") is webhooks, "verify_webhook disagrees with the WEBHOOKS capability"
    assert overridden("parse_webhook") is webhooks, "parse_webhook disagrees with the WEBHOOKS capability"
    writes = adapter.capabilities & set(NEEDS.values())
    assert overridden("write_reminder_status") is bool(writes), "write_reminder_status disagrees with capabilities"
    pdf = Capability.INVOICE_PDF in adapter.capabilities
    assert overridden("invoice_pdf") is pdf, "invoice_pdf disagrees with the INVOICE_PDF capability"


def reminder_write(world: World, action: WriteAction, ref: str, debtor_ref: str) -> ReminderWrite:
    return ReminderWrite(
        action=action,
        debtor_ref=debtor_ref,
        invoice_refs=[ref],
        level=2,
        level_name="Tweede herinnering",
        text=f"conformance {action.value}",
        attachment_name="herinnering.pdf" if action is WriteAction.DOCUMENT else None,
        attachment=PDF if action is WriteAction.DOCUMENT else None,
        idempotency_key=f"{action.value}:{ref}",  # Moneybird's note marker keeps only the first 24 characters
    )


@pytest.mark.parametrize("action", list(WriteAction), ids=[a.value for a in WriteAction])
def test_a_write_back_lands_in_the_sandbox_exactly_when_capable(world: World, action: WriteAction) -> None:
    ref = world.state.create_invoice(world.tenant, total=Decimal("60.50"), due_date=NOW.date() - timedelta(days=20))
    invoice, _ = fetch(world, ref)
    capable = NEEDS[action] in world.adapter.capabilities
    if capable and action in UNDOES:
        world.adapter.write_reminder_status(
            world.tenant, reminder_write(world, UNDOES[action], ref, invoice.debtor_ref)
        )
    write = reminder_write(world, action, ref, invoice.debtor_ref)
    before = len(world.state.writes(world.tenant))
    if not capable:
        with pytest.raises(NotSupported):
            world.adapter.write_reminder_status(world.tenant, write)
        assert len(world.state.writes(world.tenant)) == before, "a refused write still reached the provider"
        return
    result = world.adapter.write_reminder_status(world.tenant, write)
    assert result.ok, f"{world.provider} {action.value}: {result.detail}"
    assert len(world.state.writes(world.tenant)) > before, f"{world.provider} {action.value} wrote nothing"


# --- the invoice PDF: the package's own print of an invoice, exactly when capable ---------------------------------
def test_an_invoice_pdf_comes_from_the_sandbox_exactly_when_capable(world: World) -> None:
    ref = world.state.create_invoice(world.tenant, total=Decimal("60.50"), due_date=NOW.date() - timedelta(days=20))
    invoice, _ = fetch(world, ref)
    if Capability.INVOICE_PDF not in world.adapter.capabilities:
        with pytest.raises(NotSupported):
            world.adapter.invoice_pdf(world.tenant, ref)
        return
    content = world.adapter.invoice_pdf(world.tenant, ref)
    assert content.startswith(b"%PDF-"), f"{world.provider}: not a PDF: {content[:40]!r}"
    assert (invoice.number or "").encode() in content, f"{world.provider}: the PDF does not name {invoice.number}"
    assert b"60.50" in content, f"{world.provider}: the PDF does not state the amount"
