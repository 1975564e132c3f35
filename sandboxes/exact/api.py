"""Exact sandbox: the read endpoints, which fields each entity set has and how a GET on it is answered.

``READS`` maps an endpoint (``crm/Accounts``, ``sync/Cashflow/PaymentTerms``, …) to its rows, fields, page size,
paging key and filter rules (docs/providers/exact.md#invoices, docs/providers/exact.md#requests); ``read`` answers a GET
that ``app.py`` dispatches after the gate, with ``$select``, ``$filter`` (``query.py``), ``$top`` and ``__next`` paging.
``salesinvoice/SalesInvoices`` has no open amount on purpose (docs/providers/exact.md#invoices);
``read/financial/ReceivablesList`` has one row per open receivable term. The write endpoints are in ``writeback.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from flask import Response, request

from sandboxes.exact.query import parse_filter
from sandboxes.exact.render import error_response, json_response, to_wire
from sandboxes.exact.state import ExactState

RowsFn = Callable[[ExactState, str], list[dict[str, Any]]]
_KEY = re.compile(r"^(?P<name>[A-Za-z/]+)(?:\(guid'(?P<key>[0-9a-fA-F-]{36})'\))?$")

TERM = (
    "ID",
    "EntryID",
    "TransactionEntryID",
    "TransactionID",
    "Account",
    "AccountCode",
    "AccountName",
    "AmountDC",
    "AmountFC",
    "TransactionAmountDC",
    "TransactionAmountFC",
    "Currency",
    "RateFC",
    "DueDate",
    "DiscountDueDate",
    "InvoiceDate",
    "InvoiceNumber",
    "EntryNumber",
    "Status",
    "IsFullyPaid",
    "LastPaymentDate",
    "EndDate",
    "PaymentMethod",
    "PaymentCondition",
    "PaymentReference",
    "YourRef",
    "Description",
    "Created",
    "Modified",
    "Division",
)
SYNC_TERM = (*TERM, "Timestamp", "LineType", "ApprovalStatus")
ACCOUNT = (
    "ID",
    "Code",
    "Name",
    "Email",
    "Phone",
    "VATNumber",
    "ChamberOfCommerce",
    "AddressLine1",
    "AddressLine2",
    "Postcode",
    "City",
    "Country",
    "Language",
    "IsSales",
    "IsSupplier",
    "Status",
    "Blocked",
    "CreditLineSales",
    "Remarks",
    "Created",
    "Modified",
)
SALES_INVOICE = (
    "InvoiceID",
    "InvoiceNumber",
    "InvoiceDate",
    "DueDate",
    "InvoiceTo",
    "OrderedBy",
    "AmountDC",
    "AmountFC",
    "Currency",
    "Status",
    "Type",
    "Journal",
    "PaymentCondition",
    "PaymentReference",
    "YourRef",
    "Description",
    "Remarks",
    "Modified",
)
RECEIVABLES_LIST = (
    "HID",
    "AccountId",
    "AccountCode",
    "AccountName",
    "Amount",
    "AmountInTransit",
    "CurrencyCode",
    "Description",
    "DueDate",
    "EntryNumber",
    "InvoiceDate",
    "InvoiceNumber",
    "JournalCode",
    "JournalDescription",
    "Notes",
    "YourRef",
)
DIVISION = (
    "Code",
    "Description",
    "Hid",
    "Country",
    "Currency",
    "Customer",
    "CustomerName",
    "VATNumber",
    "Status",
    "BlockingStatus",
    "IsMainDivision",
    "Current",
)
NOTE = ("ID", "Account", "Contact", "Subject", "Notes", "Date", "Created", "Creator")
DOCUMENT = ("ID", "Subject", "Type", "Account", "Body", "DocumentDate", "Created")
ATTACHMENT = ("ID", "Document", "FileName", "FileSize", "Url")
SUBSCRIPTION = (
    "ID",
    "CallbackURL",
    "Topic",
    "ClientID",
    "Division",
    "UserID",
    "Description",
    "Created",
    "Creator",
    "IsInstant",
)


@dataclass(frozen=True)
class Read:
    rows: RowsFn
    fields: tuple[str, ...]
    page: int = 60
    key: str = "ID"
    select_always: bool = False  # bulk/ and sync/: $select mandatory even with $top
    mandatory_filter: bool = False
    filterable: frozenset[str] | None = None


def split_resource(resource: str) -> tuple[str, str | None]:
    match = _KEY.match(resource)
    if match is None:
        return resource, None
    return match.group("name"), (match.group("key") or "").lower() or None


def _div(state: ExactState, division: str) -> dict[str, Any]:
    return state.division(division)


def _accounts(state: ExactState, division: str) -> list[dict[str, Any]]:
    return [dict(a) for a in _div(state, division)["accounts"].values()]


def _terms(state: ExactState, division: str) -> list[dict[str, Any]]:
    return [dict(t) for t in _div(state, division)["terms"].values()]


def _receivables(state: ExactState, division: str) -> list[dict[str, Any]]:
    return [t for t in _terms(state, division) if t["LineType"] == 20]


def _receivables_list(state: ExactState, division: str) -> list[dict[str, Any]]:
    div = _div(state, division)
    return [
        {
            "HID": t["Timestamp"],
            "AccountId": t["Account"],
            "AccountCode": t["AccountCode"],
            "AccountName": t["AccountName"],
            "Amount": t["AmountDC"],
            "AmountInTransit": 0,
            "CurrencyCode": t["Currency"],
            "Description": t["Description"],
            "DueDate": t["DueDate"],
            "EntryNumber": t["EntryNumber"],
            "InvoiceDate": t["InvoiceDate"],
            "InvoiceNumber": t["InvoiceNumber"],
            "JournalCode": t["JournalCode"],
            "JournalDescription": "Verkoopboek",
            "Notes": None,
            "YourRef": t["YourRef"],
        }
        for t in div["terms"].values()
        if t["LineType"] == 20 and t["Status"] == 20
    ]


def _sales_invoices(state: ExactState, division: str) -> list[dict[str, Any]]:
    return [
        {
            "InvoiceID": e["InvoiceID"],
            "InvoiceNumber": e["InvoiceNumber"],
            "InvoiceDate": e["InvoiceDate"],
            "DueDate": e["DueDate"],
            "InvoiceTo": e["Account"],
            "OrderedBy": e["Account"],
            "AmountDC": e["AmountDC"],
            "AmountFC": e["AmountDC"],
            "Currency": e["Currency"],
            "Status": 50,
            "Type": 8021 if e["AmountDC"] < 0 else 8020,
            "Journal": e["Journal"],
            "PaymentCondition": "30",
            "PaymentReference": f"RF{e['EntryNumber']}",
            "YourRef": e["YourRef"],
            "Description": e["Description"],
            "Remarks": None,
            "Modified": e["Modified"],
        }
        for e in _div(state, division)["entries"].values()
        if e["LineType"] == 20
    ]


def _divisions(accessible_only: bool) -> RowsFn:
    def rows(state: ExactState, division: str) -> list[dict[str, Any]]:
        out = []
        for div in state.db["divisions"].values():
            info = div["info"]
            if accessible_only and not info["Accessible"]:
                continue
            out.append({k: info.get(k) for k in DIVISION} | {"Current": str(info["Code"]) == division})
        return out

    return rows


def _table(name: str) -> RowsFn:
    return lambda state, division: [dict(r) for r in _div(state, division)[name].values()]


READS: dict[str, Read] = {
    "crm/Accounts": Read(_accounts, ACCOUNT, mandatory_filter=True),
    "bulk/CRM/Accounts": Read(_accounts, ACCOUNT, 1000, select_always=True, mandatory_filter=True),
    "sync/CRM/Accounts": Read(
        _accounts, (*ACCOUNT, "Timestamp"), 1000, "Timestamp", True, filterable=frozenset({"Timestamp"})
    ),
    "salesinvoice/SalesInvoices": Read(_sales_invoices, SALES_INVOICE, key="InvoiceID"),
    "bulk/SalesInvoice/SalesInvoices": Read(_sales_invoices, SALES_INVOICE, 1000, "InvoiceID", True),
    "cashflow/Receivables": Read(_receivables, TERM),
    "bulk/Cashflow/Receivables": Read(_receivables, TERM, 1000, select_always=True),
    "read/financial/ReceivablesList": Read(_receivables_list, RECEIVABLES_LIST, 1000, "HID"),
    "sync/Cashflow/PaymentTerms": Read(
        _terms, SYNC_TERM, 1000, "Timestamp", True, filterable=frozenset({"Timestamp"})
    ),  # docs/providers/exact.md#invoices: only Timestamp
    "system/Divisions": Read(_divisions(True), DIVISION, key="Code"),
    "system/AllDivisions": Read(_divisions(False), DIVISION, key="Code"),
    "activities/CommunicationNotes": Read(_table("notes"), NOTE),
    "documents/Documents": Read(_table("documents"), DOCUMENT),
    "documents/DocumentAttachments": Read(_table("attachments"), ATTACHMENT),
    "webhooks/WebhookSubscriptions": Read(_table("subscriptions"), SUBSCRIPTION),
}


SELECT_MESSAGE = "Please add a $select or a $top=1 statement to the query string"


def read(state: ExactState, division: str, resource: str, spec: Read) -> Response:
    """Answer a GET on an entity set: ``$select`` required, ``$filter``, ``$top`` and ``__next`` paging
    (docs/providers/exact.md#requests)."""
    args = request.args
    select = args.get("$select")
    top = args.get("$top")
    if not select and (spec.select_always or top != "1"):
        return error_response(400, SELECT_MESSAGE)  # docs/providers/exact.md#requests
    fields = [f.strip() for f in select.split(",")] if select else list(spec.fields)
    unknown = [f for f in fields if f not in spec.fields]
    if unknown:
        return error_response(400, f"Property '{unknown[0]}' does not exist on type '{resource}'.")
    flt = args.get("$filter")
    if spec.mandatory_filter and not flt:
        return error_response(
            400,
            "This endpoint has mandatory filtering applied. A GET request for this endpoint must "
            "have a $filter parameter with one of the following fields in the url: ID, Code, Name, "
            "Modified",
        )
    rows = spec.rows(state, division)
    if flt:
        predicate, _ = parse_filter(flt, spec.filterable)
        rows = [r for r in rows if predicate(r)]
    rows.sort(key=lambda r: r[spec.key])
    skip = args.get("$skiptoken")
    if skip:
        after: Any = (
            int(skip.rstrip("L"))
            if spec.key == "Timestamp" or skip.isdigit()  # Int64 timestamps end in L; Int32 keys (Code) are bare
            else skip.removeprefix("guid'").rstrip("'")
        )
        rows = [r for r in rows if r[spec.key] > after]
    limit = min(int(top), spec.page) if top else spec.page
    page, more = rows[:limit], len(rows) > limit and not top
    body: dict[str, Any] = {"results": [to_wire({f: r.get(f) for f in fields}) for r in page]}
    if more:
        last = page[-1][spec.key]
        token = f"{last}L" if spec.key == "Timestamp" else str(last) if isinstance(last, int) else f"guid'{last}'"
        params = {k: v for k, v in args.items() if k != "$skiptoken"} | {"$skiptoken": token}
        query = urlencode(params, safe="$,'", quote_via=quote)  # Exact's links keep $, commas and quotes
        body["__next"] = f"{request.base_url}?{query}"
    return json_response({"d": body})
