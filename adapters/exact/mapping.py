"""Pure mapping from Exact Online OData rows to ``connector.model`` records (no I/O).

Sits between ``client.py`` (raw rows, amounts already ``Decimal`` via ``parse_float``) and the core. An invoice
is one sales entry (``EntryID``): docs/providers/exact.md#invoices says ``salesinvoice/SalesInvoices`` has no open
amount, so the open amount is the sum of the entry's still-open receivable payment terms (``LineType`` 20) and every
matched (closed) term is a payment we can name exactly by its own ``ID``. ``/Date(ms)/`` values are wall-clock
CET/CEST (docs/providers/exact.md#dates) and go through ``connector.parsing`` with that zone stated explicitly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from connector.clock import DEFAULT_TIMEZONE
from connector.errors import GarbageResponse
from connector.model import Address, CreditNote, Debtor, Invoice, InvoiceStatus, Payment, Segment, Tenant
from connector.parsing import ms_date_to_date, ms_date_to_utc

EXACT_ZONE = ZoneInfo("Europe/Amsterdam")  # docs/providers/exact.md#dates: epochs are CET/CEST wall-clock time, not UTC
RECEIVABLE = 20  # docs/providers/exact.md#invoices: LineType 20 = receivable, 22 = payable
OPEN_STATUSES = frozenset({20, 30})  # 20 open, 30 selected for collection; 40 processed, 50 matched

TERM_FIELDS = (
    "ID",
    "EntryID",
    "TransactionEntryID",
    "Account",
    "AmountDC",
    "AmountFC",
    "TransactionAmountDC",
    "TransactionAmountFC",
    "Currency",
    "DueDate",
    "InvoiceDate",
    "InvoiceNumber",
    "EntryNumber",
    "Status",
    "IsFullyPaid",
    "LastPaymentDate",
    "EndDate",
    "LineType",
    "YourRef",
    "PaymentReference",
    "Modified",
    "Timestamp",
)
# cashflow/Receivables and its bulk variant have no row version and no LineType (receivables only,
# docs/providers/exact.md#invoices)
RECEIVABLE_FIELDS = tuple(f for f in TERM_FIELDS if f not in ("LineType", "Timestamp"))
ACCOUNT_FIELDS = (
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
    "Status",
    "Blocked",
    "Modified",
    "Timestamp",
)
ACCOUNT_CRUD_FIELDS = tuple(f for f in ACCOUNT_FIELDS if f != "Timestamp")  # only sync/CRM/Accounts has it
DIVISION_FIELDS = ("Code", "Description", "Country", "Currency", "Status", "BlockingStatus")
_TIMEZONES = {
    "GB": "Europe/London",
    "US": "America/New_York",
    "BE": "Europe/Brussels",
    "DE": "Europe/Berlin",
    "ES": "Europe/Madrid",
    "FR": "Europe/Paris",
}


def _text(value: Any) -> str | None:
    """Exact pads some strings (Code to 18 chars, Country 'NL '): trim, and empty means absent
    (docs/providers/exact.md#other-quirks)."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _amount(value: Any) -> Decimal:
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, str):
        return Decimal(value)
    raise GarbageResponse(f"Exact amount is not a number: {type(value).__name__}")


def _day(value: Any) -> date | None:
    return ms_date_to_date(value, zone=EXACT_ZONE) if value else None


def _instant(value: Any) -> datetime | None:
    return ms_date_to_utc(value, zone=EXACT_ZONE) if value else None


def map_division(row: Mapping[str, Any]) -> Tenant:
    country = _text(row.get("Country"))
    return Tenant(
        provider_tenant_id=str(row["Code"]),
        name=_text(row.get("Description")) or str(row["Code"]),
        currency=_text(row.get("Currency")) or "EUR",
        country=country,
        timezone=_TIMEZONES.get(country or "", DEFAULT_TIMEZONE),
        suspended=row.get("Status", 1) != 1 or bool(row.get("BlockingStatus")),
    )


def is_customer(row: Mapping[str, Any]) -> bool:
    return bool(row.get("IsSales")) or _text(row.get("Status")) == "C"


def map_account(row: Mapping[str, Any]) -> Debtor:
    """A crm/Accounts row. B2B when a VAT or Chamber of Commerce number is present, else B2C (the stricter regime)."""
    vat, kvk = _text(row.get("VATNumber")), _text(row.get("ChamberOfCommerce"))
    name = _text(row.get("Name")) or "?"
    business = bool(vat or kvk)
    return Debtor(
        provider_ref=str(row["ID"]).lower(),
        name=name,
        company_name=name if business else None,
        email=_text(row.get("Email")),
        phone=_text(row.get("Phone")),
        kvk_number=kvk,
        vat_number=vat,
        segment=Segment.B2B if business else Segment.B2C,
        address=Address(
            line1=_text(row.get("AddressLine1")),
            line2=_text(row.get("AddressLine2")),
            postcode=_text(row.get("Postcode")),
            city=_text(row.get("City")),
            country=_text(row.get("Country")),
        ),
        language=_text(row.get("Language")),
        customer_number=_text(row.get("Code")),
        blocked=bool(row.get("Blocked")),
        provider_version=str(row["Timestamp"]) if row.get("Timestamp") is not None else None,
        updated_at=_instant(row.get("Modified")),
    )


def entry_id(term: Mapping[str, Any]) -> str:
    """The sales entry a payment term belongs to: our invoice reference."""
    ref = term.get("EntryID") or term.get("TransactionEntryID")
    if not ref:
        raise GarbageResponse("Exact payment term without EntryID")
    return str(ref).lower()


def group_terms(terms: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """Receivable terms by sales entry; payable lines (LineType 22) are dropped (docs/providers/exact.md#invoices)."""
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for term in terms:
        if term.get("LineType", RECEIVABLE) == RECEIVABLE:
            groups[entry_id(term)].append(term)
    return dict(groups)


def is_open(term: Mapping[str, Any]) -> bool:
    return term.get("Status") in OPEN_STATUSES and not term.get("IsFullyPaid")


def is_complete(terms: Sequence[Mapping[str, Any]]) -> bool:
    """All terms of an entry are here when their amounts add up to the entry's amount (splits sum to the whole)."""
    total = _amount(terms[0].get("TransactionAmountDC", 0))
    return sum((_amount(t.get("AmountDC", 0)) for t in terms), Decimal(0)) == total


def _fc(term: Mapping[str, Any], field: str) -> Decimal:
    value = term.get(f"{field}FC")
    return _amount(value if value is not None else term.get(f"{field}DC", 0))


def terms_version(terms: Sequence[Mapping[str, Any]]) -> str:
    """The highest row version (sync rows); rows without one (cashflow/Receivables) give ``m<ms>`` of Modified."""
    stamps = [int(t["Timestamp"]) for t in terms if t.get("Timestamp") is not None]
    if stamps:
        return str(max(stamps))
    modified = [m for m in (_instant(t.get("Modified")) for t in terms) if m is not None]
    return f"m{int(max(modified).timestamp() * 1000)}" if modified else "m0"


def map_entry(terms: Sequence[Mapping[str, Any]], version: str | None = None) -> Invoice | CreditNote:
    """One sales entry from all its receivable terms; a negative entry is a credit note."""
    first = terms[0]  # invoice-level fields (amount, number, account, dates) are the same on every term
    ref = entry_id(first)
    total = _fc(first, "TransactionAmount")
    open_terms = [t for t in terms if is_open(t)]
    open_amount = sum((_fc(t, "Amount") for t in open_terms), Decimal(0))
    currency = _text(first.get("Currency")) or "EUR"
    number = first.get("InvoiceNumber") or first.get("EntryNumber")
    account = str(first.get("Account") or "").lower()
    version = version or terms_version(terms)
    if total < 0:
        return CreditNote(
            provider_ref=ref,
            number=str(number) if number else None,
            debtor_ref=account,
            issue_date=_day(first.get("InvoiceDate")),
            currency=currency,
            total=-total,
            remaining=-open_amount,
            provider_version=version,
        )
    due_source = min(open_terms, key=lambda t: str(t.get("DueDate"))) if open_terms else first
    due = _day(due_source.get("DueDate")) or _day(first.get("InvoiceDate"))
    if due is None:
        raise GarbageResponse(f"Exact entry {ref} has no due date")
    modified = [m for m in (_instant(t.get("Modified")) for t in terms) if m is not None]
    return Invoice(
        provider_ref=ref,
        number=str(number) if number else None,
        debtor_ref=account,
        invoice_date=_day(first.get("InvoiceDate")),
        due_date=due,
        currency=currency,
        total=total,
        open_amount=open_amount,
        status=InvoiceStatus.OPEN if open_amount > 0 else InvoiceStatus.PAID,
        provider_state=f"terms:{len(open_terms)} open of {len(terms)}",
        provider_version=version,
        reference=_text(first.get("YourRef")) or _text(first.get("PaymentReference")),
        updated_at=max(modified) if modified else None,
    )


def map_payments(terms: Sequence[Mapping[str, Any]]) -> list[Payment]:
    """Matched (closed) positive terms are the payments: each one's own ID names it exactly."""
    payments = []
    for term in terms:
        amount = _fc(term, "Amount")
        if is_open(term) or amount <= 0:
            continue
        paid_on = _day(term.get("LastPaymentDate")) or _day(term.get("EndDate")) or _day(term.get("Modified"))
        if paid_on is None:
            continue
        payments.append(
            Payment(
                provider_ref=str(term["ID"]).lower(),
                invoice_ref=entry_id(term),
                payment_date=paid_on,
                amount=amount,
                currency=_text(term.get("Currency")) or "EUR",
                provider_version=str(term.get("Timestamp") or ""),
            )
        )
    return payments
