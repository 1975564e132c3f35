"""The Xero adapter's reads over real HTTP against the sandbox: tenants, full and incremental sync, refresh."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal

import pytest

from adapters.xero.provider import XeroAdapter
from connector.model import InvoiceStatus, Segment
from sandboxes.runner import RunningServer
from sandboxes.xero.state import XeroSandbox
from tests.adapters.xero.conftest import SettableClock, no_known


def sync_all(adapter: XeroAdapter, tenant: str, cursor: str | None, store: dict[str, object]) -> str | None:
    for page in adapter.iter_invoice_pages(
        tenant, cursor, lambda refs: {r: store[r].provider_version for r in refs if r in store}
    ):
        for invoice in page.records:
            store[invoice.provider_ref] = invoice
        for ref in page.deleted_refs:
            store.pop(ref, None)
        cursor = page.cursor or cursor
    return cursor


def accrec(sandbox: XeroSandbox, tenant: str) -> dict[str, dict[str, object]]:
    return {k: v for k, v in sandbox.org(tenant).invoices.items() if v["Type"] == "ACCREC" and v["Status"] != "DELETED"}


def test_list_tenants(adapter: XeroAdapter, sandbox: XeroSandbox) -> None:
    tenants = adapter.list_tenants()
    assert [t.provider_tenant_id for t in tenants] == sandbox.tenant_ids()
    assert [(t.timezone, t.currency) for t in tenants] == [("Europe/Amsterdam", "EUR"), ("Pacific/Auckland", "NZD")]


def test_full_sync_matches_xero_amount_due(adapter: XeroAdapter, sandbox: XeroSandbox) -> None:
    tenant = sandbox.tenant_ids()[0]
    store: dict[str, object] = {}
    sync_all(adapter, tenant, None, store)
    org = sandbox.org(tenant)
    expected = accrec(sandbox, tenant)
    assert set(store) == set(expected)
    kinds = set()
    for ref, invoice in store.items():
        raw = expected[ref]
        if raw["Status"] == "AUTHORISED":
            assert invoice.open_amount == sandbox.amount_due(org, raw)
            assert invoice.status is InvoiceStatus.OPEN
            kinds.update(k for k, _c, _a in sandbox.invoice_allocations(org, ref))
            if sandbox.invoice_payments(org, ref):
                kinds.add("payment")
        elif raw["Status"] in ("PAID", "VOIDED"):
            assert invoice.open_amount == 0
        assert invoice.due_date == raw["DueDate"]
        assert invoice.total == raw["Total"]
    assert {"payment", "credit_note", "overpayment"} <= kinds  # part-settled open invoices of every kind
    assert any(i.status is InvoiceStatus.CREDITED for i in store.values())
    assert set(sandbox.open_invoice_ids(tenant)) == {r for r, i in store.items() if i.status is InvoiceStatus.OPEN}


@pytest.mark.parametrize("count", [999, 1000, 2500])
def test_api_calls_for_n_invoices(
    serve: Callable[..., RunningServer], make_config_adapter: Callable[..., XeroAdapter], count: int
) -> None:
    server = serve(invoices_per_tenant=count, tenants=1, rate_limits=False)
    sandbox: XeroSandbox = server.app.extensions["sandbox"]
    adapter = make_config_adapter(server)
    tenant = sandbox.tenant_ids()[0]
    calls_before = adapter.http.calls
    store: dict[str, object] = {}
    sync_all(adapter, tenant, None, store)
    n = len(accrec(sandbox, tenant)) + sum(
        1 for i in sandbox.org(tenant).invoices.values() if i["Type"] == "ACCREC" and i["Status"] == "DELETED"
    )
    calls = adapter.http.calls - calls_before
    assert len(store) == len(accrec(sandbox, tenant))
    assert math.ceil(n / 1000) <= calls <= math.ceil(n / 1000) + 1, (n, calls)


def test_crash_resume_has_no_duplicates(
    serve: Callable[..., RunningServer], make_config_adapter: Callable[..., XeroAdapter]
) -> None:
    server = serve(invoices_per_tenant=2600, tenants=1, rate_limits=False)
    sandbox: XeroSandbox = server.app.extensions["sandbox"]
    adapter = make_config_adapter(server)
    tenant = sandbox.tenant_ids()[0]
    pages = adapter.iter_invoice_pages(tenant, None, no_known)
    first = next(pages)  # "crash" after the first page was committed with its cursor
    assert json.loads(first.cursor or "")["since"] is not None
    seen = [i.provider_ref for i in first.records]
    resumed = list(adapter.iter_invoice_pages(tenant, first.cursor, no_known))
    later = [i.provider_ref for p in resumed for i in p.records]
    assert set(seen) | set(later) == set(accrec(sandbox, tenant))
    assert len(set(seen) & set(later)) <= 5  # only records sharing the boundary second are read twice


def test_incremental_sees_changes_and_skips_unchanged(
    adapter: XeroAdapter, sandbox: XeroSandbox, clock: SettableClock
) -> None:
    tenant = sandbox.tenant_ids()[0]
    store: dict[str, object] = {}
    cursor = sync_all(adapter, tenant, None, store)
    clock.advance(minutes=10)
    quiet = list(
        adapter.iter_invoice_pages(
            tenant, cursor, lambda refs: {r: store[r].provider_version for r in refs if r in store}
        )
    )
    assert sum(len(p.records) for p in quiet) == 0
    target = next(iter(sandbox.open_invoice_ids(tenant)))
    due = sandbox.amount_due(sandbox.org(tenant), sandbox.org(tenant).invoices[target])
    clock.advance(minutes=10)
    sandbox.register_payment(tenant, target, Decimal("10.00"))
    new_id = sandbox.create_invoice(tenant, total=Decimal("99.99"), due_date=date(2026, 4, 1))
    clock.advance(minutes=10)
    pages = list(adapter.iter_invoice_pages(tenant, cursor, no_known))
    changed = {i.provider_ref: i for p in pages for i in p.records}
    assert changed[target].open_amount == due - Decimal("10.00")
    assert changed[new_id].open_amount == Decimal("99.99")
    assert changed[new_id].due_date == date(2026, 4, 1)
    assert any(p.kind == "payment" and p.amount == Decimal("10.00") for pg in pages for p in pg.payments)
    assert len(changed) < 10  # incremental, not a full read


def test_periodic_refresh_catches_due_date_blind_spot(
    adapter: XeroAdapter, sandbox: XeroSandbox, clock: SettableClock
) -> None:
    tenant = sandbox.tenant_ids()[0]
    org = sandbox.org(tenant)
    part_paid = next(i for i in sandbox.open_invoice_ids(tenant) if sandbox.invoice_payments(org, i))
    store: dict[str, object] = {}
    cursor = sync_all(adapter, tenant, None, store)
    clock.advance(hours=1)
    # docs/providers/xero.md#incremental-sync: no UpdatedDateUTC bump
    sandbox.set_due_date(tenant, part_paid, date(2026, 6, 30))
    cursor = sync_all(adapter, tenant, cursor, store)
    assert store[part_paid].due_date != date(2026, 6, 30)  # If-Modified-Since alone misses it
    clock.advance(hours=24)
    cursor = sync_all(adapter, tenant, cursor, store)
    assert store[part_paid].due_date == date(2026, 6, 30)
    assert not json.loads(cursor or "")["refreshing"]


def test_deleted_and_voided(adapter: XeroAdapter, sandbox: XeroSandbox, clock: SettableClock) -> None:
    tenant = sandbox.tenant_ids()[0]
    store: dict[str, object] = {}
    cursor = sync_all(adapter, tenant, None, store)
    draft = sandbox.create_invoice(tenant, status="DRAFT")
    opened = sandbox.open_invoice_ids(tenant)[0]
    cursor = sync_all(adapter, tenant, cursor, store)
    assert store[draft].status is InvoiceStatus.DRAFT
    clock.advance(minutes=5)
    sandbox.set_status(tenant, draft, "DELETED")
    sandbox.set_status(tenant, opened, "VOIDED")
    sync_all(adapter, tenant, cursor, store)
    assert draft not in store
    assert store[opened].status is InvoiceStatus.VOIDED
    assert store[opened].open_amount == 0


def test_payments_are_polled_including_deletions(
    adapter: XeroAdapter, sandbox: XeroSandbox, clock: SettableClock
) -> None:
    tenant = sandbox.tenant_ids()[0]
    pages = list(adapter.iter_payment_pages(tenant, None, no_known))
    everything = {p.provider_ref: p for page in pages for p in page.records}
    org = sandbox.org(tenant)
    receipts = {k for k, v in org.payments.items() if v["PaymentType"] == "ACCRECPAYMENT"}
    assert set(everything) == receipts
    cursor = pages[-1].cursor
    clock.advance(minutes=10)
    target = sandbox.open_invoice_ids(tenant)[0]
    payment_id = sandbox.register_payment(tenant, target, Decimal("1.00"))
    clock.advance(minutes=10)
    sandbox.delete_payment(tenant, next(iter(receipts)))
    clock.advance(minutes=10)
    later = list(adapter.iter_payment_pages(tenant, cursor, no_known))
    assert payment_id in {p.provider_ref for pg in later for p in pg.records}
    assert next(iter(receipts)) in {ref for pg in later for ref in pg.deleted_refs}


def test_credit_notes_and_debtors(adapter: XeroAdapter, sandbox: XeroSandbox) -> None:
    tenant = sandbox.tenant_ids()[0]
    notes = [n for p in adapter.iter_credit_note_pages(tenant, None, no_known) for n in p.records]
    org = sandbox.org(tenant)
    assert {n.provider_ref for n in notes} == set(org.credit_notes)
    assert any(n.remaining == n.total for n in notes)
    assert any(n.remaining == 0 and n.invoice_ref for n in notes)
    debtors = {d.provider_ref: d for p in adapter.iter_debtor_pages(tenant, None, no_known) for d in p.records}
    consumers = next(g for g in org.groups.values() if g["Name"] == "Consumers")["contact_ids"]
    assert consumers
    assert all(debtors[c].segment is Segment.B2C for c in consumers)
    assert any(d.segment is Segment.B2B and d.kvk_number for d in debtors.values())
    suppliers = {c for c, v in org.contacts.items() if v["Name"].startswith("Supplier")}
    assert suppliers
    assert not suppliers & set(debtors)  # pure suppliers are not debtors


def test_fetch_by_ids_in_batches(adapter: XeroAdapter, sandbox: XeroSandbox) -> None:
    tenant = sandbox.tenant_ids()[0]
    refs = list(accrec(sandbox, tenant))[:95]
    before = adapter.http.calls
    fetched = adapter.fetch_invoices(tenant, refs)
    assert {i.provider_ref for i in fetched} == set(refs)
    assert adapter.http.calls - before == 3  # 40 + 40 + 15 (docs/providers/xero.md#requests: ~52 IDs overflow the URL)
    payments = adapter.fetch_payments_for(tenant, refs)
    assert {p.invoice_ref for p in payments} <= set(refs)
    assert payments
    contact_ids = list(sandbox.org(tenant).contacts)[:3]
    assert {d.provider_ref for d in adapter.fetch_debtors(tenant, contact_ids)} == set(contact_ids)


def test_reminder_settings(adapter: XeroAdapter, sandbox: XeroSandbox) -> None:
    first, second = sandbox.tenant_ids()[:2]
    assert adapter.reminder_settings(first).active is False
    assert adapter.reminder_settings(second).active is True  # Xero's own reminders are on: double-chase guard


@pytest.fixture
def make_config_adapter(clock: SettableClock, recorder: object) -> Callable[[RunningServer], XeroAdapter]:
    from tests.adapters.xero.conftest import connect, make_config

    def build(server: RunningServer) -> XeroAdapter:
        import requests

        from connector.http.session import ConnectionSession

        config = make_config(server.url)
        tokens = connect(config, clock)
        session = ConnectionSession(
            XeroAdapter, access_token=lambda: tokens.access_token, session=requests.Session(), clock=clock
        )
        return XeroAdapter(session, config, clock=clock)

    return build


def _refs(pages: Sequence[object]) -> list[str]:
    return [i.provider_ref for p in pages for i in p.records]  # type: ignore[attr-defined]
