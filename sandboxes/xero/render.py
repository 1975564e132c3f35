"""Renders the sandbox's books in Xero's JSON shapes: envelopes, ``/Date(ms+0000)/`` dates, money as numbers.

Called by the sandbox routes just before a response leaves; the shapes follow the examples and schemas in
``xero_accounting.yaml`` (Invoices, CreditNotes, Overpayments, Prepayments, Payments, Contacts, ContactGroups,
History, Organisation). Money is emitted as exact JSON numbers from ``Decimal`` without passing through float.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from flask import Response

from sandboxes.xero.records import CREDIT_KINDS, Org
from sandboxes.xero.state import XeroSandbox

_DECIMAL_MARK = re.compile(r'"__dec__(-?[0-9.]+)"')


def dumps(body: Any) -> str:
    """JSON with Decimals as plain numbers (2 dp) and datetimes/dates already rendered by the callers."""

    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            return f"__dec__{value:f}"
        if isinstance(value, datetime | date):
            return value.isoformat()
        raise TypeError(f"cannot serialise {type(value).__name__}")

    return _DECIMAL_MARK.sub(r"\1", json.dumps(body, default=default))


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(body), status=status, headers=headers, content_type="application/json; charset=utf-8")


def ms(moment: datetime | date) -> str:
    """``/Date(ms+0000)/``: instants in UTC; calendar dates as midnight UTC of that date
    (docs/providers/xero.md#dates)."""
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(), tzinfo=UTC)
    millis = int(moment.astimezone(UTC).timestamp() * 1000)
    return f"/Date({millis}+0000)/"


def date_string(day: date) -> str:
    return f"{day.isoformat()}T00:00:00"


def utc_string(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(
    sandbox: XeroSandbox, key: str | None, items: Any, pagination: dict[str, int] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Id": str(uuid.uuid4()),
        "Status": "OK",
        "ProviderName": "dunning sandbox",
        "DateTimeUTC": ms(sandbox.now()),
    }
    if pagination is not None:
        body["pagination"] = pagination
    if key is not None:
        body[key] = items
    return body


def contact_summary(org: Org, contact_id: str) -> dict[str, Any]:
    contact = org.contacts.get(contact_id, {"ContactID": contact_id, "Name": "Unknown"})
    return {
        "ContactID": contact["ContactID"],
        "Name": contact["Name"],
        "Addresses": [],
        "Phones": [],
        "ContactGroups": [],
        "ContactPersons": [],
        "HasValidationErrors": False,
    }


def invoice(sandbox: XeroSandbox, org: Org, inv: dict[str, Any], *, lines: bool, summary_only: bool) -> dict[str, Any]:
    due = sandbox.amount_due(org, inv)
    paid = sandbox.amount_paid(org, inv)
    credited = sandbox.amount_credited(org, inv)
    body: dict[str, Any] = {
        "Type": inv["Type"],
        "InvoiceID": inv["InvoiceID"],
        "InvoiceNumber": inv["InvoiceNumber"],
        "Reference": inv["Reference"],
        "AmountDue": due,
        "AmountPaid": paid,
        "AmountCredited": credited,
        "SentToContact": inv["SentToContact"],
        "CurrencyRate": Decimal("1.000000"),
        "IsDiscounted": False,
        "HasErrors": False,
        "Contact": contact_summary(org, inv["ContactID"]),
        "DateString": date_string(inv["Date"]),
        "Date": ms(inv["Date"]),
        "DueDateString": date_string(inv["DueDate"]),
        "DueDate": ms(inv["DueDate"]),
        "Status": inv["Status"],
        "LineAmountTypes": "Exclusive",
        "SubTotal": inv["SubTotal"],
        "TotalTax": inv["TotalTax"],
        "Total": inv["Total"],
        "UpdatedDateUTC": ms(inv["UpdatedDateUTC"]),
        "UpdatedDateUTCString": utc_string(inv["UpdatedDateUTC"]),
        "CurrencyCode": inv["CurrencyCode"],
    }
    if inv.get("FullyPaidOnDate"):
        body["FullyPaidOnDate"] = ms(inv["FullyPaidOnDate"])
    if inv.get("Url"):
        body["Url"] = inv["Url"]
    if summary_only:
        return body
    body["HasAttachments"] = False
    body["Payments"] = [
        {
            "PaymentID": p["PaymentID"],
            "Date": ms(p["Date"]),
            "Amount": p["Amount"],
            "Reference": p["Reference"],
            "CurrencyRate": Decimal("1.000000"),
            "HasAccount": False,
            "HasValidationErrors": False,
        }
        for p in sandbox.invoice_payments(org, inv["InvoiceID"])
    ]
    nested: dict[str, list[dict[str, Any]]] = {"CreditNotes": [], "Overpayments": [], "Prepayments": []}
    for kind, credit, allocation in sandbox.invoice_allocations(org, inv["InvoiceID"]):
        store, key, _type = CREDIT_KINDS[kind]
        entry = {
            key: credit[key],
            "ID": credit[key],
            "AppliedAmount": allocation["Amount"],
            "Date": ms(allocation["Date"]),
            "DateString": date_string(allocation["Date"]),
            "Total": credit["Total"],
            "LineItems": [],
        }
        if kind == "credit_note":
            entry["CreditNoteNumber"] = credit["Number"]
        nested[_NESTED_KEY[kind]].append(entry)
    body.update(nested)
    if lines:
        body["LineItems"] = [
            {
                "LineItemID": inv["LineItemID"],
                "Description": inv["Description"],
                "Quantity": Decimal("1.0000"),
                "UnitAmount": inv["SubTotal"],
                "AccountCode": "200",
                "TaxType": "OUTPUT2",
                "TaxAmount": inv["TotalTax"],
                "LineAmount": inv["SubTotal"],
                "Tracking": [],
            }
        ]
    return body


_NESTED_KEY = {"credit_note": "CreditNotes", "overpayment": "Overpayments", "prepayment": "Prepayments"}


def credit(sandbox: XeroSandbox, org: Org, kind: str, record: dict[str, Any]) -> dict[str, Any]:
    _store, key, type_ = CREDIT_KINDS[kind]
    total = record["Total"]
    sub_total = (total / Decimal("1.21")).quantize(Decimal("0.01"))
    body: dict[str, Any] = {
        key: record[key],
        "Type": type_,
        "Contact": contact_summary(org, record["ContactID"]),
        "DateString": date_string(record["Date"]),
        "Date": ms(record["Date"]),
        "Status": record["Status"],
        "LineAmountTypes": "Exclusive",
        "LineItems": [],
        "SubTotal": sub_total,
        "TotalTax": total - sub_total,
        "Total": total,
        "UpdatedDateUTC": ms(record["UpdatedDateUTC"]),
        "CurrencyCode": record["CurrencyCode"],
        "CurrencyRate": Decimal("1.000000"),
        "RemainingCredit": sandbox.remaining_credit(record),
        "Allocations": [_allocation(org, a) for a in record["Allocations"] if not a["IsDeleted"]],
        "Payments": [],
        "HasAttachments": False,
    }
    if kind == "credit_note":
        body.update(
            CreditNoteNumber=record["Number"],
            Reference="",
            SentToContact=False,
            AppliedAmount=total - sandbox.remaining_credit(record),
        )
    else:
        body["AppliedAmount"] = total - sandbox.remaining_credit(record)
    return body


def _allocation(org: Org, allocation: dict[str, Any]) -> dict[str, Any]:
    inv = org.invoices[allocation["InvoiceID"]]
    return {
        "AllocationID": allocation["AllocationID"],
        "Amount": allocation["Amount"],
        "Date": ms(allocation["Date"]),
        "Invoice": {
            "InvoiceID": inv["InvoiceID"],
            "InvoiceNumber": inv["InvoiceNumber"],
            "Payments": [],
            "CreditNotes": [],
            "Prepayments": [],
            "Overpayments": [],
            "HasErrors": False,
            "IsDiscounted": False,
            "LineItems": [],
        },
        "IsDeleted": allocation["IsDeleted"],
    }


def payment(org: Org, record: dict[str, Any]) -> dict[str, Any]:
    inv = org.invoices[record["InvoiceID"]]
    return {
        "PaymentID": record["PaymentID"],
        "Date": ms(record["Date"]),
        "BankAmount": record["Amount"],
        "Amount": record["Amount"],
        "Reference": record["Reference"],
        "CurrencyRate": Decimal("1.000000"),
        "PaymentType": record["PaymentType"],
        "Status": record["Status"],
        "UpdatedDateUTC": ms(record["UpdatedDateUTC"]),
        "HasAccount": True,
        "IsReconciled": False,
        "Account": {"AccountID": "5690f1e8-1d00-4893-90c7-05530c2c5a8f", "Code": "090"},
        "Invoice": {
            "Type": inv["Type"],
            "InvoiceID": inv["InvoiceID"],
            "InvoiceNumber": inv["InvoiceNumber"],
            "Contact": contact_summary(org, inv["ContactID"]),
            "CurrencyCode": inv["CurrencyCode"],
            "Payments": [],
            "CreditNotes": [],
            "Prepayments": [],
            "Overpayments": [],
            "HasErrors": False,
            "IsDiscounted": False,
            "LineItems": [],
        },
        "HasValidationErrors": False,
    }


def contact(
    sandbox: XeroSandbox, org: Org, record: dict[str, Any], flags: dict[str, tuple[bool, bool]], *, full: bool
) -> dict[str, Any]:
    is_customer, is_supplier = flags.get(record["ContactID"], (False, False))
    body: dict[str, Any] = {
        "ContactID": record["ContactID"],
        "ContactNumber": record["ContactNumber"],
        "ContactStatus": record["ContactStatus"],
        "Name": record["Name"],
        "FirstName": record["FirstName"],
        "LastName": record["LastName"],
        "EmailAddress": record["EmailAddress"],
        "BankAccountDetails": "",
        "Addresses": [
            {
                "AddressType": "POBOX",
                "AddressLine1": record["AddressLine1"],
                "City": record["City"],
                "PostalCode": record["PostalCode"],
                "Country": record["Country"],
            },
            {"AddressType": "STREET"},
        ],
        "Phones": [{"PhoneType": "DEFAULT"}],
        "UpdatedDateUTC": ms(record["UpdatedDateUTC"]),
        "IsSupplier": is_supplier,
        "IsCustomer": is_customer,
        "DefaultCurrency": org.currency,
        "ContactPersons": [],
        "HasAttachments": False,
        "HasValidationErrors": False,
    }
    for optional in ("CompanyNumber", "TaxNumber"):
        if record.get(optional):
            body[optional] = record[optional]
    if full:
        body["ContactGroups"] = [
            {"ContactGroupID": g["ContactGroupID"], "Name": g["Name"], "Status": g["Status"], "Contacts": []}
            for g in org.groups.values()
            if g["Status"] == "ACTIVE" and record["ContactID"] in g["contact_ids"]
        ]
        body["Balances"] = {
            "AccountsReceivable": {"Outstanding": Decimal("0.00"), "Overdue": Decimal("0.00")},
            "AccountsPayable": {"Outstanding": Decimal("0.00"), "Overdue": Decimal("0.00")},
        }
    return body


def contact_flags(org: Org) -> dict[str, tuple[bool, bool]]:
    """IsCustomer/IsSupplier are derived from the contact's transactions (read-only in Xero)."""
    flags: dict[str, tuple[bool, bool]] = {}
    for inv in org.invoices.values():
        customer, supplier = flags.get(inv["ContactID"], (False, False))
        flags[inv["ContactID"]] = (customer or inv["Type"] == "ACCREC", supplier or inv["Type"] == "ACCPAY")
    return flags


def group(org: Org, record: dict[str, Any], *, with_contacts: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Name": record["Name"],
        "Status": record["Status"],
        "ContactGroupID": record["ContactGroupID"],
    }
    body["Contacts"] = (
        [{"ContactID": cid, "Name": org.contacts[cid]["Name"]} for cid in record["contact_ids"]]
        if with_contacts
        else []
    )
    return body


def organisation(org: Org) -> dict[str, Any]:
    return {
        "OrganisationID": org.tenant_id,
        "Name": org.name,
        "LegalName": org.name,
        "PaysTax": True,
        "Version": org.country if org.country in ("NZ", "AU", "UK", "US") else "GLOBAL",
        "OrganisationType": "COMPANY",
        "BaseCurrency": org.currency,
        "CountryCode": org.country,
        "IsDemoCompany": False,
        "OrganisationStatus": "ACTIVE",
        "Timezone": org.timezone,
        "ShortCode": org.short_code,
        "Class": "PREMIUM",
        "Edition": "BUSINESS",
        "CreatedDateUTC": ms(datetime(2020, 1, 1, tzinfo=UTC)),
        "OrganisationEntityType": "COMPANY",
        "FinancialYearEndDay": 31,
        "FinancialYearEndMonth": 12,
        "Addresses": [],
        "Phones": [],
        "ExternalLinks": [],
        "PaymentTerms": {},
    }


def history(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "Changes": record["Changes"],
        "DateUTCString": utc_string(record["DateUTC"]),
        "DateUTC": ms(record["DateUTC"]),
        "User": record["User"],
        "Details": record["Details"],
    }


def error(status: int, detail: str) -> dict[str, Any]:
    title = {401: "Unauthorized", 403: "Forbidden"}.get(status, "Error")
    return {
        "Type": None,
        "Title": title,
        "Status": status,
        "Detail": detail,
        "Instance": str(uuid.uuid4()),
        "Extensions": {},
    }


def validation_error(message: str) -> dict[str, Any]:
    return {
        "ErrorNumber": 10,
        "Type": "ValidationException",
        "Message": "A validation exception occurred",
        "Elements": [{"ValidationErrors": [{"Message": message}]}],
    }
