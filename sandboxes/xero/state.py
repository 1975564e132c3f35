"""The Xero sandbox's in-memory books: organisations, contacts, invoices, payments and allocations.

This is the state object behind ``app.extensions["sandbox"]`` (with the OAuth and webhook parts mixed in from
``oauth.py`` and ``webhooks.py``, one ``records.Org`` per tenant, saved by ``persist.py``). Mutations keep Xero's
derived numbers consistent (``AmountDue``, ``AmountPaid``, ``AmountCredited``, AUTHORISED <-> PAID), bump
``UpdatedDateUTC`` the way Xero does (including its blind spot for due-date edits on part-paid invoices,
docs/providers/xero.md#incremental-sync) and queue webhook events.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sandboxes.xero.limits import RateLimiter
from sandboxes.xero.oauth import OAuthState
from sandboxes.xero.persist import save_state
from sandboxes.xero.records import CENT, CREDIT_KINDS, Org, SandboxError
from sandboxes.xero.webhooks import WebhookState


class XeroSandbox(OAuthState, WebhookState):
    """Emulator state; method names shared with the other sandboxes are marked 'common API'."""

    def __init__(
        self,
        *,
        client_id: str = "sandbox-client",
        client_secret: str = "sandbox-secret",  # noqa: S107 - the emulator's fixed demo secret
        auto_consent: bool = True,
        clock: Callable[[], datetime] | None = None,
        state_path: Path | None = None,
        rate_limits: bool = True,
        minute_limit: int = 60,
        day_limit: int = 5000,
        app_minute_limit: int = 10000,
        concurrent_limit: int = 5,
        seed: int = 42,
    ) -> None:
        self.pdf_failure: int | None = None  # a test's outage: the invoice PDF answers this status
        self.lock = threading.RLock()
        self.rng = random.Random(seed)
        self.client_id = client_id
        self.client_secret = client_secret
        self.auto_consent = auto_consent
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.state_path = state_path
        self.orgs: dict[str, Org] = {}
        self._indexes: dict[str, tuple[tuple[int, int], dict[str, list[Any]], dict[str, list[Any]]]] = {}
        self.request_log: list[tuple[str, str, int]] = []
        self.idempotency: dict[tuple[str, str], tuple[datetime, bytes]] = {}
        self.limiter = RateLimiter(
            self.now,
            enabled=rate_limits,
            minute=minute_limit,
            day=day_limit,
            app_minute=app_minute_limit,
            concurrent=concurrent_limit,
        )
        OAuthState.__init__(self)
        WebhookState.__init__(self)

    def now(self) -> datetime:
        moment = self.clock()
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    def new_id(self) -> str:
        """Deterministic UUIDs (seeded), so a given seed always produces the same books."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def org(self, tenant: str) -> Org:
        try:
            return self.orgs[tenant]
        except KeyError:
            raise KeyError(f"unknown tenant {tenant!r}") from None

    def changed(self) -> None:
        """Persist after a mutation when ``state_path`` is set."""
        if self.state_path is not None:
            save_state(self, self.state_path)

    # --- common API ------------------------------------------------------------------------------------
    def tenant_ids(self) -> list[str]:
        return list(self.orgs)

    def open_invoice_ids(self, tenant: str) -> list[str]:
        org = self.org(tenant)
        return [
            i["InvoiceID"]
            for i in org.invoices.values()
            if i["Type"] == "ACCREC" and i["Status"] == "AUTHORISED" and self.amount_due(org, i) > 0
        ]

    def writes(self, tenant: str) -> list[dict[str, Any]]:
        return list(self.org(tenant).writes)

    def create_invoice(
        self,
        tenant: str,
        debtor_id: str | None = None,
        total: Decimal = Decimal("100.00"),
        due_date: date | None = None,
        consumer: bool = False,
        *,
        status: str = "AUTHORISED",
        invoice_type: str = "ACCREC",
        invoice_date: date | None = None,
        currency: str | None = None,
    ) -> str:
        with self.lock:
            org = self.org(tenant)
            if debtor_id is None:
                debtor_id = self.create_contact(tenant, consumer=consumer)
            today = self.now().date()
            issued = invoice_date or today
            invoice = self._new_invoice(
                org,
                debtor_id,
                Decimal(total),
                issued,
                due_date or issued + timedelta(days=14),
                status,
                invoice_type,
                currency or org.currency,
            )
            self.queue_event(tenant, "INVOICE", "CREATE", invoice["InvoiceID"])
            self.changed()
            return str(invoice["InvoiceID"])

    def register_payment(self, tenant: str, invoice_id: str, amount: Decimal, on: date | None = None) -> str:
        with self.lock:
            org = self.org(tenant)
            invoice = org.invoices[invoice_id]
            amount = Decimal(amount)
            if invoice["Status"] != "AUTHORISED":
                raise SandboxError("Payments can only be made against Authorised documents")
            if amount <= 0 or amount > self.amount_due(org, invoice):
                raise SandboxError("Payment amount exceeds the amount outstanding on this document")
            pid = self.new_id()
            org.payments[pid] = {
                "PaymentID": pid,
                "InvoiceID": invoice_id,
                "Date": on or self.now().date(),
                "Amount": amount,
                "Status": "AUTHORISED",
                "PaymentType": "ACCRECPAYMENT" if invoice["Type"] == "ACCREC" else "ACCPAYPAYMENT",
                "Reference": f"Bank {pid[:8]}",
                "UpdatedDateUTC": self.now(),
            }
            self._settle(org, invoice)
            self.changed()
            return pid

    # --- more mutations (used by seed and tests) ---------------------------------------------------------
    def create_contact(
        self,
        tenant: str,
        name: str | None = None,
        *,
        consumer: bool = False,
        email: str | None = None,
        company_number: str | None = None,
    ) -> str:
        with self.lock:
            org = self.org(tenant)
            cid = self.new_id()
            number = len(org.contacts) + 1
            org.contacts[cid] = {
                "ContactID": cid,
                "ContactNumber": f"C{number:05d}",
                "ContactStatus": "ACTIVE",
                "Name": name or (f"Consumer {number}" if consumer else f"Company {number} B.V."),
                "FirstName": f"First{number}" if consumer else "",
                "LastName": f"Last{number}" if consumer else "",
                "EmailAddress": email or f"contact{number}@example.com",
                "CompanyNumber": None if consumer else (company_number or f"{10000000 + number}"),
                "TaxNumber": None if consumer else f"NL{100000000 + number}B01",
                "City": "Amsterdam",
                "PostalCode": f"{1000 + number % 900} AB",
                "AddressLine1": f"Straat {number}",
                "Country": org.country,
                "UpdatedDateUTC": self.now(),
            }
            if consumer:
                self._group_named(org, "Consumers", create=True)["contact_ids"].append(cid)
            self.queue_event(tenant, "CONTACT", "CREATE", cid)
            self.changed()
            return cid

    def set_due_date(self, tenant: str, invoice_id: str, due: date) -> None:
        """Edit the due date; docs/providers/xero.md#incremental-sync: no UpdatedDateUTC bump on part-paid invoices
        (blind spot)."""
        with self.lock:
            org = self.org(tenant)
            invoice = org.invoices[invoice_id]
            invoice["DueDate"] = due
            part_paid = self.amount_paid(org, invoice) + self.amount_credited(org, invoice) > 0
            if not part_paid:
                self._touch(org, invoice)
            self.changed()

    def set_status(self, tenant: str, invoice_id: str, status: str) -> None:
        with self.lock:
            org = self.org(tenant)
            invoice = org.invoices[invoice_id]
            invoice["Status"] = status
            self._touch(org, invoice)
            self.changed()

    def delete_payment(self, tenant: str, payment_id: str) -> None:
        with self.lock:
            org = self.org(tenant)
            payment = org.payments[payment_id]
            payment["Status"] = "DELETED"
            payment["UpdatedDateUTC"] = self.now()
            self._settle(org, org.invoices[payment["InvoiceID"]])
            self.changed()

    def create_credit(
        self,
        tenant: str,
        kind: str,
        contact_id: str,
        total: Decimal,
        allocate_to: str | None = None,
        amount: Decimal | None = None,
        on: date | None = None,
    ) -> str:
        """A credit note ('credit_note'), overpayment or prepayment, optionally allocated to an invoice."""
        with self.lock:
            org = self.org(tenant)
            store, key, type_ = CREDIT_KINDS[kind]
            cid = self.new_id()
            org.credit_seq += 1
            record: dict[str, Any] = {
                key: cid,
                "Type": type_,
                "ContactID": contact_id,
                "Date": on or self.now().date(),
                "Status": "AUTHORISED",
                "Total": Decimal(total),
                "CurrencyCode": org.currency,
                "Allocations": [],
                "UpdatedDateUTC": self.now(),
                "Number": f"CN-{org.credit_seq:05d}",
            }
            getattr(org, store)[cid] = record
            if kind == "credit_note":
                self.queue_event(tenant, "CREDITNOTE", "CREATE", cid, data={"Type": type_, "Status": "AUTHORISED"})
            if allocate_to:
                self.allocate(tenant, kind, cid, allocate_to, amount if amount is not None else Decimal(total), on)
            self.changed()
            return cid

    def allocate(
        self, tenant: str, kind: str, credit_id: str, invoice_id: str, amount: Decimal, on: date | None = None
    ) -> str:
        with self.lock:
            org = self.org(tenant)
            store, _key, _type = CREDIT_KINDS[kind]
            credit = getattr(org, store)[credit_id]
            invoice = org.invoices[invoice_id]
            amount = Decimal(amount)
            if amount > self.remaining_credit(credit) or amount > self.amount_due(org, invoice):
                raise SandboxError("The amount allocated exceeds the remaining credit or the amount due")
            alloc_id = self.new_id()
            credit["Allocations"].append(
                {
                    "AllocationID": alloc_id,
                    "InvoiceID": invoice_id,
                    "Amount": amount,
                    "Date": on or self.now().date(),
                    "IsDeleted": False,
                }
            )
            org.alloc_count += 1
            credit["UpdatedDateUTC"] = self.now()
            if self.remaining_credit(credit) == 0:
                credit["Status"] = "PAID"
            self._settle(org, invoice)
            self.changed()
            return alloc_id

    def set_reminders_enabled(self, tenant: str, enabled: bool) -> None:
        with self.lock:
            self.org(tenant).reminders_enabled = enabled
            self.changed()

    # --- derived numbers -------------------------------------------------------------------------------
    def amount_paid(self, org: Org, invoice: dict[str, Any]) -> Decimal:
        return sum((p["Amount"] for p in self.invoice_payments(org, invoice["InvoiceID"])), Decimal("0.00"))

    def amount_credited(self, org: Org, invoice: dict[str, Any]) -> Decimal:
        return sum((a["Amount"] for _k, _c, a in self.invoice_allocations(org, invoice["InvoiceID"])), Decimal("0.00"))

    def amount_due(self, org: Org, invoice: dict[str, Any]) -> Decimal:
        if invoice["Status"] in ("VOIDED", "DELETED"):
            return Decimal("0.00")
        due: Decimal = invoice["Total"] - self.amount_paid(org, invoice) - self.amount_credited(org, invoice)
        return due.quantize(CENT)

    def invoice_payments(self, org: Org, invoice_id: str) -> list[dict[str, Any]]:
        payments, _allocations = self._index(org)
        return [p for p in payments.get(invoice_id, ()) if p["Status"] == "AUTHORISED"]

    def invoice_allocations(self, org: Org, invoice_id: str) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
        _payments, allocations = self._index(org)
        return [entry for entry in allocations.get(invoice_id, ()) if not entry[2]["IsDeleted"]]

    def _index(self, org: Org) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
        """Payments and allocations per invoice, rebuilt only when new ones were added."""
        key = (len(org.payments), org.alloc_count)
        cached = self._indexes.get(org.tenant_id)
        if cached is not None and cached[0] == key:
            return cached[1], cached[2]
        payments: dict[str, list[Any]] = {}
        for payment in org.payments.values():
            payments.setdefault(payment["InvoiceID"], []).append(payment)
        allocations: dict[str, list[Any]] = {}
        for kind, (store, _key, _type) in CREDIT_KINDS.items():
            for credit in getattr(org, store).values():
                for allocation in credit["Allocations"]:
                    allocations.setdefault(allocation["InvoiceID"], []).append((kind, credit, allocation))
        self._indexes[org.tenant_id] = (key, payments, allocations)
        return payments, allocations

    @staticmethod
    def remaining_credit(credit: dict[str, Any]) -> Decimal:
        used = sum((a["Amount"] for a in credit["Allocations"] if not a["IsDeleted"]), Decimal("0.00"))
        return Decimal(credit["Total"] - used).quantize(CENT)

    # --- internals --------------------------------------------------------------------------------------
    def _new_invoice(
        self,
        org: Org,
        contact_id: str,
        total: Decimal,
        issued: date,
        due: date,
        status: str,
        invoice_type: str,
        currency: str,
    ) -> dict[str, Any]:
        iid = self.new_id()
        org.invoice_seq += 1
        sub_total = (total / Decimal("1.21")).quantize(CENT)
        invoice: dict[str, Any] = {
            "InvoiceID": iid,
            "InvoiceNumber": f"INV-{org.invoice_seq:05d}" if invoice_type == "ACCREC" else "",
            "Type": invoice_type,
            "ContactID": contact_id,
            "Date": issued,
            "DueDate": due,
            "Status": status,
            "CurrencyCode": currency,
            "SubTotal": sub_total,
            "TotalTax": total - sub_total,
            "Total": total,
            "Reference": f"PO-{org.invoice_seq}" if invoice_type == "ACCREC" else "",
            "SentToContact": status == "AUTHORISED",
            "UpdatedDateUTC": self.now(),
            "Url": None,
            "FullyPaidOnDate": None,
            "LineItemID": self.new_id(),
            "Description": f"Services {issued.isoformat()}",
        }
        org.invoices[iid] = invoice
        return invoice

    def _settle(self, org: Org, invoice: dict[str, Any]) -> None:
        """Recompute PAID/AUTHORISED after a payment or allocation change and bump the invoice."""
        due = self.amount_due(org, invoice)
        if invoice["Status"] == "AUTHORISED" and due == 0:
            invoice["Status"] = "PAID"
            dates = [p["Date"] for p in self.invoice_payments(org, invoice["InvoiceID"])]
            dates += [a["Date"] for _k, _c, a in self.invoice_allocations(org, invoice["InvoiceID"])]
            invoice["FullyPaidOnDate"] = max(dates) if dates else self.now().date()
        elif invoice["Status"] == "PAID" and due > 0:
            # docs/providers/xero.md#payments-and-credit-notes: a deleted payment reopens the invoice (inferred)
            invoice["Status"] = "AUTHORISED"
            invoice["FullyPaidOnDate"] = None
        self._touch(org, invoice)

    def _touch(self, org: Org, invoice: dict[str, Any]) -> None:
        invoice["UpdatedDateUTC"] = self.now()
        self.queue_event(org.tenant_id, "INVOICE", "UPDATE", invoice["InvoiceID"])

    def _group_named(self, org: Org, name: str, *, create: bool) -> dict[str, Any]:
        for group in org.groups.values():
            if group["Name"].lower() == name.lower() and group["Status"] == "ACTIVE":
                return group
        if not create:
            raise KeyError(name)
        gid = self.new_id()
        org.groups[gid] = {"ContactGroupID": gid, "Name": name, "Status": "ACTIVE", "contact_ids": []}
        return org.groups[gid]
