"""The Xero sandbox's list semantics (paging, where, Statuses, IDs, If-Modified-Since) and state persistence."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from sandboxes.runner import RunningServer
from sandboxes.xero.app import create_app
from sandboxes.xero.query import QueryError, where_predicate
from sandboxes.xero.state import XeroSandbox


@pytest.fixture
def get(server: RunningServer, sandbox: XeroSandbox, tokens: Any) -> Callable[..., requests.Response]:
    def call(
        path: str, tenant: str | None = None, headers: dict[str, str] | None = None, **params: Any
    ) -> requests.Response:
        base = {
            "Authorization": f"Bearer {tokens.access_token}",
            "Accept": "application/json",
            "xero-tenant-id": tenant or sandbox.tenant_ids()[0],
        }
        return requests.get(
            f"{server.url}/api.xro/2.0/{path}", params=params, headers={**base, **(headers or {})}, timeout=5
        )

    return call


def test_paging_and_clamp(get: Callable[..., requests.Response], sandbox: XeroSandbox) -> None:
    everything = get("Invoices", page=1, pageSize=5000).json()
    assert everything["pagination"]["pageSize"] == 1000  # clamped (docs/providers/xero.md#invoices)
    total = everything["pagination"]["itemCount"]
    assert total == len(sandbox.org(sandbox.tenant_ids()[0]).invoices)
    pages = [get("Invoices", page=p, pageSize=50).json() for p in range(1, 5)]
    ids = [i["InvoiceID"] for body in pages for i in body["Invoices"]]
    assert len(ids) == len(set(ids)) == min(total, 200)
    assert pages[0]["pagination"]["pageCount"] == -(-total // 50)
    assert "pagination" not in get("Invoices").json()  # unpaged: summaries, no LineItems
    assert "LineItems" not in get("Invoices").json()["Invoices"][0]
    assert get("Invoices", page=1).json()["pagination"]["pageSize"] == 100  # the default


def test_where_statuses_ids(get: Callable[..., requests.Response], sandbox: XeroSandbox) -> None:
    tenant = sandbox.tenant_ids()[0]
    org = sandbox.org(tenant)
    body = get("Invoices", where='Type=="ACCREC" AND AmountDue>0', Statuses="AUTHORISED", pageSize=1000).json()
    assert {i["InvoiceID"] for i in body["Invoices"]} == set(sandbox.open_invoice_ids(tenant))
    bills = get("Invoices", where='Type=="ACCPAY"', page=1).json()["Invoices"]
    assert bills
    assert all(i["Type"] == "ACCPAY" for i in bills)
    some = list(org.invoices)[:3]
    by_id = get("Invoices", IDs=",".join(some)).json()["Invoices"]
    assert {i["InvoiceID"] for i in by_id} == set(some)
    assert get("Invoices", IDs=",".join(list(org.invoices)[:53])).status_code == 404  # too long for Xero's URL
    contact = next(iter(org.contacts))
    mine = get("Invoices", where=f'Contact.ContactID==guid("{contact}")', page=1).json()["Invoices"]
    assert all(i["Contact"]["ContactID"] == contact for i in mine)
    assert get("Invoices", where="Nonsense==1").status_code == 400


def test_if_modified_since(get: Callable[..., requests.Response], sandbox: XeroSandbox, clock: Any) -> None:
    tenant = sandbox.tenant_ids()[0]
    clock.advance(minutes=5)
    stamp = clock().strftime("%Y-%m-%dT%H:%M:%S")
    new_id = sandbox.create_invoice(tenant, total=Decimal("12.34"))
    fresh = get("Invoices", headers={"If-Modified-Since": stamp}, page=1).json()["Invoices"]
    assert [i["InvoiceID"] for i in fresh] == [new_id]
    malformed = get("Invoices", headers={"If-Modified-Since": "/Date(1700000000000)/"}, page=1).json()
    # silently ignored, as at Xero (docs/providers/xero.md#other-quirks)
    assert malformed["pagination"]["itemCount"] > 1


@pytest.mark.parametrize(
    ("clause", "facts", "expected"),
    [
        ('Status=="AUTHORISED"', {"status": "AUTHORISED"}, True),
        ('Status=="authorised" && AmountDue>=10', {"status": "AUTHORISED", "amountdue": Decimal("10")}, True),
        ('Type=="ACCREC" OR Type=="ACCPAY"', {"type": "ACCPAY"}, True),
        ("Date>=DateTime(2026, 01, 31)", {"date": datetime(2026, 1, 30, tzinfo=UTC).date()}, False),
        ("IsCustomer", {"iscustomer": True}, True),
        ('(Status=="PAID" OR Status=="VOIDED") AND AmountDue==0', {"status": "PAID", "amountdue": Decimal(0)}, True),
    ],
)
def test_where_language(clause: str, facts: dict[str, Any], expected: bool) -> None:
    assert where_predicate(clause)(facts) is expected


@pytest.mark.parametrize("clause", ['Status=="A" AND', "Status==", '"x"==Status', "Status=="])
def test_where_errors(clause: str) -> None:
    with pytest.raises(QueryError):
        where_predicate(clause)({"status": "A"})


def test_state_path_persists(tmp_path: Path, clock: Any) -> None:
    path = tmp_path / "xero.json"
    app = create_app(state_path=path, clock=clock, invoices_per_tenant=30)
    state: XeroSandbox = app.extensions["sandbox"]
    tenant = state.tenant_ids()[0]
    invoice = state.create_invoice(tenant, total=Decimal("77.70"), due_date=(clock() + timedelta(days=3)).date())
    state.register_payment(tenant, invoice, Decimal("7.70"))
    again: XeroSandbox = create_app(state_path=path, clock=clock, seed=99).extensions["sandbox"]
    assert again.tenant_ids() == state.tenant_ids()
    org = again.org(tenant)
    assert again.amount_due(org, org.invoices[invoice]) == Decimal("70.00")
    assert org.invoices[invoice]["DueDate"] == (clock() + timedelta(days=3)).date()


def test_seed_is_deterministic(clock: Any) -> None:
    first: XeroSandbox = create_app(clock=clock, invoices_per_tenant=50).extensions["sandbox"]
    second: XeroSandbox = create_app(clock=clock, invoices_per_tenant=50).extensions["sandbox"]
    assert first.tenant_ids() == second.tenant_ids()
    assert list(first.org(first.tenant_ids()[0]).invoices) == list(second.org(second.tenant_ids()[0]).invoices)
