"""Plain inputs for the reports: open items with their administration, and paid invoices with their paid-on date.

``connector.queries`` reads storage and builds these from ``connector.model.Invoice`` and ``Payment`` records;
the report functions in this package are pure over them (no SQLAlchemy, no clock), so every figure can be
recomputed by hand from the same rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from connector.model import Invoice, InvoiceStatus, Payment

# Payment kinds that show payment behaviour; credit-note allocations and write-offs do not (they are not cash).
CASH_KINDS = frozenset({"payment", "overpayment", "prepayment"})


@dataclass(frozen=True)
class ReceivableItem:
    """One invoice of one administration (``administration`` is a label or reference chosen by the caller)."""

    administration: str
    invoice: Invoice
    debtor_name: str | None = None

    @property
    def is_open(self) -> bool:
        return self.invoice.status is InvoiceStatus.OPEN and self.invoice.open_amount != 0


@dataclass(frozen=True)
class PaidInvoice:
    """A fully paid invoice: how late it was paid is ``paid_on - due_date`` in days (negative = early)."""

    administration: str
    debtor_ref: str
    invoice_ref: str
    due_date: date
    paid_on: date
    amount: Decimal
    currency: str

    @property
    def days_late(self) -> int:
        return (self.paid_on - self.due_date).days


def paid_invoices(administration: str, invoices: Iterable[Invoice], payments: Iterable[Payment]) -> list[PaidInvoice]:
    """Paid invoices with their paid-on date: the date of the last cash payment allocated to the invoice.

    Invoices settled only by credit notes or write-offs have no cash payment and are left out.
    """
    last_cash: dict[str, date] = {}
    for p in payments:
        if p.kind in CASH_KINDS and p.payment_date > last_cash.get(p.invoice_ref, date.min):
            last_cash[p.invoice_ref] = p.payment_date
    return [
        PaidInvoice(
            administration=administration,
            debtor_ref=inv.debtor_ref,
            invoice_ref=inv.provider_ref,
            due_date=inv.due_date,
            paid_on=last_cash[inv.provider_ref],
            amount=inv.total,
            currency=inv.currency,
        )
        for inv in invoices
        if inv.status is InvoiceStatus.PAID and inv.provider_ref in last_cash
    ]
