"""The provider-neutral domain model: what adapters produce and what storage, rules and the dashboard consume.

Adapters map provider records into these frozen pydantic models (``mapping.py``); the core validates them once
and never looks at provider JSON again. Money is ``Decimal`` in code and integer minor units in storage; dates
that matter for dunning (invoice date, due date) are plain ``date`` values in the administration's time zone;
instants are timezone-aware UTC ``datetime`` values.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from connector.clock import DEFAULT_TIMEZONE

_NO_MINOR_UNITS = {"JPY", "KRW", "ISK", "CLP", "VND", "XAF", "XOF", "UGX", "PYG", "RWF", "KMF", "GNF", "DJF"}
_THREE_MINOR_UNITS = {"BHD", "KWD", "OMR", "JOD", "TND", "LYD", "IQD"}


def currency_exponent(currency: str) -> int:
    """Number of minor-unit digits of an ISO 4217 currency (EUR: 2, JPY: 0, KWD: 3)."""
    code = currency.upper()
    if code in _NO_MINOR_UNITS:
        return 0
    if code in _THREE_MINOR_UNITS:
        return 3
    return 2


def _check_currency(code: str) -> str:
    code = code.upper()
    if len(code) != 3 or not code.isalpha():
        raise ValueError(f"not an ISO 4217 currency code: {code!r}")
    return code


Currency = Annotated[str, AfterValidator(_check_currency)]


def _check_aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("datetime must be timezone-aware (UTC)")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_check_aware)]


def _no_float(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError("money must not be a float; pass a Decimal or a decimal string")
    return value


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Money(Frozen):
    """An amount in one currency. Arithmetic only between equal currencies."""

    amount: Decimal
    currency: Currency

    @field_validator("amount", mode="before")
    @classmethod
    def _amount_not_float(cls, value: Any) -> Any:
        return _no_float(value)

    @classmethod
    def of(cls, amount: Decimal | str | int, currency: str = "EUR") -> Money:
        return cls(amount=Decimal(amount), currency=currency)

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        return cls(amount=Decimal(minor).scaleb(-currency_exponent(currency)), currency=currency)

    def to_minor(self) -> int:
        """Integer minor units; refuses amounts with more precision than the currency has."""
        exp = currency_exponent(self.currency)
        scaled = self.amount.scaleb(exp)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{self.amount} {self.currency} has more than {exp} decimals")
        return int(scaled)

    def quantized(self) -> Money:
        exp = currency_exponent(self.currency)
        return Money(
            amount=self.amount.quantize(Decimal(1).scaleb(-exp), rounding=ROUND_HALF_UP), currency=self.currency
        )

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(amount=self.amount - other.amount, currency=self.currency)

    def __str__(self) -> str:
        return f"{self.currency} {self.quantized().amount}"


class Segment(str, enum.Enum):
    """Business (B2B) or consumer (B2C): decides the policy and the legal regime (WIK, 14-day letter)."""

    B2B = "b2b"
    B2C = "b2c"


class InvoiceStatus(str, enum.Enum):
    """The common lifecycle; the provider's own state is kept verbatim in ``Invoice.provider_state``."""

    DRAFT = "draft"  # not sent; never dunned
    OPEN = "open"  # sent and not fully paid
    PAID = "paid"
    CREDITED = "credited"  # fully settled by a credit note
    UNCOLLECTIBLE = "uncollectible"  # written off at the provider
    VOIDED = "voided"  # cancelled/deleted at the provider


class Capability(str, enum.Enum):
    WEBHOOKS = "webhooks"
    PAYMENT_EVENTS = "payment_events"  # the provider sends webhooks for payments (else: poll)
    SEND_REMINDER = "send_reminder"  # the provider itself can send a reminder to the debtor
    WRITE_NOTE = "write_note"
    PAUSE_PROVIDER_REMINDERS = "pause_provider_reminders"
    CREDIT_HOLD = "credit_hold"
    WRITE_DOCUMENT = "write_document"
    MARK_UNCOLLECTIBLE = "mark_uncollectible"
    PAYMENT_LINK = "payment_link"
    INVOICE_PDF = "invoice_pdf"  # the package hands out the invoice as a PDF (docs/portal.md#the-invoice-pdf)


class Tenant(Frozen):
    """An administration (Moneybird), tenant (Xero) or division (Exact) reachable through one connection."""

    provider_tenant_id: str
    name: str
    currency: Currency = "EUR"
    country: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    language: str | None = None
    suspended: bool = False


class Address(Frozen):
    line1: str | None = None
    line2: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str | None = None


class Debtor(Frozen):
    """A customer (contact, account) of one administration."""

    provider_ref: str
    name: str
    company_name: str | None = None
    email: str | None = None
    phone: str | None = None
    kvk_number: str | None = None
    vat_number: str | None = None
    segment: Segment = Segment.B2B
    address: Address = Field(default_factory=Address)
    language: str | None = None
    customer_number: str | None = None
    blocked: bool = False  # credit stop / blocked flag as the provider has it
    provider_version: str | None = None
    updated_at: AwareDatetime | None = None


class Invoice(Frozen):
    """An issued sales invoice with what dunning needs; amounts in the invoice currency."""

    provider_ref: str
    number: str | None
    debtor_ref: str
    invoice_date: date | None
    due_date: date
    payment_term_days: int | None = None
    currency: Currency
    total: Decimal
    open_amount: Decimal
    status: InvoiceStatus
    provider_state: str
    provider_version: str | None = None
    payment_url: str | None = None
    reference: str | None = None
    paused_at_provider: bool = False  # the provider's own reminder workflow is paused for this invoice
    provider_reminder_count: int = 0  # reminders the provider itself already sent
    disputed: bool = False
    updated_at: AwareDatetime | None = None

    @field_validator("total", "open_amount", mode="before")
    @classmethod
    def _amount_not_float(cls, value: Any) -> Any:
        return _no_float(value)

    @property
    def open_money(self) -> Money:
        return Money(amount=self.open_amount, currency=self.currency)


class CreditNote(Frozen):
    provider_ref: str
    number: str | None
    debtor_ref: str
    issue_date: date | None
    currency: Currency
    total: Decimal  # positive amount of the credit
    remaining: Decimal  # not yet allocated to invoices
    invoice_ref: str | None = None  # the invoice it credits, where the provider says
    provider_version: str | None = None
    updated_at: AwareDatetime | None = None

    @field_validator("total", "remaining", mode="before")
    @classmethod
    def _amount_not_float(cls, value: Any) -> Any:
        return _no_float(value)


class Payment(Frozen):
    """Money received against an invoice (bank payment, allocation of a credit note/overpayment)."""

    provider_ref: str
    invoice_ref: str
    payment_date: date
    amount: Decimal
    currency: Currency
    kind: str = "payment"  # payment | credit_note | overpayment | prepayment | write_off
    provider_version: str | None = None

    @field_validator("amount", mode="before")
    @classmethod
    def _amount_not_float(cls, value: Any) -> Any:
        return _no_float(value)


class TokenSet(Frozen):
    """What a token endpoint returned, normalised. ``expires_at`` is absolute (computed at request time)."""

    access_token: str
    refresh_token: str | None = None
    expires_at: AwareDatetime | None = None
    scope: str | None = None
    extra: dict[str, str] = Field(default_factory=dict)

    def __repr__(self) -> str:  # never show secrets
        refresh = "'***'" if self.refresh_token else None
        return f"TokenSet(access_token='***', refresh_token={refresh}, expires_at={self.expires_at!r})"

    __str__ = __repr__


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of records plus the cursor to persist with it (the core commits both in one transaction).

    ``cursor`` is opaque to the core; ``None`` keeps the previous cursor. ``deleted_refs`` lists provider refs
    that no longer exist at the provider. ``payments``/``credit_notes`` carry records that arrived embedded in
    this page's records; the core upserts them in the same transaction.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    records: list[T]
    cursor: str | None = None
    deleted_refs: list[str] = Field(default_factory=list)
    payments: list[Payment] = Field(default_factory=list)  # embedded in the records (Moneybird invoices)
    credit_notes: list[CreditNote] = Field(default_factory=list)  # credit notes met while reading invoices


class WebhookEvent(Frozen):
    """A verified, parsed webhook: a hint that one entity changed. The core re-reads the entity."""

    provider_tenant_id: str
    dedupe_id: str
    entity_type: str  # invoice | debtor | payment | credit_note | tenant | other
    entity_id: str | None
    action: str
    occurred_at: AwareDatetime | None = None
    signed_digest: str | None = None  # hash of the signed bytes where the dedupe id itself is not signed (Moneybird)


class WriteAction(str, enum.Enum):
    SEND_REMINDER = "send_reminder"  # provider sends it (Moneybird send_reminders)
    NOTE = "note"  # a note/history entry naming the step
    PAUSE_PROVIDER_REMINDERS = "pause_provider_reminders"
    RESUME_PROVIDER_REMINDERS = "resume_provider_reminders"
    CREDIT_HOLD = "credit_hold"
    CREDIT_RELEASE = "credit_release"
    DOCUMENT = "document"  # attach a PDF (letter)
    MARK_UNCOLLECTIBLE = "mark_uncollectible"


class ReminderWrite(Frozen):
    """One write-back for one debtor in one administration; carries a deterministic idempotency key."""

    action: WriteAction
    debtor_ref: str
    invoice_refs: list[str]
    level: int
    level_name: str
    text: str = ""  # the note naming the step, as the bookkeeper sees it in the package
    message: str = ""  # what the package sends the debtor (Moneybird's reminder_text); empty: the package's own
    channel: str = "email"
    email: str | None = None
    attachment_name: str | None = None
    attachment: bytes | None = None
    idempotency_key: str


class WriteResult(Frozen):
    """What a write-back did. ``already_done`` when a re-read showed the write had landed before."""

    ok: bool
    provider_refs: list[str] = Field(default_factory=list)
    already_done: bool = False
    detail: str = ""
    api_calls: int = 0


class ProviderReminderSettings(Frozen):
    """Whether the accounting package itself chases debtors in this administration (double-chase guard)."""

    active: bool
    detail: str = ""
