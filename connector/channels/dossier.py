"""The hand-over dossier for a collection agency (docs/credit-management.md#hand-over,
docs/credit-management.md#the-debtor-file, docs/law.md#collection-agencies): one debtor's claim with its full history.

When a person approves a hand-over, the services layer gathers the debtor's open invoices, the computed costs and
interest, every contact moment and every letter from storage into the plain dataclasses below and calls
:func:`render_dossier`. The result is a PDF (words from ``templates/<language>/dossier/dossier.txt``) for the
agency and a CSV with one row per invoice, claim item, letter and contact moment for its systems. Both are
deterministic for the same input, so the frozen file can be hashed and stored as evidence.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from connector.channels.context import DebtorInfo, InvoiceLine, Organisation, language_for
from connector.channels.pdf import PdfMeta, render_pdf
from connector.channels.templating import render

CSV_COLUMNS = (
    "record_type",
    "date",
    "reference",
    "description",
    "channel",
    "direction",
    "currency",
    "amount",
    "open_amount",
    "due_date",
    "days_overdue",
    "reason",
    "sha256",
)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Agency:
    name: str
    # docs/law.md#collection-agencies: Justis register number under the Wet kwaliteit incassodienstverlening
    registration: str | None = None


@dataclass(frozen=True)
class ContactMoment:
    """One message, call or reply. ``reference`` identifies it (e-mail Message-ID, letter hash, task id)."""

    at: datetime
    channel: str  # email | letter | phone | provider | note
    direction: str  # out | in
    summary: str
    level_name: str | None = None
    reason: str | None = None  # late-payment reason code (docs/credit-management.md#late-payment-reasons)
    reference: str | None = None


@dataclass(frozen=True)
class LetterRecord:
    """A letter sent, with the evidence docs/law.md#the-14-day-letter asks for: when, how, when received, and the costs
    it stated."""

    title: str
    sent_on: date
    channel: str
    filename: str
    sha256: str
    received_on: date | None = None
    costs_stated: Decimal | None = None


@dataclass(frozen=True)
class Dossier:
    organisation: Organisation
    debtor: DebtorInfo
    debtor_ref: str
    invoices: tuple[InvoiceLine, ...]
    prepared_on: date
    currency: str = "EUR"
    collection_costs: Decimal | None = None
    vat_on_costs: Decimal | None = None
    interest: Decimal | None = None
    interest_until: date | None = None
    cost_basis: str | None = None  # how costs/interest were computed (inputs, rate rows), shown verbatim
    contacts: tuple[ContactMoment, ...] = ()
    letters: tuple[LetterRecord, ...] = ()
    agency: Agency | None = None
    reference: str | None = None
    language: str = "nl"  # the organisation's language (the reader is the agency, not the debtor)

    @property
    def total_open(self) -> Decimal:
        return sum((i.open_amount for i in self.invoices), Decimal(0))

    @property
    def total_claim(self) -> Decimal:
        extras = (self.collection_costs, self.vat_on_costs, self.interest)
        return self.total_open + sum((x for x in extras if x is not None), Decimal(0))

    def days_overdue(self, invoice: InvoiceLine) -> int:
        """Days past the due date on the day the dossier is prepared (not the day the line was built)."""
        return max(0, (self.prepared_on - invoice.due_date).days)


@dataclass(frozen=True)
class RenderedDossier:
    text: str
    pdf: bytes
    pages: int
    csv: str
    pdf_filename: str
    csv_filename: str


def _sorted(dossier: Dossier) -> Dossier:
    """Chronological contacts and letters, invoices by due date: the same input order-independent output."""
    return replace(
        dossier,
        invoices=tuple(sorted(dossier.invoices, key=lambda i: (i.due_date, i.number))),
        contacts=tuple(sorted(dossier.contacts, key=lambda c: (c.at, c.channel, c.summary))),
        letters=tuple(sorted(dossier.letters, key=lambda x: (x.sent_on, x.filename))),
    )


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _rows(d: Dossier) -> Iterable[dict[str, str]]:
    for inv in d.invoices:
        yield {
            "record_type": "invoice",
            "date": inv.invoice_date.isoformat() if inv.invoice_date else "",
            "reference": inv.number,
            "currency": d.currency,
            "amount": _money(inv.total),
            "open_amount": _money(inv.open_amount),
            "due_date": inv.due_date.isoformat(),
            "days_overdue": str(d.days_overdue(inv)),
        }
    claim = (
        ("principal", d.total_open, d.prepared_on),
        ("collection_costs", d.collection_costs, d.prepared_on),
        ("vat_on_costs", d.vat_on_costs, d.prepared_on),
        ("interest", d.interest, d.interest_until or d.prepared_on),
    )
    for code, amount, on in claim:
        if amount is not None:
            yield {
                "record_type": "claim",
                "date": on.isoformat(),
                "description": code,
                "currency": d.currency,
                "amount": _money(amount),
            }
    for letter in d.letters:
        yield {
            "record_type": "letter",
            "date": letter.sent_on.isoformat(),
            "reference": letter.filename,
            "description": letter.title,
            "channel": letter.channel,
            "direction": "out",
            "currency": d.currency,
            "amount": _money(letter.costs_stated),
            "due_date": letter.received_on.isoformat() if letter.received_on else "",
            "sha256": letter.sha256,
        }
    for c in d.contacts:
        yield {
            "record_type": "contact",
            "date": c.at.isoformat(),
            "reference": c.reference or "",
            "description": c.summary,
            "channel": c.channel,
            "direction": c.direction,
            "reason": c.reason or "",
        }


def dossier_csv(dossier: Dossier) -> str:
    """CSV (RFC 4180, ``\\r\\n``) with the columns of ``CSV_COLUMNS``; amounts as plain decimals with two places.

    For letters, ``due_date`` holds the day of receipt and ``amount`` the costs the letter stated.
    """
    d = _sorted(dossier)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, restval="")
    writer.writeheader()
    writer.writerows(_rows(d))
    return buffer.getvalue()


def render_dossier(dossier: Dossier) -> RenderedDossier:
    d = _sorted(dossier)
    language = language_for(d.language)
    text = render(language, "dossier/dossier.txt", d=d)
    title = text.split("\n# ", 1)[1].split("\n", 1)[0] if "\n# " in text else d.debtor.name
    meta = PdfMeta(
        title=title, author=d.organisation.name, subject=title, document_date=d.prepared_on, language=language
    )
    pdf, pages = render_pdf(text, meta)
    stem = _UNSAFE.sub("-", f"dossier-{d.debtor_ref}-{d.prepared_on.isoformat()}").strip("-")
    return RenderedDossier(
        text=text, pdf=pdf, pages=pages, csv=dossier_csv(d), pdf_filename=f"{stem}.pdf", csv_filename=f"{stem}.csv"
    )
