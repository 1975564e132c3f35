"""What a message template may show: a pure, frozen snapshot built by the dunning step before anything is rendered.

The outbox (or the dunning run) decides *what* to send; it then builds a :class:`MessageContext` from the domain
model (``connector.model.Debtor``/``Invoice``) plus the amounts the rules computed (collection costs, VAT on costs,
interest) and hands it to ``connector.channels.email``/``letters``/``phone``. Templates only read this object;
nothing here talks to a database, the network or a clock (``today`` is always passed in).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from connector.model import Debtor, Invoice, Segment
from connector.model.bank import BankDetails

DEFAULT_LANGUAGE = "nl"
SUPPORTED_LANGUAGES = ("nl", "en")


class MessageKind(str, enum.Enum):
    """One template set per kind under ``templates/<language>/<kind>/``."""

    # before the due date (docs/credit-management.md#reminders-before-the-due-date)
    FRIENDLY_REMINDER = "friendly_reminder"
    REMINDER = "reminder"  # after the due date (docs/credit-management.md#one-ladder-for-every-debtor)
    DEMAND_LETTER = "demand_letter"  # aanmaning (docs/credit-management.md#escalation)
    FOURTEEN_DAY_LETTER = "fourteen_day_letter"  # veertiendagenbrief for consumers (docs/law.md#the-14-day-letter)
    FINAL_NOTICE = "final_notice"  # sommatie (docs/credit-management.md#escalation)
    PHONE_SCRIPT = "phone_script"  # script for a phone task (docs/credit-management.md#channels)
    CREDIT_STOP_NOTICE = "credit_stop_notice"  # deliveries stopped (docs/credit-management.md#credit-stop)
    HAND_OVER_NOTICE = "hand_over_notice"  # claim handed to a collection agency (docs/credit-management.md#hand-over)
    # the next payment of an agreed arrangement (docs/credit-management.md#payment-arrangements)
    INSTALLMENT_REMINDER = "installment_reminder"


LETTER_KINDS = frozenset({MessageKind.DEMAND_LETTER, MessageKind.FOURTEEN_DAY_LETTER, MessageKind.FINAL_NOTICE})


def language_for(code: str | None) -> str:
    """The debtor's language: Dutch when unknown or Dutch (``nl``, ``nl-BE``, ``NL``), English otherwise."""
    if not code:
        return DEFAULT_LANGUAGE
    base = code.replace("_", "-").split("-")[0].strip().lower()
    return "nl" if base in ("", "nl") else "en"


@dataclass(frozen=True)
class Organisation:
    """The SME that is owed the money (the administration in the accounting package)."""

    name: str
    administration_name: str = ""
    address_lines: tuple[str, ...] = ()
    email: str | None = None
    phone: str | None = None
    website: str | None = None
    iban: str | None = None  # in groups of four; with the holder and BIC from the owner's setting
    kvk_number: str | None = None
    vat_number: str | None = None
    account_holder: str | None = None
    bic: str | None = None

    @classmethod
    def of(cls, name: str, bank: BankDetails | None) -> Organisation:
        """The administration as a message names it, with the account to transfer to when one is set
        (docs/portal.md#paying)."""
        if bank is None:
            return cls(name=name, administration_name=name)
        return cls(name=name, administration_name=name, iban=bank.grouped, account_holder=bank.holder, bic=bank.bic)


@dataclass(frozen=True)
class Contact:
    """Who the debtor replies to or calls about this message."""

    name: str
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class DebtorInfo:
    """The addressee. ``consumer`` decides the legal regime (docs/law.md#the-14-day-letter): unknown type is treated as
    consumer (docs/law.md#engine-rules-for-costs-and-interest)."""

    name: str
    address_lines: tuple[str, ...] = ()
    email: str | None = None
    phone: str | None = None
    language: str | None = None
    consumer: bool = True
    customer_number: str | None = None
    contact_name: str | None = None

    @classmethod
    def from_debtor(cls, debtor: Debtor) -> DebtorInfo:
        addr = debtor.address
        city_line = " ".join(p for p in (addr.postcode, addr.city) if p)
        lines = tuple(p for p in (addr.line1, addr.line2, city_line, addr.country) if p)
        return cls(
            name=debtor.company_name or debtor.name,
            address_lines=lines,
            email=debtor.email,
            phone=debtor.phone,
            language=debtor.language,
            consumer=debtor.segment is Segment.B2C,
            customer_number=debtor.customer_number,
            contact_name=debtor.name if debtor.company_name and debtor.company_name != debtor.name else None,
        )


@dataclass(frozen=True)
class InvoiceLine:
    """One invoice as the debtor sees it in a message (docs/credit-management.md#invoicing: number, date, due date, open
    amount, how to pay)."""

    number: str
    invoice_date: date | None
    due_date: date
    total: Decimal
    open_amount: Decimal
    days_overdue: int
    payment_link: str | None = None

    @classmethod
    def from_invoice(cls, invoice: Invoice, today: date) -> InvoiceLine:
        return cls(
            number=invoice.number or invoice.provider_ref,
            invoice_date=invoice.invoice_date,
            due_date=invoice.due_date,
            total=invoice.total,
            open_amount=invoice.open_amount,
            days_overdue=max(0, (today - invoice.due_date).days),
            payment_link=invoice.payment_url,
        )


@dataclass(frozen=True)
class InstallmentInfo:
    """One payment of an agreed arrangement (docs/credit-management.md#payment-arrangements): which of how many, how
    much, by when."""

    number: int
    of: int
    due_date: date
    amount: Decimal


@dataclass(frozen=True)
class MessageContext:
    """Everything a template can show. Amounts are ``Decimal`` in ``currency``; ``None`` means "not charged".

    ``receipt_date`` and ``deadline`` are set for the 14-day letter and for a notice of default: the presumed day
    the debtor receives it and the last day of the term counted from the day after it, moved off weekends and
    holidays (``connector.rules.letter.letter_dates``). ``default_since`` is the debtor's first day of default
    (verzuim) when the rules know it; ``notice_of_default`` marks the message that puts the debtor in default if the
    term passes unpaid.
    """

    organisation: Organisation
    debtor: DebtorInfo
    invoices: tuple[InvoiceLine, ...]
    level_name: str
    issued_on: date
    currency: str = "EUR"
    collection_costs: Decimal | None = None
    vat_on_costs: Decimal | None = None
    interest: Decimal | None = None
    interest_until: date | None = None
    contact: Contact | None = None
    receipt_date: date | None = None
    deadline: date | None = None
    reference: str | None = None
    # the collection agency a hand-over notice names (docs/credit-management.md#hand-over,
    # docs/law.md#collection-agencies)
    agency: str | None = None
    installment: InstallmentInfo | None = None  # the arrangement payment an installment reminder is about
    default_since: date | None = None
    notice_of_default: bool = False
    # the debtor's personal page (docs/portal.md#links): every e-mail and letter links to it; a letter also prints
    # the short code to type on ``portal_entry`` and a QR code of the link
    portal_url: str | None = None
    portal_code: str | None = None
    portal_entry: str | None = None

    @property
    def default_from_if_unpaid(self) -> date | None:
        """A notice of default: the first day of default if the term passes unpaid."""
        return self.deadline + timedelta(days=1) if self.notice_of_default and self.deadline else None

    @property
    def language(self) -> str:
        return language_for(self.debtor.language)

    @property
    def total_open(self) -> Decimal:
        return sum((i.open_amount for i in self.invoices), Decimal(0))

    @property
    def total_due(self) -> Decimal:
        """Open principal plus whatever costs, VAT on costs and interest this message charges."""
        extras = (self.collection_costs, self.vat_on_costs, self.interest)
        return self.total_open + sum((x for x in extras if x is not None), Decimal(0))

    @property
    def costs_with_vat(self) -> Decimal:
        """Collection costs plus the VAT on them (docs/law.md#vat-on-collection-costs: only when the creditor cannot
        deduct that VAT)."""
        return (self.collection_costs or Decimal(0)) + (self.vat_on_costs or Decimal(0))

    @property
    def total_without_costs(self) -> Decimal:
        """What the debtor owes without collection costs: open principal plus any interest stated."""
        return self.total_open + (self.interest or Decimal(0))

    @property
    def single(self) -> bool:
        """One invoice (singular wording in the templates) or several."""
        return len(self.invoices) == 1

    @property
    def charges_costs(self) -> bool:
        return any(x is not None and x != 0 for x in (self.collection_costs, self.vat_on_costs, self.interest))

    @property
    def payment_links(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for line in self.invoices:
            if line.payment_link:
                seen.setdefault(line.payment_link, None)
        return tuple(seen)

    @property
    def max_days_overdue(self) -> int:
        return max((i.days_overdue for i in self.invoices), default=0)
