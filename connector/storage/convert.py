"""Rows back into the common model: every conversion from a stored row to a ``connector.model`` object is here.

Storage keeps money as integer minor units next to the currency; these turn a row back into the model the rest of
the connector speaks (``Money`` amounts as ``Decimal``), so a stored invoice reads back exactly as it was synced.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect

from connector import model
from connector.model.bank import BankDetails
from connector.model.outbox import OutboxAction, OutboxChannel, OutboxItem, OutboxPayload, OutboxStatus
from connector.storage import tables as t


def invoice_row_to_model(row: t.Invoice) -> model.Invoice:
    return model.Invoice(
        provider_ref=row.provider_ref,
        number=row.number,
        debtor_ref=row.debtor_ref,
        invoice_date=row.invoice_date,
        due_date=row.due_date,
        payment_term_days=row.payment_term_days,
        currency=row.currency,
        total=model.Money.from_minor(row.total_minor, row.currency).amount,
        open_amount=model.Money.from_minor(row.open_minor, row.currency).amount,
        status=model.InvoiceStatus(row.status),
        provider_state=row.provider_state,
        provider_version=row.provider_version,
        payment_url=row.payment_url,
        reference=row.reference,
        paused_at_provider=row.paused_at_provider,
        provider_reminder_count=row.provider_reminder_count,
        disputed=row.disputed,
        updated_at=row.updated_at,
    )


def payment_row_to_model(row: t.Payment) -> model.Payment:
    return model.Payment(
        provider_ref=row.provider_ref,
        invoice_ref=row.invoice_ref,
        payment_date=row.payment_date,
        amount=model.Money.from_minor(row.amount_minor, row.currency).amount,
        currency=row.currency,
        kind=row.kind,
    )


def debtor_row_to_model(row: t.Debtor | None, ref: str) -> model.Debtor:
    """The debtor as synced, with a segment set by hand winning (docs/credit-management.md#classification); a bare
    debtor named ``ref`` when unknown."""
    if row is None:
        return model.Debtor(provider_ref=ref, name=ref)
    return model.Debtor(
        provider_ref=row.provider_ref,
        name=row.name,
        company_name=row.company_name,
        email=row.email,
        phone=row.phone,
        kvk_number=row.kvk_number,
        vat_number=row.vat_number,
        segment=model.Segment(row.segment_override or row.segment),
        address=model.Address(**(row.address or {})),
        language=row.language,
        customer_number=row.customer_number,
    )


def outbox_row_to_model(row: t.OutboxItem) -> OutboxItem:
    """The typed item; its payload is validated here, so a malformed row fails loudly instead of half-working."""
    return OutboxItem(
        id=row.id,
        org_id=row.org_id,
        administration_id=row.administration_id,
        idempotency_key=row.idempotency_key,
        action=OutboxAction(row.action),
        debtor_ref=row.debtor_ref,
        invoice_refs=tuple(str(ref) for ref in row.invoice_refs or ()),
        level=row.level,
        level_name=row.level_name,
        channel=OutboxChannel(row.channel),
        payload=OutboxPayload.model_validate(row.payload or {}),
        run_date=row.run_date,
        status=OutboxStatus(row.status),
        attempts=row.attempts or 0,
        last_error=row.last_error,
        provider_refs=tuple(str(ref) for ref in row.provider_refs or ()),
        created_at=row.created_at,
        done_at=row.done_at,
        next_attempt_at=row.next_attempt_at,
    )


def row_values(row: t.Base) -> dict[str, Any]:
    """Every column of a row as JSON-ready values (dates as ISO text, bytes left out): what a debtor export shows."""
    values: dict[str, Any] = {}
    for column in inspect(row).mapper.column_attrs:
        value = getattr(row, column.key)
        if not isinstance(value, bytes):
            values[column.key] = _plain(value)
    return values


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def bank_details(adm: t.Administration) -> BankDetails | None:
    """The one place letters, e-mails and the debtor's page read the creditor's account from (docs/portal.md#paying):
    the owner's setting for this administration, or None when none is set."""
    if not adm.bank_iban:
        return None
    return BankDetails(holder=adm.bank_holder or adm.name, iban=adm.bank_iban, bic=adm.bank_bic or None)
