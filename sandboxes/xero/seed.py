"""Deterministic demo books for the Xero sandbox: several organisations with realistic receivables.

``seed_books`` fills a fresh sandbox state: per organisation dozens of contacts (companies, consumers in the
"Consumers" contact group, suppliers), ``invoices_per_tenant`` sales invoices in every status with part
payments, credit-note, overpayment and prepayment allocations, plus some bills (ACCPAY). Timestamps lie in the
past so ``If-Modified-Since`` has something to cut; the same seed always gives the same books.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sandboxes.xero.records import CENT, CREDIT_KINDS, Org
from sandboxes.xero.state import XeroSandbox

TENANT_TEMPLATES = [
    ("Demo Company (NL)", "WEUROPESTANDARDTIME", "EUR", "NL"),
    ("Demo Company (NZ)", "NEWZEALANDSTANDARDTIME", "NZD", "NZ"),
    ("Demo Company (UK)", "GMTSTANDARDTIME", "GBP", "GB"),
]
_STATUS_WEIGHTS = [("AUTHORISED", 60), ("PAID", 24), ("DRAFT", 5), ("SUBMITTED", 3), ("VOIDED", 4), ("DELETED", 4)]


def seed_books(
    sandbox: XeroSandbox,
    *,
    tenants: int = 2,
    invoices_per_tenant: int = 300,
    contacts_per_tenant: int = 40,
    sizes: Sequence[int] | None = None,
) -> None:
    """``sizes`` (one invoice count per organisation) replaces ``tenants`` x ``invoices_per_tenant``: a practice's
    clients differ in size; each then gets contacts in proportion (``contacts_for``)."""
    today = sandbox.now().date()
    counts = list(sizes) if sizes is not None else [invoices_per_tenant] * tenants
    for index, invoices in enumerate(counts):
        name, zone, currency, country = TENANT_TEMPLATES[index % len(TENANT_TEMPLATES)]
        tenant_id = sandbox.new_id()
        org = Org(
            tenant_id=tenant_id,
            name=name if index < len(TENANT_TEMPLATES) else f"{name} {index}",
            timezone=zone,
            currency=currency,
            country=country,
            short_code=f"!{tenant_id[:5]}",
            reminders_enabled=index == 1,
        )  # the second org has Xero's own reminders on
        sandbox.orgs[tenant_id] = org
        contacts = contacts_per_tenant if sizes is None else contacts_for(invoices)
        _seed_org(sandbox, org, today, invoices, contacts)


def contacts_for(invoices: int) -> int:
    """Debtors in proportion to a client's invoices: a few for a small one, at most 200 for a large one."""
    return max(6, min(invoices // 4 + 4, 200))


def _seed_org(sandbox: XeroSandbox, org: Org, today: date, invoices: int, contacts: int) -> None:
    rng = sandbox.rng
    customers: list[str] = []
    consumers: list[str] = []
    suppliers: list[str] = []
    for number in range(1, contacts + 1):
        kind = "consumer" if number % 5 == 0 else "supplier" if number % 7 == 0 else "company"
        cid = _contact(sandbox, org, number, kind, _past(sandbox, today - timedelta(days=rng.randint(200, 400)), 0))
        {"consumer": consumers, "supplier": suppliers, "company": customers}[kind].append(cid)
    consumers_group = sandbox.new_id()
    org.groups[consumers_group] = {
        "ContactGroupID": consumers_group,
        "Name": "Consumers",
        "Status": "ACTIVE",
        "contact_ids": list(consumers),
    }
    vip = sandbox.new_id()
    org.groups[vip] = {"ContactGroupID": vip, "Name": "Key accounts", "Status": "ACTIVE", "contact_ids": customers[:3]}
    statuses = [s for s, weight in _STATUS_WEIGHTS for _ in range(weight)]
    debtors = customers + consumers
    for _ in range(invoices):
        issued = today - timedelta(days=rng.randint(0, 180))
        total = (Decimal(rng.randint(2500, 500000)) / 100).quantize(CENT)
        invoice = sandbox._new_invoice(
            org,
            rng.choice(debtors),
            total,
            issued,
            issued + timedelta(days=rng.choice((14, 14, 30))),
            rng.choice(statuses),
            "ACCREC",
            org.currency,
        )
        invoice["UpdatedDateUTC"] = _past(sandbox, issued, -rng.randint(0, 2))
        _settle_seeded(sandbox, org, invoice, today)
    for _ in range(max(invoices // 10, 1)):
        issued = today - timedelta(days=rng.randint(0, 120))
        bill = sandbox._new_invoice(
            org,
            rng.choice(suppliers or customers),
            Decimal(rng.randint(100, 9000)),
            issued,
            issued + timedelta(days=30),
            rng.choice(("AUTHORISED", "PAID")),
            "ACCPAY",
            org.currency,
        )
        bill["UpdatedDateUTC"] = _past(sandbox, issued, 0)
        if bill["Status"] == "PAID":
            bill["Status"] = "AUTHORISED"
            paid_on = min(issued + timedelta(days=10), today)
            _payment(sandbox, org, bill, bill["Total"], paid_on, "ACCPAYPAYMENT")
            bill["Status"], bill["FullyPaidOnDate"] = "PAID", paid_on
    for _ in range(max(invoices // 30, 2)):  # unallocated credit notes
        _credit(sandbox, org, "credit_note", rng.choice(debtors), Decimal(rng.randint(10, 300)), today)


def _settle_seeded(sandbox: XeroSandbox, org: Org, invoice: dict[str, Any], today: date) -> None:
    """Give PAID and some AUTHORISED invoices payments and allocations that explain their AmountDue."""
    rng = sandbox.rng
    status, total = invoice["Status"], invoice["Total"]
    if status not in ("AUTHORISED", "PAID"):
        return
    paid_on = min(invoice["Date"] + timedelta(days=rng.randint(1, 40)), today)
    invoice["Status"] = "AUTHORISED"
    roll = rng.random()
    if status == "PAID":
        if roll < 0.15:
            _allocate(sandbox, org, invoice, "credit_note", total, paid_on)
        elif roll < 0.22:
            _allocate(sandbox, org, invoice, "overpayment", total, paid_on)
        elif roll < 0.27:
            _allocate(sandbox, org, invoice, "prepayment", total, invoice["Date"])
        else:
            _payment(sandbox, org, invoice, total, paid_on, "ACCRECPAYMENT")
        invoice["Status"], invoice["FullyPaidOnDate"] = "PAID", paid_on
    elif roll < 0.25:  # part paid
        _payment(
            sandbox,
            org,
            invoice,
            (total * Decimal(rng.choice((25, 40, 50))) / 100).quantize(CENT),
            paid_on,
            "ACCRECPAYMENT",
        )
    elif roll < 0.33:  # part credited
        _allocate(sandbox, org, invoice, "credit_note", (total / 5).quantize(CENT), paid_on)
    elif roll < 0.37:  # part settled from an overpayment
        _allocate(sandbox, org, invoice, "overpayment", (total / 4).quantize(CENT), paid_on)
    if invoice["Status"] == "AUTHORISED" and invoice.get("FullyPaidOnDate") is None and roll < 0.37:
        invoice["UpdatedDateUTC"] = max(invoice["UpdatedDateUTC"], _past(sandbox, paid_on, 0))


def _payment(sandbox: XeroSandbox, org: Org, invoice: dict[str, Any], amount: Decimal, on: date, kind: str) -> None:
    pid = sandbox.new_id()
    org.payments[pid] = {
        "PaymentID": pid,
        "InvoiceID": invoice["InvoiceID"],
        "Date": on,
        "Amount": amount,
        "Status": "AUTHORISED",
        "PaymentType": kind,
        "Reference": f"Bank {pid[:8]}",
        "UpdatedDateUTC": _past(sandbox, on, 0),
    }
    invoice["UpdatedDateUTC"] = max(invoice["UpdatedDateUTC"], _past(sandbox, on, 0))


def _allocate(sandbox: XeroSandbox, org: Org, invoice: dict[str, Any], kind: str, amount: Decimal, on: date) -> None:
    credit = _credit(sandbox, org, kind, invoice["ContactID"], amount, on)
    credit["Allocations"].append(
        {
            "AllocationID": sandbox.new_id(),
            "InvoiceID": invoice["InvoiceID"],
            "Amount": amount,
            "Date": on,
            "IsDeleted": False,
        }
    )
    credit["Status"] = "PAID"
    org.alloc_count += 1
    invoice["UpdatedDateUTC"] = max(invoice["UpdatedDateUTC"], _past(sandbox, on, 0))


def _credit(sandbox: XeroSandbox, org: Org, kind: str, contact_id: str, total: Decimal, on: date) -> dict[str, Any]:
    store, key, type_ = CREDIT_KINDS[kind]
    org.credit_seq += 1
    cid = sandbox.new_id()
    record: dict[str, Any] = {
        key: cid,
        "Type": type_,
        "ContactID": contact_id,
        "Date": on,
        "Status": "AUTHORISED",
        "Total": Decimal(total).quantize(CENT),
        "CurrencyCode": org.currency,
        "Allocations": [],
        "UpdatedDateUTC": _past(sandbox, on, 0),
        "Number": f"CN-{org.credit_seq:05d}",
    }
    getattr(org, store)[cid] = record
    return record


def _contact(sandbox: XeroSandbox, org: Org, number: int, kind: str, updated: datetime) -> str:
    cid = sandbox.new_id()
    consumer = kind == "consumer"
    org.contacts[cid] = {
        "ContactID": cid,
        "ContactNumber": f"C{number:05d}",
        "ContactStatus": "ACTIVE",
        "Name": f"{'Consumer' if consumer else 'Supplier' if kind == 'supplier' else 'Company'} {number}"
        + ("" if consumer else " B.V."),
        "FirstName": f"First{number}" if consumer else "",
        "LastName": f"Last{number}" if consumer else "",
        "EmailAddress": f"contact{number}@example.com",
        "CompanyNumber": None if consumer else f"{10000000 + number}",
        "TaxNumber": None if consumer else f"NL{100000000 + number}B01",
        "City": "Amsterdam",
        "PostalCode": f"{1000 + number} AB",
        "AddressLine1": f"Straat {number}",
        "Country": org.country,
        "UpdatedDateUTC": updated,
    }
    return cid


def _past(sandbox: XeroSandbox, day: date, days_after: int) -> datetime:
    """A moment on ``day`` (+ ``days_after``) with seeded seconds, never later than the sandbox's "now"."""
    moment = datetime.combine(day + timedelta(days=max(days_after, 0)), time(), tzinfo=UTC)
    moment += timedelta(seconds=sandbox.rng.randint(0, 86399), milliseconds=sandbox.rng.randint(0, 999))
    return min(moment, sandbox.now())
