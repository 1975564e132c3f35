"""The Xero sandbox's stored records: one organisation's books (``Org``) and the kinds of credit it can hold.

Used by the state object (``state.py``), which keeps one ``Org`` per tenant and its derived numbers consistent,
by ``seed.py`` that fills it, ``render.py`` that gives it Xero's JSON shape and ``persist.py`` that saves it.
Records are plain dicts keyed by Xero's own field names; money is ``Decimal`` rounded to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

CENT = Decimal("0.01")


@dataclass
class Org:
    """One Xero organisation (tenant) with its books."""

    tenant_id: str
    name: str
    timezone: str  # Xero's enum, e.g. WEUROPESTANDARDTIME
    currency: str
    country: str
    short_code: str
    reminders_enabled: bool = False
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    credit_notes: dict[str, dict[str, Any]] = field(default_factory=dict)
    overpayments: dict[str, dict[str, Any]] = field(default_factory=dict)
    prepayments: dict[str, dict[str, Any]] = field(default_factory=dict)
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    writes: list[dict[str, Any]] = field(default_factory=list)
    invoice_seq: int = 0
    credit_seq: int = 0
    alloc_count: int = 0  # allocations ever made: invalidates the per-invoice index


class SandboxError(Exception):
    """A request the real Xero would reject with a 400 ValidationException."""


CREDIT_KINDS: dict[str, tuple[str, str, str]] = {  # kind -> (Org field, id key, Xero Type)
    "credit_note": ("credit_notes", "CreditNoteID", "ACCRECCREDIT"),
    "overpayment": ("overpayments", "OverpaymentID", "RECEIVE-OVERPAYMENT"),
    "prepayment": ("prepayments", "PrepaymentID", "RECEIVE-PREPAYMENT"),
}
