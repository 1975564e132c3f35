"""Pure translation of Moneybird JSON into ``connector.model`` (docs/providers/moneybird.md#mapping).

Amounts are decimal strings and stay ``Decimal``; ids are strings; ``invoice_date``/``due_date`` are dates in
the administration's zone. Credit invoices (negative totals with ``original_sales_invoice_id``) become
``CreditNote`` records, never invoices. Anything that does not fit raises ``GarbageResponse`` so that a
provider returning nonsense never reaches storage.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from connector.clock import DEFAULT_TIMEZONE
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

# docs/providers/moneybird.md#invoice-states: scheduled/draft invoices were never sent, so they are not dunned
_STATUS = {
    "draft": InvoiceStatus.DRAFT,
    "scheduled": InvoiceStatus.DRAFT,
    "open": InvoiceStatus.OPEN,
    "pending_payment": InvoiceStatus.OPEN,
    "reminded": InvoiceStatus.OPEN,
    "late": InvoiceStatus.OPEN,
    "paid": InvoiceStatus.PAID,
    "uncollectible": InvoiceStatus.UNCOLLECTIBLE,
}
NEVER = "2099-01-01"  # docs/providers/moneybird.md#write-back: next_reminder sentinel of a paused invoice


def _money(value: Any, field: str) -> Decimal:
    if isinstance(value, float) or value is None:
        raise GarbageResponse(f"Moneybird amount {field} is {value!r}", provider="moneybird")
    try:
        # docs/providers/moneybird.md#other-quirks: inputs may even use "10,95"
        return Decimal(str(value).replace(",", "."))
    except InvalidOperation as exc:
        raise GarbageResponse(f"Moneybird amount {field} is not a number: {value!r}", provider="moneybird") from exc


def _date(value: Any) -> date | None:
    return date.fromisoformat(str(value)[:10]) if value else None


def _instant(value: Any) -> datetime | None:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None


def token_set(body: Mapping[str, Any], now: datetime) -> TokenSet:
    if not body.get("access_token"):
        raise GarbageResponse("token response without access_token", provider="moneybird")
    expires_in = body.get("expires_in")  # docs/providers/moneybird.md#tokens: honour it if Moneybird ever sends one
    return TokenSet(
        access_token=str(body["access_token"]),
        refresh_token=str(body["refresh_token"]) if body.get("refresh_token") else None,
        expires_at=now + timedelta(seconds=int(expires_in)) if expires_in else None,
        scope=str(body.get("scope") or "") or None,
    )


def tenant(adm: Mapping[str, Any]) -> Tenant:
    return Tenant(
        provider_tenant_id=str(adm["id"]),
        name=str(adm.get("name") or adm["id"]),
        currency=str(adm.get("currency") or "EUR"),
        country=adm.get("country"),
        timezone=str(adm.get("time_zone") or DEFAULT_TIMEZONE),
        language=adm.get("language"),
        suspended=bool(adm.get("suspended", False)),
    )


def debtor(contact: Mapping[str, Any]) -> Debtor:
    company = (contact.get("company_name") or "").strip()
    person = " ".join(p for p in (contact.get("firstname"), contact.get("lastname")) if p).strip()
    try:
        return Debtor(
            provider_ref=str(contact["id"]),
            name=company or person or str(contact["id"]),
            company_name=company or None,
            email=contact.get("send_invoices_to_email") or contact.get("email") or None,
            phone=contact.get("phone") or None,
            kvk_number=contact.get("chamber_of_commerce") or None,
            vat_number=contact.get("tax_number") or None,
            segment=Segment.B2B if company else Segment.B2C,
            address=Address(
                line1=contact.get("address1") or None,
                line2=contact.get("address2") or None,
                postcode=contact.get("zipcode") or None,
                city=contact.get("city") or None,
                country=contact.get("country") or None,
            ),
            customer_number=str(contact["customer_id"]) if contact.get("customer_id") else None,
            provider_version=str(contact.get("version")) if contact.get("version") is not None else None,
            updated_at=_instant(contact.get("updated_at")),
        )
    except (KeyError, ValidationError, ValueError) as exc:
        raise GarbageResponse(f"unusable Moneybird contact: {exc}", provider="moneybird") from exc


def _is_credit(record: Mapping[str, Any]) -> bool:
    return bool(record.get("original_sales_invoice_id")) or _money(record.get("total_price_incl_tax"), "total") < 0


def invoice(record: Mapping[str, Any]) -> Invoice | None:
    """A sales invoice, or None for credit invoices (see ``credit_note``)."""
    if _is_credit(record):
        return None
    try:
        state = str(record["state"])
        invoice_date = _date(record.get("invoice_date"))
        due = _date(record.get("due_date")) or invoice_date
        if due is None:  # a draft without dates: never dunned, keep it with today's date out of the way
            due = date.max
        return Invoice(
            provider_ref=str(record["id"]),
            number=record.get("invoice_id"),
            debtor_ref=str(record["contact_id"]),
            invoice_date=invoice_date,
            due_date=due,
            payment_term_days=(due - invoice_date).days if invoice_date and due != date.max else None,
            currency=str(record.get("currency") or "EUR"),
            total=_money(record.get("total_price_incl_tax"), "total_price_incl_tax"),
            open_amount=_money(record.get("total_unpaid", "0"), "total_unpaid"),
            status=_STATUS[state],
            provider_state=state,
            provider_version=str(record["version"]),
            payment_url=record.get("payment_url") or None,
            reference=record.get("reference") or None,
            paused_at_provider=bool(record.get("paused", False)),
            provider_reminder_count=int(record.get("reminder_count") or 0),
            updated_at=_instant(record.get("updated_at")),
        )
    except (KeyError, ValidationError, ValueError, TypeError) as exc:
        raise GarbageResponse(f"unusable Moneybird sales invoice: {exc}", provider="moneybird") from exc


def credit_note(record: Mapping[str, Any]) -> CreditNote | None:
    if not _is_credit(record):
        return None
    total = -_money(record.get("total_price_incl_tax"), "total_price_incl_tax")
    unpaid = -_money(record.get("total_unpaid", "0"), "total_unpaid")
    return CreditNote(
        provider_ref=str(record["id"]),
        number=record.get("invoice_id"),
        debtor_ref=str(record["contact_id"]),
        issue_date=_date(record.get("invoice_date")),
        currency=str(record.get("currency") or "EUR"),
        total=total,
        remaining=max(unpaid, Decimal(0)),
        invoice_ref=str(record["original_sales_invoice_id"]) if record.get("original_sales_invoice_id") else None,
        provider_version=str(record.get("version")),
        updated_at=_instant(record.get("updated_at")),
    )


def payments(record: Mapping[str, Any]) -> list[Payment]:
    """Payments embedded in a sales invoice (docs/providers/moneybird.md#mapping); a credit-invoice settlement is kind
    credit_note."""
    found = []
    for p in record.get("payments") or []:
        found.append(
            Payment(
                provider_ref=str(p["id"]),
                invoice_ref=str(record["id"]),
                payment_date=_date(p.get("payment_date")) or date.min,
                amount=_money(p.get("price"), "payment.price"),
                currency=str(record.get("currency") or "EUR"),
                kind="credit_note" if p.get("credit_invoice_id") else "payment",
            )
        )
    return found


def reminder_settings(workflows: list[dict[str, Any]]) -> ProviderReminderSettings:
    """Moneybird chases by itself when an active invoice workflow has auto-sent reminder steps
    (docs/providers/moneybird.md#own-reminders)."""
    auto = [
        str(w.get("name"))
        for w in workflows
        if w.get("active", True)
        and w.get("type", "InvoiceWorkflow") == "InvoiceWorkflow"
        and any(step.get("reminder_auto_send") for step in w.get("steps") or [])
    ]
    if auto:
        return ProviderReminderSettings(active=True, detail="workflows that send reminders: " + ", ".join(auto))
    return ProviderReminderSettings(active=False, detail="no workflow sends reminders automatically")
