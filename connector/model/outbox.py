"""The outbox's vocabulary: what an item does, how it goes out, where it stands and what it carries.

Shared by every step that queues or works an outbox item (``connector.decide`` and ``connector.debtors`` queue,
``connector.outbox`` drains, ``connector.services`` and ``connector.queries`` close and list them) and by storage,
which validates every payload it writes and converts every row it reads into an ``OutboxItem``. The enum values
are the strings stored in the outbox table, so rows written before these types read back unchanged.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class OutboxAction(enum.StrEnum):
    """What an item does. The first eight are the steps of a policy's ladder (``connector.rules.policy.Action``)."""

    FRIENDLY_REMINDER = "friendly_reminder"
    REMINDER = "reminder"
    DEMAND_LETTER = "demand_letter"
    FOURTEEN_DAY_LETTER = "fourteen_day_letter"
    FINAL_NOTICE = "final_notice"
    PHONE_TASK = "phone_task"
    CREDIT_STOP = "credit_stop"
    HAND_OVER = "hand_over"
    INSTALLMENT_REMINDER = "installment_reminder"  # the next payment of an agreed arrangement is due soon
    FILE_CLAIM = "file_claim"  # an insolvent debtor: a person files the claim with the trustee
    NOTE = "note"  # a write-back a person caused: hold, release, arrangement, hand-over ...
    CREDIT_RELEASE = "credit_release"
    MARK_UNCOLLECTIBLE = "mark_uncollectible"
    PORTAL_ANSWER = "portal_answer"  # the debtor answered on its page: a task for a person (docs/portal.md#answers)


REMINDER_ACTIONS = frozenset(
    {
        OutboxAction.FRIENDLY_REMINDER,
        OutboxAction.REMINDER,
        OutboxAction.DEMAND_LETTER,
        OutboxAction.FOURTEEN_DAY_LETTER,
        OutboxAction.FINAL_NOTICE,
    }
)
"""Messages the accounting package could send itself (where it can send reminders)."""

OWN_CHANNEL_ACTIONS = REMINDER_ACTIONS | {
    OutboxAction.PHONE_TASK,
    OutboxAction.CREDIT_STOP,
    OutboxAction.HAND_OVER,
    OutboxAction.INSTALLMENT_REMINDER,
}
"""Steps our own channels deliver (e-mail, letter, phone task) when the package does not send them."""

LETTER_ACTIONS = frozenset({OutboxAction.FOURTEEN_DAY_LETTER, OutboxAction.DEMAND_LETTER, OutboxAction.FINAL_NOTICE})
"""Steps that go out as a letter (PDF) whose sending is kept as evidence."""


class OutboxChannel(enum.StrEnum):
    """How an item goes out: the policy's channels, a person's task, or a note in the accounting package."""

    EMAIL = "email"
    LETTER = "letter"
    PHONE = "phone"
    PROVIDER = "provider"  # the accounting package sends it
    TASK = "task"
    NOTE = "note"


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"  # to be drained
    AWAITING_APPROVAL = "awaiting_approval"  # a person approves first (hand-over)
    TASK_OPEN = "task_open"  # waits for a person (a call, filing a claim)
    DONE = "done"
    SKIPPED = "skipped"  # nothing left to do (paid, credited, disputed or held since the decision)
    FAILED = "failed"  # a permanent error, recorded with its reason


CLOSED_STATUSES = frozenset({OutboxStatus.DONE, OutboxStatus.SKIPPED})


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CostsPart(_Part):
    """A cost line as the rules computed it (``connector.rules.law.CostLine``), kept with the message."""

    basis: str  # wik | eu_fixed_40
    principal: Decimal
    fee: Decimal
    vat: Decimal
    cap: Decimal | None = None

    @field_validator("basis", mode="before")
    @classmethod
    def _basis(cls, value: Any) -> Any:
        # items queued before the payload was typed stored str(CostBasis.WIK): "CostBasis.WIK"
        return value.removeprefix("CostBasis.").lower() if isinstance(value, str) else value

    @field_validator("cap", mode="before")
    @classmethod
    def _cap(cls, value: Any) -> Any:
        return None if value == "None" else value  # ... and str(None) for "no cap"

    @property
    def total(self) -> Decimal:
        return self.fee + self.vat


class InstallmentPart(_Part):
    number: int
    of: int
    due_date: date
    amount: Decimal


class PhoneTaskPart(_Part):
    phone: str | None = None
    script: str = ""
    invoices: tuple[str, ...] = ()
    total_open: Decimal | None = None
    outcomes: tuple[str, ...] = ()


class DeliveredPart(_Part):
    """What our own channel did, recorded before the write-back so a retry never sends twice."""

    channel: str  # email | post | phone
    detail: str
    status: OutboxStatus = OutboxStatus.DONE
    message_id: str | None = None
    subject: str | None = None
    post_file: str | None = None
    task: PhoneTaskPart | None = None


class OutboxPayload(_Part):
    """Everything an item carries besides its columns; every field optional, the rest forbidden."""

    # a message the rules decided: the amounts it states and why
    template: str | None = None
    open_amount: Decimal | None = None
    currency: str | None = None
    costs: CostsPart | None = None
    letter_costs: CostsPart | None = None  # what a 14-day letter states the costs will be
    interest: Decimal | None = None
    needs_provider_pause: bool = False
    default_since: date | None = None  # the debtor's first day of default, as the rules found it
    notice_term_days: int | None = None  # the message is the notice of default and gives this many days
    email_may_replace_letter: bool = False  # a letter step may go by e-mail; otherwise it waits for the post
    why: tuple[dict[str, Any], ...] = ()
    note: str | None = None  # the note written back instead of the level's name
    installment: InstallmentPart | None = None
    # a write-back a person caused (connector.debtors)
    manual: bool = False
    kind: str | None = None
    text: str | None = None
    # what happened to it
    delivered: DeliveredPart | None = None
    completed_note: str | None = None
    skip_reason: str | None = None  # a person skipped it from the worklist, saying why
    snoozed_until: date | None = None  # a person moved it to this day (its next attempt waits for the day)
    outcome: str | None = None
    contact_moment: int | None = None
    portal_answer: int | None = None  # the debtor's answer a task is about; closing the task resolves it
    # "I have paid" (docs/portal.md#answers): the day and amount the debtor gave and the day a person looks if no
    # payment is seen by then; the task's open_amount is what is still open on that day
    claimed_paid_on: date | None = None
    claimed_amount: Decimal | None = None
    claim_check_on: date | None = None

    @property
    def charges(self) -> bool:
        """The message states costs or interest (so our own templates send it, never the package's)."""
        return self.costs is not None or self.letter_costs is not None or self.interest is not None

    @property
    def needs_our_text(self) -> bool:
        """Only our own templates may send it: it states amounts, or it is a notice of default."""
        return self.charges or self.notice_term_days is not None

    def stored(self) -> dict[str, Any]:
        """The JSON stored in the outbox row: amounts as decimal strings, unset fields left out."""
        return self.model_dump(mode="json", exclude_defaults=True)


class OutboxItem(_Part):
    """One outbox row as the rest of the connector sees it (storage converts; nobody else touches the row)."""

    id: int
    org_id: int
    administration_id: int
    idempotency_key: str
    action: OutboxAction
    debtor_ref: str
    invoice_refs: tuple[str, ...]
    level: int
    level_name: str
    channel: OutboxChannel
    payload: OutboxPayload = Field(default_factory=OutboxPayload)
    run_date: date
    status: OutboxStatus
    attempts: int = 0
    last_error: str | None = None
    provider_refs: tuple[str, ...] = ()
    created_at: datetime
    done_at: datetime | None = None
    next_attempt_at: datetime | None = None
