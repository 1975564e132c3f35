"""Entity views and write handlers of the Exact sandbox: which fields each endpoint has and what writes do.

Part of the emulator only. ``READS`` maps an endpoint (``crm/Accounts``, ``sync/Cashflow/PaymentTerms``, …) to
its rows, fields, page size, paging key and filter rules (exact.md §3.1, §3.3); ``WRITES`` maps
``(method, endpoint)`` to a handler returning ``(status, payload)``. ``salesinvoice/SalesInvoices`` has no open
amount on purpose (exact.md §3.1); ``read/financial/ReceivablesList`` has one row per open receivable term.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests

from adapters.exact.sandbox_state import ExactState, new_id

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
    ),  # exact.md §3.1: only Timestamp
    "system/Divisions": Read(_divisions(True), DIVISION, key="Code"),
    "system/AllDivisions": Read(_divisions(False), DIVISION, key="Code"),
    "activities/CommunicationNotes": Read(_table("notes"), NOTE),
    "documents/Documents": Read(_table("documents"), DOCUMENT),
    "documents/DocumentAttachments": Read(_table("attachments"), ATTACHMENT),
    "webhooks/WebhookSubscriptions": Read(_table("subscriptions"), SUBSCRIPTION),
}

Handler = Callable[[ExactState, str, str | None, dict[str, Any]], tuple[int, Any]]


def _when(value: Any, state: ExactState) -> datetime:
    try:
        return datetime.fromisoformat(str(value)).replace(tzinfo=state.now().tzinfo) if value else state.now()
    except ValueError:
        return state.now()


def _post_note(state: ExactState, division: str, key: str | None, body: dict[str, Any]) -> tuple[int, Any]:
    div = _div(state, division)
    account = str(body.get("Account") or "").lower()
    if account not in div["accounts"]:
        return 400, "Account: Mandatory field, or the account does not exist."
    note = {
        "ID": new_id(state.rng),
        "Account": account,
        "Contact": body.get("Contact"),
        "Subject": body.get("Subject"),
        "Notes": body.get("Notes"),
        "Date": _when(body.get("Date"), state),
        "Created": state.now(),
        "Creator": state.db["user"]["UserID"],
    }
    div["notes"][note["ID"]] = note
    state.record_write(division, "note", f"{note['Subject']}\n{note['Notes']}", account=account, id=note["ID"])
    state.save()
    return 201, note


def _post_document(state: ExactState, division: str, key: str | None, body: dict[str, Any]) -> tuple[int, Any]:
    div = _div(state, division)
    if not body.get("Subject") or body.get("Type") is None:
        return 400, "Subject, Type: Mandatory fields."
    doc = {
        "ID": new_id(state.rng),
        "Subject": body["Subject"],
        "Type": int(body["Type"]),
        "Account": str(body.get("Account") or "").lower() or None,
        "Body": body.get("Body"),
        "DocumentDate": _when(body.get("DocumentDate"), state),
        "Created": state.now(),
    }
    div["documents"][doc["ID"]] = doc
    state.queue_event(division, "Documents", doc["ID"], "Create")  # our own writes echo back (engineering §3.3)
    state.save()
    return 201, doc


def _post_attachment(state: ExactState, division: str, key: str | None, body: dict[str, Any]) -> tuple[int, Any]:
    div = _div(state, division)
    doc = div["documents"].get(str(body.get("Document") or "").lower())
    if doc is None or not body.get("FileName"):
        return 400, "Document, FileName: Mandatory fields."
    try:
        content = base64.b64decode(str(body.get("Attachment") or ""), validate=True)
    except binascii.Error:
        return 400, "Attachment: not valid base64."
    att = {
        "ID": new_id(state.rng),
        "Document": doc["ID"],
        "FileName": body["FileName"],
        "FileSize": len(content),
        "Url": f"/docs/SysAttachment.aspx?ID={doc['ID']}",
    }
    div["attachments"][att["ID"]] = att
    state.record_write(
        division,
        "document",
        f"{doc['Subject']}\n{doc['Body']}",
        account=doc["Account"],
        id=doc["ID"],
        file_name=att["FileName"],
        size=len(content),
        pdf=content.startswith(b"%PDF"),
    )
    state.save()
    return 201, att


_ACCOUNT_WRITABLE = frozenset({"Blocked", "CreditLineSales", "Remarks", "Email", "Phone", "Name"})


def _put_account(state: ExactState, division: str, key: str | None, body: dict[str, Any]) -> tuple[int, Any]:
    account = _div(state, division)["accounts"].get(key or "")
    if account is None:
        return 404, "Account not found."
    if set(body) - _ACCOUNT_WRITABLE:
        return 400, f"Property not writable: {sorted(set(body) - _ACCOUNT_WRITABLE)[0]}"
    account.update(body, Modified=state.now(), Timestamp=state.bump())
    if "Blocked" in body:
        state.record_write(
            division, "blocked", f"Blocked={body['Blocked']}", account=key, blocked=bool(body["Blocked"])
        )
    state.queue_event(division, "Accounts", str(key), "Update")
    state.save()
    return 204, None


def _post_subscription(state: ExactState, division: str, key: str | None, body: dict[str, Any]) -> tuple[int, Any]:
    url, topic = body.get("CallbackURL"), body.get("Topic")
    if not url or not topic:
        return 400, "CallbackURL, Topic: Mandatory fields."
    try:  # exact.md §5.1: an empty POST validates the callback before the subscription exists
        status = requests.post(str(url), data=b"", timeout=10).status_code
    except requests.RequestException:
        status = 599
    if status >= 300:
        return 500, f"Invalid: Post to callback URL endpoint returns {status}"
    sub = state.subscribe(division, str(url), str(topic))
    state.save()
    return 201, sub


def _delete_subscription(state: ExactState, division: str, key: str | None, body: dict[str, Any]) -> tuple[int, Any]:
    if _div(state, division)["subscriptions"].pop(key or "", None) is None:
        return 404, "Subscription not found."
    state.save()
    return 204, None


WRITES: dict[tuple[str, str], Handler] = {
    ("POST", "activities/CommunicationNotes"): _post_note,
    ("POST", "documents/Documents"): _post_document,
    ("POST", "documents/DocumentAttachments"): _post_attachment,
    ("PUT", "crm/Accounts"): _put_account,
    ("POST", "webhooks/WebhookSubscriptions"): _post_subscription,
    ("DELETE", "webhooks/WebhookSubscriptions"): _delete_subscription,
}
