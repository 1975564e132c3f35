"""Reading Exact through the adapter against the sandbox: divisions, PaymentTerms sync, payments, cursors, calls."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

import pytest
import requests
from openapi_core import OpenAPI

from adapters.exact.provider import ExactAdapter
from connector.model import CreditNote, Invoice, InvoiceStatus, Segment
from tests.adapters.exact.conftest import Clock, Exact, start


def nothing_known(refs: Sequence[str]) -> Mapping[str, str]:
    return {}


def sync_all(adapter: ExactAdapter, tenant: str, cursor: str | None = None) -> tuple[dict[str, Invoice], list, str]:
    invoices: dict[str, Invoice] = {}
    payments, last = [], cursor
    for page in adapter.iter_invoice_pages(tenant, cursor, nothing_known):
        invoices.update({i.provider_ref: i for i in page.records})
        payments += page.payments
        last = page.cursor
    return invoices, payments, last or ""


def expected_open(world: Exact, tenant: str) -> dict[str, Decimal]:
    """The sandbox's truth: open amount per sales entry from its receivable terms."""
    totals: dict[str, Decimal] = {}
    for term in world.state.division(tenant)["terms"].values():
        if term["LineType"] == 20 and term["Status"] == 20 and term["AmountDC"] > 0:
            totals[term["EntryID"]] = totals.get(term["EntryID"], Decimal(0)) + term["AmountDC"]
    return totals


def test_every_accessible_division_is_a_tenant(exact: Exact) -> None:
    tenants = exact.adapter().list_tenants()
    assert [t.provider_tenant_id for t in tenants] == exact.state.tenant_ids()
    assert len(tenants) >= 3
    assert "9999990" not in {t.provider_tenant_id for t in tenants}
    assert all(t.country == "NL" and t.currency == "EUR" for t in tenants)  # 'NL ' is trimmed


def test_full_sync_matches_the_books_to_the_cent(exact: Exact) -> None:
    adapter = exact.adapter()
    tenant = exact.state.tenant_ids()[1]
    invoices, payments, _ = sync_all(adapter, tenant)
    open_now = {ref: inv.open_amount for ref, inv in invoices.items() if inv.status is InvoiceStatus.OPEN}
    assert open_now == expected_open(exact, tenant)
    assert len(open_now) >= 250
    assert set(open_now) == set(exact.state.open_invoice_ids(tenant))
    suppliers = {a["ID"] for a in exact.state.division(tenant)["accounts"].values() if not a["IsSales"]}
    assert not {i.debtor_ref for i in invoices.values()} & suppliers  # payable lines (LineType 22) dropped
    part_paid = [i for i in invoices.values() if i.status is InvoiceStatus.OPEN and i.open_amount < i.total]
    assert part_paid, "the seed has part payments"
    for inv in part_paid:  # every cent is accounted for: open + matched terms = total
        paid = sum((p.amount for p in payments if p.invoice_ref == inv.provider_ref), Decimal(0))
        assert paid + inv.open_amount == inv.total
    assert all(
        isinstance(i.open_amount, Decimal) and i.open_amount.as_tuple().exponent >= -2 for i in invoices.values()
    )


def test_sync_agrees_with_the_receivables_list(exact: Exact) -> None:
    adapter = exact.adapter()
    tenant = exact.state.tenant_ids()[0]
    invoices, _, _ = sync_all(adapter, tenant)
    report = adapter.open_items_by_number(tenant)
    ours = {i.number: i.open_amount for i in invoices.values() if i.status is InvoiceStatus.OPEN}
    assert {n: a for n, a in report.items() if a > 0} == ours


def test_credit_notes_come_out_separately(exact: Exact) -> None:
    tenant = exact.state.tenant_ids()[0]
    pages = list(exact.adapter().iter_invoice_pages(tenant, None, nothing_known))
    credits = [c for p in pages for c in p.credit_notes]
    assert credits
    assert all(isinstance(c, CreditNote) and c.total > 0 for c in credits)


def test_part_payment_is_an_exact_payment_record_and_the_cursor_skips_the_rest(exact: Exact) -> None:
    adapter = exact.adapter()
    tenant = exact.state.tenant_ids()[0]
    invoices, _, cursor = sync_all(adapter, tenant)
    target = next(i for i in invoices.values() if i.status is InvoiceStatus.OPEN and i.open_amount > 10)
    exact.state.register_payment(tenant, target.provider_ref, Decimal("7.31"), date(2026, 3, 1))
    calls = adapter.http.calls  # type: ignore[attr-defined]
    pages = list(adapter.iter_invoice_pages(tenant, cursor, nothing_known))
    assert adapter.http.calls - calls == 1  # type: ignore[attr-defined]  # both changed terms in one page
    records = [r for p in pages for r in p.records]
    assert [r.provider_ref for r in records] == [target.provider_ref]
    assert records[0].open_amount == target.open_amount - Decimal("7.31")
    new_payments = [p for page in pages for p in page.payments if p.amount == Decimal("7.31")]
    assert len(new_payments) == 1
    assert new_payments[0].payment_date == date(2026, 3, 1)
    assert list(adapter.iter_invoice_pages(tenant, pages[-1].cursor, nothing_known)) == []


def test_an_instalment_change_refetches_the_whole_entry(exact: Exact) -> None:
    adapter = exact.adapter()
    tenant = exact.state.tenant_ids()[0]
    invoices, _, cursor = sync_all(adapter, tenant)
    div = exact.state.division(tenant)
    two = next(
        e
        for e in div["entries"]
        if len(exact.state.terms_of(tenant, e)) == 2 and all(t["Status"] == 20 for t in exact.state.terms_of(tenant, e))
    )
    first_due = min(t["AmountDC"] for t in exact.state.terms_of(tenant, two))
    exact.state.register_payment(tenant, two, Decimal("1.00"))
    records = [r for p in adapter.iter_invoice_pages(tenant, cursor, nothing_known) for r in p.records]
    assert records[0].open_amount == expected_open(exact, tenant)[two]
    assert records[0].open_amount == invoices[two].open_amount - Decimal("1.00")
    assert first_due > 1


def test_crash_after_a_page_resumes_without_duplicates(openapi: OpenAPI, clock: Clock) -> None:
    world = start(openapi, clock, divisions=1, items_per_division=2500, accounts_per_division=20)
    try:
        adapter, tenant = world.adapter(), world.state.tenant_ids()[0]
        pages = adapter.iter_invoice_pages(tenant, None, nothing_known)
        first = next(pages)  # the core commits page 1 with its cursor, then the worker dies
        pages.close()
        seen = [r.provider_ref for r in [*first.records, *first.credit_notes]]
        later = list(adapter.iter_invoice_pages(tenant, first.cursor, nothing_known))
        rest = [r.provider_ref for p in later for r in [*p.records, *p.credit_notes]]
        assert not set(seen) & set(rest)
        assert len(rest) == len(set(rest))
        assert set(seen) | set(rest) == set(world.state.division(tenant)["entries"]) - {
            e for e, v in world.state.division(tenant)["entries"].items() if v["LineType"] == 22
        }
        assert json.loads(first.cursor or "")["ts"] > 1
    finally:
        world.running.shutdown()
    assert world.violations == []


def test_api_calls_grow_with_ceil_n_over_1000(openapi: OpenAPI, clock: Clock) -> None:
    world = start(openapi, clock, divisions=1, items_per_division=3000, accounts_per_division=20)
    try:
        adapter, tenant = world.adapter(), world.state.tenant_ids()[0]
        invoices, _, _ = sync_all(adapter, tenant)
        rows = len(world.state.division(tenant)["terms"])
        open_items = len(world.state.open_invoice_ids(tenant))
        calls = adapter.http.calls  # type: ignore[attr-defined]
        assert open_items >= 2900
        assert math.ceil(rows / 1000) <= calls <= math.ceil(rows / 1000) + 3  # + refetches of split entries
        assert calls <= math.ceil(open_items / 1000) + 3
    finally:
        world.running.shutdown()


def test_fetch_invoices_for_hints_and_the_freshness_gate(exact: Exact) -> None:
    adapter = exact.adapter()
    tenant = exact.state.tenant_ids()[0]
    wanted = exact.state.open_invoice_ids(tenant)[:3]
    new = exact.state.create_invoice(tenant, total=Decimal("250.10"), due_date=date(2026, 3, 20))
    missing = "00000000-0000-4000-8000-000000000000"
    found = adapter.fetch_invoices(tenant, [*wanted, new, missing])
    assert {i.provider_ref for i in found} == {*wanted, new}
    assert next(i for i in found if i.provider_ref == new).open_amount == Decimal("250.10")


def test_debtors_from_sync_accounts(exact: Exact) -> None:
    adapter = exact.adapter()
    tenant = exact.state.tenant_ids()[0]
    debtors = [d for p in adapter.iter_debtor_pages(tenant, None, nothing_known) for d in p.records]
    assert len(debtors) == 40  # suppliers are not debtors
    assert {d.segment for d in debtors} == {Segment.B2B, Segment.B2C}
    assert all(d.customer_number and not d.customer_number.startswith(" ") for d in debtors)
    refs = [debtors[0].provider_ref, debtors[5].provider_ref]
    assert {d.provider_ref for d in adapter.fetch_debtors(tenant, refs)} == set(refs)


@pytest.mark.parametrize(
    "endpoint", ["sync/Cashflow/PaymentTerms", "bulk/Cashflow/Receivables", "salesinvoice/SalesInvoices"]
)
def test_select_is_required(exact: Exact, endpoint: str) -> None:
    tokens = exact.connect()
    response = requests.get(
        f"{exact.url}/api/v1/{exact.state.tenant_ids()[0]}/{endpoint}",
        timeout=10,
        headers={"Authorization": f"Bearer {tokens['access_token']}", "Accept": "application/json"},
    )
    assert response.status_code == 400
    assert (
        response.json()["error"]["message"]["value"] == "Please add a $select or a $top=1 statement to the query string"
    )


def test_crud_pages_hold_60_rows_and_sales_invoices_have_no_open_amount(exact: Exact) -> None:
    tokens = exact.connect()
    response = requests.get(
        f"{exact.url}/api/v1/{exact.state.tenant_ids()[0]}/salesinvoice/SalesInvoices",
        params={"$select": "InvoiceID,AmountDC,Status"},
        timeout=10,
        headers={"Authorization": f"Bearer {tokens['access_token']}", "Accept": "application/json"},
    )
    body = response.json()["d"]
    assert len(body["results"]) == 60
    assert "$skiptoken=" in body["__next"]
    refused = requests.get(
        f"{exact.url}/api/v1/{exact.state.tenant_ids()[0]}/salesinvoice/SalesInvoices",
        params={"$select": "InvoiceID,OpenAmount"},
        timeout=10,
        headers={"Authorization": f"Bearer {tokens['access_token']}", "Accept": "application/json"},
    )
    assert refused.status_code == 400
