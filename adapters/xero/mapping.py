"""Pure translation of Xero JSON into ``connector.model`` (no I/O): invoices, payments, credit notes, contacts.

Sits between ``client.py`` (raw dicts, floats already parsed as ``Decimal``) and the core. Rules worth knowing:
the open amount is Xero's own ``AmountDue`` (payments, credit notes, overpayments and prepayments all already
applied, docs/providers/xero.md#payments-and-credit-notes); ``Date``/``DueDate`` are calendar dates of the organisation,
read from ``DueDateString`` or else from ``/Date(ms±hhmm)/`` with its offset, never shifted into another zone
(docs/providers/xero.md#dates); a contact is a consumer (B2C) when it is in the contact group named ``CONSUMER_GROUP``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import structlog

from connector.errors import GarbageResponse
from connector.model import (
    Address,
    CreditNote,
    Debtor,
    Invoice,
    InvoiceStatus,
    Payment,
    ProviderReminderSettings,
    Segment,
    Tenant,
    TokenSet,
)
from connector.parsing import ms_date_to_date, ms_date_to_utc

log = structlog.get_logger(__name__)

CONSUMER_GROUP = "Consumers"  # B2C detection: membership of this contact group (documented choice)
_STATUS = {
    "DRAFT": InvoiceStatus.DRAFT,
    "SUBMITTED": InvoiceStatus.DRAFT,
    "AUTHORISED": InvoiceStatus.OPEN,
    "PAID": InvoiceStatus.PAID,
    "VOIDED": InvoiceStatus.VOIDED,
    "DELETED": InvoiceStatus.VOIDED,
}
_NESTED_CREDITS = (
    ("CreditNotes", "CreditNoteID", "credit_note"),
    ("Overpayments", "OverpaymentID", "overpayment"),
    ("Prepayments", "PrepaymentID", "prepayment"),
)


def money(value: Any) -> Decimal:
    """A JSON number (``Decimal`` via ``parse_float``, or an int) as ``Decimal``; never through float."""
    if isinstance(value, bool) or value is None or isinstance(value, float):
        raise GarbageResponse(f"not an exact amount: {value!r}")
    return Decimal(str(value)) if not isinstance(value, Decimal) else value


def instant(value: str | None) -> datetime | None:
    """``UpdatedDateUTC`` and friends: a UTC instant (docs/providers/xero.md#dates: bare numbers are UTC)."""
    return ms_date_to_utc(value, zone=UTC) if value else None


def calendar_date(record: Mapping[str, Any], field: str) -> date | None:
    """An org-local calendar date: ``<field>String`` first, else ``/Date(ms±hhmm)/`` with its own offset."""
    text = record.get(f"{field}String")
    if isinstance(text, str) and len(text) >= 10:
        return date.fromisoformat(text[:10])
    raw = record.get(field)
    return ms_date_to_date(raw, zone=UTC) if isinstance(raw, str) and raw else None


def version(record: Mapping[str, Any], *fields: str) -> str:
    """A change marker: UpdatedDateUTC plus fields Xero may change without bumping it
    (docs/providers/xero.md#incremental-sync)."""
    return "|".join(str(record.get(f, "")) for f in ("UpdatedDateUTC", *fields))


def invoice(record: Mapping[str, Any]) -> Invoice | None:
    """A sales invoice (ACCREC) in the common model; None for bills and other types."""
    if record.get("Type") != "ACCREC":
        return None
    state = str(record.get("Status", ""))
    due = calendar_date(record, "DueDate")
    issued = calendar_date(record, "Date")
    if due is None:
        raise GarbageResponse(f"invoice {record.get('InvoiceID')} has no DueDate")
    total, amount_due = money(record.get("Total", 0)), money(record.get("AmountDue", 0))
    status = _STATUS.get(state, InvoiceStatus.OPEN)
    if status is InvoiceStatus.PAID and _settled_by_credit(record, total):
        status = InvoiceStatus.CREDITED
    return Invoice(
        provider_ref=str(record["InvoiceID"]),
        number=record.get("InvoiceNumber") or None,
        debtor_ref=str((record.get("Contact") or {}).get("ContactID", "")),
        invoice_date=issued,
        due_date=due,
        payment_term_days=(due - issued).days if issued else None,
        currency=str(record.get("CurrencyCode", "EUR")),
        total=total,
        open_amount=amount_due if status in (InvoiceStatus.OPEN, InvoiceStatus.DRAFT) else Decimal(0),
        status=status,
        provider_state=state,
        reference=record.get("Reference") or None,
        provider_version=version(record, "AmountDue", "DueDateString", "Status", "SentToContact"),
        updated_at=instant(record.get("UpdatedDateUTC")),
    )


def _settled_by_credit(record: Mapping[str, Any], total: Decimal) -> bool:
    paid = money(record.get("AmountPaid", 0))
    credited = money(record.get("AmountCredited", 0))
    return paid == 0 and credited == total and bool(record.get("CreditNotes"))


def embedded_payments(record: Mapping[str, Any]) -> list[Payment]:
    """Payments and credit/overpayment/prepayment allocations nested in a paged or single invoice."""
    invoice_id, currency = str(record["InvoiceID"]), str(record.get("CurrencyCode", "EUR"))
    found = [
        Payment(
            provider_ref=str(p["PaymentID"]),
            invoice_ref=invoice_id,
            payment_date=_required_date(p, "Date"),
            amount=money(p.get("Amount", 0)),
            currency=currency,
            kind="payment",
        )
        for p in record.get("Payments") or []
    ]
    for key, id_field, kind in _NESTED_CREDITS:
        for credit in record.get(key) or []:
            source = credit.get(id_field) or credit.get("ID")
            found.append(
                Payment(
                    provider_ref=f"{kind}:{source}:{invoice_id}",
                    invoice_ref=invoice_id,
                    payment_date=_required_date(credit, "Date"),
                    currency=currency,
                    kind=kind,
                    amount=money(credit.get("AppliedAmount", 0)),
                )
            )
    return found


def _required_date(record: Mapping[str, Any], field: str) -> date:
    found = calendar_date(record, field)
    if found is None:
        raise GarbageResponse(f"missing {field} in {sorted(record)[:6]}")
    return found


def payment(record: Mapping[str, Any]) -> Payment | None:
    """A row of ``GET /Payments``; only receipts against sales invoices (ACCRECPAYMENT) matter for dunning."""
    if record.get("PaymentType") != "ACCRECPAYMENT":
        return None
    inv = record.get("Invoice") or {}
    return Payment(
        provider_ref=str(record["PaymentID"]),
        invoice_ref=str(inv.get("InvoiceID", "")),
        payment_date=_required_date(record, "Date"),
        amount=money(record.get("Amount", 0)),
        currency=str(inv.get("CurrencyCode") or "EUR"),
        kind="payment",
        provider_version=version(record, "Status", "Amount"),
    )


def credit_note(record: Mapping[str, Any]) -> CreditNote | None:
    if record.get("Type") != "ACCRECCREDIT" or record.get("Status") in ("DELETED", "VOIDED", "DRAFT", "SUBMITTED"):
        return None
    allocations = [a for a in record.get("Allocations") or [] if not a.get("IsDeleted")]
    first_invoice = (allocations[0].get("Invoice") or {}).get("InvoiceID") if allocations else None
    return CreditNote(
        provider_ref=str(record["CreditNoteID"]),
        number=record.get("CreditNoteNumber") or None,
        debtor_ref=str((record.get("Contact") or {}).get("ContactID", "")),
        issue_date=calendar_date(record, "Date"),
        currency=str(record.get("CurrencyCode", "EUR")),
        total=money(record.get("Total", 0)),
        remaining=money(record.get("RemainingCredit", 0)),
        invoice_ref=first_invoice,
        provider_version=version(record, "RemainingCredit", "Status"),
        updated_at=instant(record.get("UpdatedDateUTC")),
    )


def credit_allocations(record: Mapping[str, Any]) -> list[Payment]:
    """A credit note's live allocations as payments of kind ``credit_note`` (same refs as ``embedded_payments``)."""
    currency = str(record.get("CurrencyCode", "EUR"))
    return [
        Payment(
            provider_ref=f"credit_note:{record['CreditNoteID']}:{a['Invoice']['InvoiceID']}",
            invoice_ref=str(a["Invoice"]["InvoiceID"]),
            payment_date=_required_date(a, "Date"),
            amount=money(a.get("Amount", 0)),
            currency=currency,
            kind="credit_note",
        )
        for a in record.get("Allocations") or []
        if not a.get("IsDeleted") and a.get("Invoice")
    ]


def debtor(record: Mapping[str, Any], credit_stop_group: str) -> Debtor:
    groups = {str(g.get("Name", "")).lower() for g in record.get("ContactGroups") or [] if g.get("Status") != "DELETED"}
    consumer = CONSUMER_GROUP.lower() in groups
    address = _address(record.get("Addresses") or [])
    phone = next((p for p in record.get("Phones") or [] if p.get("PhoneNumber")), None)
    return Debtor(
        provider_ref=str(record["ContactID"]),
        name=str(record.get("Name") or ""),
        company_name=None if consumer else (record.get("Name") or None),
        email=record.get("EmailAddress") or None,
        phone=" ".join(str(phone.get(k) or "") for k in ("PhoneCountryCode", "PhoneAreaCode", "PhoneNumber")).strip()
        if phone
        else None,
        kvk_number=record.get("CompanyNumber") or None,
        vat_number=record.get("TaxNumber") or None,
        segment=Segment.B2C if consumer else Segment.B2B,
        address=address,
        customer_number=record.get("ContactNumber") or record.get("AccountNumber") or None,
        blocked=credit_stop_group.lower() in groups,
        provider_version=version(record, "ContactStatus") + "|" + ",".join(sorted(groups)),
        updated_at=instant(record.get("UpdatedDateUTC")),
    )


def _address(addresses: Iterable[Mapping[str, Any]]) -> Address:
    by_type = {a.get("AddressType"): a for a in addresses if a.get("AddressLine1") or a.get("City")}
    chosen = by_type.get("POBOX") or by_type.get("STREET")  # POBOX is Xero's postal (invoice) address
    if chosen is None:
        return Address()
    return Address(
        line1=chosen.get("AddressLine1") or None,
        line2=chosen.get("AddressLine2") or None,
        postcode=chosen.get("PostalCode") or None,
        city=chosen.get("City") or None,
        country=chosen.get("Country") or None,
    )


def tenant(connection: Mapping[str, Any], organisation: Mapping[str, Any] | None) -> Tenant:
    org = organisation or {}
    return Tenant(
        provider_tenant_id=str(connection["tenantId"]),
        name=str(org.get("Name") or connection.get("tenantName") or ""),
        currency=str(org.get("BaseCurrency") or "EUR"),
        country=org.get("CountryCode"),
        timezone=iana_zone(org.get("Timezone")),
        suspended=str(org.get("OrganisationStatus", "ACTIVE")) not in ("ACTIVE", ""),
    )


def reminder_settings(body: Mapping[str, Any]) -> ProviderReminderSettings:
    enabled = any(bool(r.get("Enabled")) for r in body.get("InvoiceReminders") or [])
    detail = (
        "Xero's own invoice reminders are switched on for this organisation"
        if enabled
        else "Xero's own invoice reminders are off"
    )
    return ProviderReminderSettings(active=enabled, detail=detail)


def token_set(body: Mapping[str, Any], now: datetime) -> TokenSet:
    """Xero's token response (``expires_in`` 1800); keeps the JWT's ``authentication_event_id`` for /connections."""
    access = body.get("access_token")
    if not isinstance(access, str) or not access:
        raise GarbageResponse("token response without access_token")
    expires_in = int(body.get("expires_in") or 1800)
    extra = {"authentication_event_id": event} if (event := _jwt_claim(access, "authentication_event_id")) else {}
    return TokenSet(
        access_token=access,
        refresh_token=body.get("refresh_token") or None,
        expires_at=now + timedelta(seconds=expires_in),
        scope=body.get("scope"),
        extra=extra,
    )


def _jwt_claim(token: str, claim: str) -> str | None:
    """Read one claim from a JWT payload without verifying it (only used to filter /connections)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return None
    value = payload.get(claim) if isinstance(payload, dict) else None
    return str(value) if value else None


# --- organisation time zones -------------------------------------------------------------------------------------
# Xero names an organisation's zone by its Windows id in capitals; the core judges "overdue" in the organisation's
# own zone (docs/providers/xero.md#tenants). The table covers Xero's main markets; an unknown name falls back to UTC and
# is logged.
XERO_TIMEZONES: dict[str, str] = {
    "WEUROPESTANDARDTIME": "Europe/Amsterdam",
    "ROMANCESTANDARDTIME": "Europe/Paris",
    "CENTRALEUROPESTANDARDTIME": "Europe/Budapest",
    "CENTRALEUROPEANSTANDARDTIME": "Europe/Warsaw",
    "GMTSTANDARDTIME": "Europe/London",
    "GREENWICHSTANDARDTIME": "Atlantic/Reykjavik",
    "FLESTANDARDTIME": "Europe/Helsinki",
    "GTBSTANDARDTIME": "Europe/Bucharest",
    "EEUROPESTANDARDTIME": "Europe/Chisinau",
    "TURKEYSTANDARDTIME": "Europe/Istanbul",
    "RUSSIANSTANDARDTIME": "Europe/Moscow",
    "SOUTHAFRICASTANDARDTIME": "Africa/Johannesburg",
    "ARABIANSTANDARDTIME": "Asia/Dubai",
    "INDIASTANDARDTIME": "Asia/Kolkata",
    "SINGAPORESTANDARDTIME": "Asia/Singapore",
    "CHINASTANDARDTIME": "Asia/Shanghai",
    "TOKYOSTANDARDTIME": "Asia/Tokyo",
    "NEWZEALANDSTANDARDTIME": "Pacific/Auckland",
    "CHATHAMISLANDSSTANDARDTIME": "Pacific/Chatham",
    "AUSEASTERNSTANDARDTIME": "Australia/Sydney",
    "EAUSTRALIASTANDARDTIME": "Australia/Brisbane",
    "CENAUSTRALIASTANDARDTIME": "Australia/Adelaide",
    "AUSCENTRALSTANDARDTIME": "Australia/Darwin",
    "WAUSTRALIASTANDARDTIME": "Australia/Perth",
    "TASMANIASTANDARDTIME": "Australia/Hobart",
    "FIJISTANDARDTIME": "Pacific/Fiji",
    "HAWAIIANSTANDARDTIME": "Pacific/Honolulu",
    "ALASKANSTANDARDTIME": "America/Anchorage",
    "PACIFICSTANDARDTIME": "America/Los_Angeles",
    "MOUNTAINSTANDARDTIME": "America/Denver",
    "USMOUNTAINSTANDARDTIME": "America/Phoenix",
    "CENTRALSTANDARDTIME": "America/Chicago",
    "EASTERNSTANDARDTIME": "America/New_York",
    "USEASTERNSTANDARDTIME": "America/Indiana/Indianapolis",
    "ATLANTICSTANDARDTIME": "America/Halifax",
    "NEWFOUNDLANDSTANDARDTIME": "America/St_Johns",
    "CANADACENTRALSTANDARDTIME": "America/Regina",
    "UTC": "UTC",
}


def iana_zone(xero_name: str | None) -> str:
    if not xero_name:
        return "UTC"
    zone = XERO_TIMEZONES.get(xero_name.upper())
    if zone is None:
        log.warning("xero.unknown_timezone", timezone=xero_name)
        return "UTC"
    return zone
