"""The debtor's page behind every reminder: open a personal link (or a letter's short code) and read what it shows.

Called by the public blueprint ``dashboard.portal`` for ``/p`` and ``/p/<token>``; sits beside
``connector.worklist`` (the creditor's side of the same facts) and reads through storage only. A token is checked
by ``connector.auth.portal`` (signature in constant time, then its row: expired, revoked and unknown links all
come back as one ``NOT_FOUND``, so the page gives no hint which). Before any lookup the request is throttled per
client address (failed tries) and per token (every try), both counted in the database so every worker sees them.
An opened link shows the creditor's name, the debtor's open invoices in that administration only, the costs and
interest the latest message stated, the 14-day letter's dates when one went out, and how to pay: the package's
payment link where the invoice has one, else the creditor's account (``repos.bank_details``, the one the
letters name) with the payment reference. Every view is recorded on the link
(docs/portal.md#the-page).
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from connector import clock
from connector.auth import portal as links
from connector.channels.context import language_for
from connector.model import Capability, InvoiceStatus, Money
from connector.model.bank import BankDetails
from connector.registry import adapter_class
from connector.runtime import Runtime
from connector.storage import repos, tables
from connector.storage.db import Session, transaction

WINDOW = timedelta(minutes=15)  # the throttle's window
MAX_FAILURES_PER_ADDRESS = 20  # wrong, expired or revoked links and codes from one address in a window
MAX_TRIES_PER_TOKEN = 60  # opens and answers through one token in a window (a debtor needs a handful)
FOURTEEN_DAY_LETTER = "fourteen_day_letter"


class Opened(enum.StrEnum):
    OK = "ok"
    NOT_FOUND = "not_found"  # tampered, unknown, expired, revoked or another organisation's: one answer for all
    TOO_MANY = "too_many"


@dataclass(frozen=True)
class PortalInvoice:
    ref: str
    number: str
    invoice_date: date | None
    due_date: date
    currency: str
    open_amount: Decimal
    days_overdue: int
    payment_url: str | None
    payment_reference: str
    letter_sent_on: date | None = None  # the 14-day letter about this invoice, when one went out
    letter_term_ends: date | None = None


@dataclass(frozen=True)
class Charges:
    """The collection costs and interest the latest message stated, and the invoices they were stated on."""

    on: date
    currency: str
    costs: Decimal | None
    interest: Decimal | None
    invoices: tuple[str, ...]


@dataclass(frozen=True)
class PortalPage:
    link_id: int
    org_id: int
    administration_id: int
    debtor_ref: str
    creditor: str
    debtor: str
    language: str  # the debtor's: nl or en
    today: date
    invoices: tuple[PortalInvoice, ...]
    charges: Charges | None
    bank: BankDetails | None = None  # the account to transfer to where an invoice has no payment link
    pdf: bool = False  # each invoice links to the package's PDF (docs/portal.md#the-invoice-pdf)

    @property
    def total(self) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for inv in self.invoices:
            out[inv.currency] = out.get(inv.currency, Decimal(0)) + inv.open_amount
        return out


@dataclass(frozen=True)
class Result:
    state: Opened
    page: PortalPage | None = None


def _token_key(token: str) -> str:
    return "portal:token:" + hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def _address_key(address: str) -> str:
    return "portal:ip:" + address[:250]


def _throttled(s: Session, token_key: str | None, address: str, since: datetime) -> bool:
    if repos.login_failures(s, [_address_key(address)], since) >= MAX_FAILURES_PER_ADDRESS:
        return True
    return token_key is not None and repos.login_failures(s, [token_key], since) >= MAX_TRIES_PER_TOKEN


def check(s: Session, rt: Runtime, token: str, address: str) -> tuple[Opened, tables.PortalLink | None]:
    """Throttle, then check ``token``: every call counts against the token, a failure against the address too."""
    key = _token_key(token[:400])
    since = rt.clock() - WINDOW
    if _throttled(s, key, address, since):
        return Opened.TOO_MANY, None
    repos.record_login_failure(s, [key], since)  # every try counts against the token
    checked = links.check_token(s, rt.settings.fernet_keys(), token[:400], rt.clock())
    if checked.state is not links.LinkState.OK or checked.link is None:
        repos.record_login_failure(s, [_address_key(address)], since)
        return Opened.NOT_FOUND, None
    return Opened.OK, checked.link


def open_token(rt: Runtime, token: str, address: str) -> Result:
    """What ``/p/<token>`` shows to ``address``; the view is recorded on the link."""
    with transaction(rt.sessions) as s:
        state, link = check(s, rt, token, address)
        if link is None:
            return Result(state)
        repos.mark_portal_link_used(s, link.org_id, link.id)
        return Result(Opened.OK, read_page(s, rt, link))


def open_code(rt: Runtime, code: str, address: str) -> tuple[Opened, str | None]:
    """A letter's short code typed on ``/p``: a fresh token for the same debtor (ending when the code's link
    ends), or why not. Only the token's hash is stored, so the page cannot send the debtor to the original."""
    since = rt.clock() - WINDOW
    with transaction(rt.sessions) as s:
        if _throttled(s, None, address, since):
            return Opened.TOO_MANY, None
        checked = links.check_code(s, rt.settings.fernet_keys(), code[:40], rt.clock())
        if checked.state is not links.LinkState.OK or checked.link is None:
            repos.record_login_failure(s, [_address_key(address)], since)
            return Opened.NOT_FOUND, None
        found = checked.link
        token, lookup = links.sign_token(rt.settings.fernet_keys(), found.org_id)
        repos.create_portal_link(
            s,
            found.org_id,
            found.administration_id,
            debtor_ref=found.debtor_ref,
            lookup=lookup,
            code_hash=None,
            expires_at=found.expires_at,
            outbox_key=f"code:{found.id}",
        )
        return Opened.OK, token


def read_page(s: Session, rt: Runtime, link: tables.PortalLink) -> PortalPage:
    """The facts the page shows for one link: this debtor at this creditor only, minimum personal data."""
    adm = repos.get_administration(s, link.org_id, link.administration_id)
    today = clock.today(adm.timezone, clock=rt.clock)
    debtor = repos.get_debtors(s, link.org_id, adm.id, [link.debtor_ref]).get(link.debtor_ref)
    rows = [
        row
        for row in repos.debtor_invoices(s, link.org_id, adm.id, link.debtor_ref)
        if row.status == InvoiceStatus.OPEN.value and row.open_minor > 0
    ]
    letters = _letters(s, link, adm.id)
    invoices = tuple(_invoice(row, today, letters.get(row.provider_ref)) for row in rows)
    numbers = {row.provider_ref: row.number or row.provider_ref for row in rows}
    return PortalPage(
        link_id=link.id,
        org_id=link.org_id,
        administration_id=adm.id,
        debtor_ref=link.debtor_ref,
        creditor=adm.name,
        debtor=(debtor.company_name or debtor.name) if debtor else "",
        language=language_for(debtor.language if debtor else None),
        today=today,
        invoices=invoices,
        charges=_charges(s, link, adm.id, numbers),
        bank=repos.bank_details(adm),
        pdf=Capability.INVOICE_PDF in adapter_class(adm.provider).capabilities,
    )


def _letters(s: Session, link: tables.PortalLink, adm_id: int) -> dict[str, tables.LetterEvidence]:
    found: dict[str, tables.LetterEvidence] = {}
    for letter in repos.letter_evidence(s, link.org_id, adm_id, debtor_ref=link.debtor_ref, kind=FOURTEEN_DAY_LETTER):
        if letter.sent_on is None and letter.dates_assume_sent_on is None:
            continue
        for ref in letter.invoice_refs:
            found[str(ref)] = letter  # the newest letter about each invoice
    return found


def _invoice(row: tables.Invoice, today: date, letter: tables.LetterEvidence | None) -> PortalInvoice:
    return PortalInvoice(
        ref=row.provider_ref,
        number=row.number or row.provider_ref,
        invoice_date=row.invoice_date,
        due_date=row.due_date,
        currency=row.currency,
        open_amount=Money.from_minor(row.open_minor, row.currency).amount,
        days_overdue=max(0, (today - row.due_date).days),
        payment_url=row.payment_url if (row.payment_url or "").startswith("https://") else None,
        payment_reference=row.reference or row.number or row.provider_ref,
        letter_sent_on=(letter.sent_on or letter.dates_assume_sent_on) if letter else None,
        letter_term_ends=letter.printed_term_ends if letter else None,
    )


def _charges(s: Session, link: tables.PortalLink, adm_id: int, numbers: dict[str, str]) -> Charges | None:
    """The latest message about still-open invoices that stated costs or interest."""
    for item in repos.portal_messages(s, link.org_id, adm_id, link.debtor_ref):
        payload = item.payload
        costs = payload.costs.fee + payload.costs.vat if payload.costs else None
        if (costs is None and payload.interest is None) or not any(ref in numbers for ref in item.invoice_refs):
            continue
        return Charges(
            on=item.run_date,
            currency=payload.currency or "EUR",
            costs=costs,
            interest=payload.interest,
            invoices=tuple(numbers[ref] for ref in item.invoice_refs if ref in numbers),
        )
    return None
