"""The engine's input: a frozen snapshot of one open invoice with every fact the rules look at.

``connector.snapshots`` builds one ``InvoiceSnapshot`` per invoice from storage (synced invoice + our dunning state:
level reached, holds, promises, arrangements, 14-day-letter evidence) and passes them to
``connector.rules.engine.evaluate``. Debtor- and administration-level holds are flattened onto the invoice
(``on_hold``/``insolvent``) by the caller. Nothing here reads a clock: ``synced_at`` is recorded in every
decision's ``why`` so a reviewer can see how fresh the facts were.
"""

from __future__ import annotations

import enum
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from connector.model import AwareDatetime, Currency, InvoiceStatus, Segment


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _no_float(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError("money must not be a float; pass a Decimal or a decimal string")
    return value


class Installment(_Frozen):
    due_date: date
    amount: Decimal
    paid: bool = False

    _amount = field_validator("amount", mode="before")(_no_float)


class Arrangement(_Frozen):
    """A payment arrangement (docs/credit-management.md#payment-arrangements): while it is kept, the normal ladder is
    paused."""

    installments: list[Installment] = Field(min_length=1)

    def first_missed(self, today: date, grace_days: int) -> Installment | None:
        """The earliest unpaid instalment whose due date + grace lies before ``today``."""
        for installment in sorted(self.installments, key=lambda i: i.due_date):
            if not installment.paid and installment.due_date + timedelta(days=grace_days) < today:
                return installment
        return None

    def completed(self) -> bool:
        return all(installment.paid for installment in self.installments)


class LetterChannel(str, enum.Enum):
    POST = "post"  # ordinary mail: received on the 2nd postal delivery day after posting (practice)
    REGISTERED_POST = "registered_post"  # same presumption unless ``received_on`` (track & trace) is recorded
    EMAIL = "email"  # received the day after it was sent (art. 3:37 lid 3 BW; the cautious reading)


class FourteenDayLetterEvidence(_Frozen):
    """Proof of the statutory 14-day letter: what it said, when and how it went out, when it arrived.

    ``connector.rules.letter.check_letter`` judges it. Nothing defaults to "compliant": a letter queued for post has
    no ``sent_on`` until a person marks it posted, and whether its text counts the term from the day after receipt
    (``text_counts_from_receipt``) is what the check of the rendered text found, ``None`` when it was never checked.
    """

    sent_on: date | None  # posted or e-mailed on; None = queued for post, not posted yet
    channel: LetterChannel
    received_on: date | None = None  # proven receipt (track & trace, read receipt); overrides the presumption
    stated_costs: Decimal | None = None  # the cost amount the letter stated (incl. VAT if any); None = not stated
    printed_term_ends: date | None = None  # the last day to pay as printed in the letter
    text_counts_from_receipt: bool | None = None  # the rendered text's wording, as checked when it was rendered
    document_ref: str | None = None

    _amount = field_validator("stated_costs", mode="before")(_no_float)


class InvoiceSnapshot(_Frozen):
    invoice_ref: str
    debtor_ref: str
    administration_ref: str
    # None = debtor type unknown → consumer rules (docs/law.md#engine-rules-for-costs-and-interest)
    segment: Segment | None = None
    currency: Currency
    due_date: date
    invoice_date: date | None = None
    open_amount: Decimal
    total: Decimal
    status: InvoiceStatus
    current_level: int | None = None  # highest level reached (sent or skipped); None = none yet
    level_reached_on: date | None = None
    last_message_to_debtor_on: date | None = None  # any message to this debtor, any invoice
    # the package's own reminders run for this debtor (docs/credit-management.md#double-chasing)
    provider_reminders_active: bool = False
    provider_reminder_count: int = 0
    paused_at_provider: bool = False  # reminders paused in the package for this invoice
    provider_pause_ours: bool = False  # ...and the pause was set by us (double-chase guard), so it is no stop sign
    disputed: bool = False
    on_hold: bool = False
    hold_reason: str | None = None
    hold_until: date | None = None  # hold lapses after this day; None = until a person resumes it
    insolvent: bool = False  # docs/law.md#insolvency: bankruptcy, suspension of payments, WSNP → legal hold
    promise_to_pay_date: date | None = None
    arrangement: Arrangement | None = None
    handed_over: bool = False
    uncollectible: bool = False
    invoice_policy: str | None = None  # per-invoice policy override
    debtor_policy: str | None = None  # per-debtor policy override
    fourteen_day_letter: FourteenDayLetterEvidence | None = None
    default_needs_notice: bool | None = None  # per debtor: None = as the policy says (art. 6:82 vs 6:83 BW)
    notice_of_default_on: date | None = None  # when our notice of default (ingebrekestelling) went out
    synced_at: AwareDatetime

    _amounts = field_validator("open_amount", "total", mode="before")(_no_float)

    @property
    def legal_segment(self) -> Segment:
        """The legal regime: unknown debtor type is treated as a consumer
        (docs/law.md#engine-rules-for-costs-and-interest)."""
        return self.segment or Segment.B2C

    @property
    def consumer(self) -> bool:
        return self.legal_segment is Segment.B2C
