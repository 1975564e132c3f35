"""The engine's output: per-invoice ``Decision``s and ``NonDecision``s, grouped into per-debtor ``Message``s.

``connector.rules.engine`` produces them; ``connector.decide`` writes ``EvaluationResult.messages`` (and the
silent catch-up skips) into the outbox and records every non-decision in the decision log. Each carries a ``Why``:
the rule id, the inputs it used and the snapshot's ``synced_at`` (docs/credit-management.md#the-debtor-file,
docs/law.md#engine-rules-for-costs-and-interest: store every input next to the result).
"""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from connector.model import AwareDatetime
from connector.rules.law import CostLine
from connector.rules.policy import Action, Channel


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Why(_Frozen):
    rule: str  # e.g. "ladder.next_level", "hold.disputed"; stable ids for the audit log and tests
    inputs: dict[str, str] = Field(default_factory=dict)
    synced_at: AwareDatetime


class Reason(str, enum.Enum):
    """Why an invoice gets nothing today."""

    NO_POLICY = "no_policy"
    DRAFT = "draft"
    PAID = "paid"
    CREDITED = "credited"
    VOIDED = "voided"
    UNCOLLECTIBLE = "uncollectible"
    HANDED_OVER = "handed_over"
    INSOLVENT = "insolvent"  # docs/law.md#insolvency
    # docs/credit-management.md#holds-and-disputes, docs/credit-management.md#replies-stop-the-sequence
    DISPUTED = "disputed"
    ON_HOLD = "on_hold"  # docs/credit-management.md#holds-and-disputes
    PAUSED_AT_PROVIDER = "paused_at_provider"
    PROMISE_PENDING = "promise_pending"  # docs/credit-management.md#promises-to-pay
    ARRANGEMENT_ACTIVE = "arrangement_active"  # docs/credit-management.md#payment-arrangements
    BELOW_TOLERANCE = "below_tolerance"  # docs/credit-management.md#reminders-for-paid-invoices
    ALREADY_TODAY = "already_today"  # same-day idempotence
    TERMINAL = "terminal"  # top level reached; a person decides (docs/credit-management.md#escalation)
    NOT_DUE = "not_due"
    FOURTEEN_DAY_TERM = "fourteen_day_term"  # the consumer's 14 days after receipt are still running
    NOT_IN_DEFAULT = "not_in_default"  # a consumer's 14-day letter may only follow the default
    LETTER_NOT_POSTED = "letter_not_posted"  # the 14-day letter waits to be marked posted
    NEW_LETTER_PROPOSED = "new_letter_proposed"  # the 14-day letter on record is defective; a new one awaits approval
    PROVIDER_CHASES = "provider_chases"  # docs/credit-management.md#double-chasing
    # docs/credit-management.md#no-duplicates: min_days_between_messages, or another message to this debtor in this run
    INTERVAL = "interval"
    # due before dunning started, left alone by the day-one choice (docs/onboarding.md#day-one-choices)
    BEFORE_START = "before_start"


class Decision(_Frozen):
    """Move one invoice to ``level`` today (send its message unless ``skipped``)."""

    invoice_ref: str
    debtor_ref: str
    administration_ref: str
    currency: str
    policy_name: str
    from_level: int | None
    level: int
    level_name: str
    action: Action
    channel: Channel
    template: str
    open_amount: Decimal
    # catch_up=skip: level recorded as reached without a message (docs/credit-management.md#catch-up-after-downtime)
    skipped: bool = False
    costs: CostLine | None = None
    costs_withheld: str | None = None  # why a charge_costs level charges nothing (e.g. no compliant 14-day letter)
    # 14-day letter: the cost amount the letter must state (docs/law.md#the-14-day-letter); record it
    letter_costs: CostLine | None = None
    interest: Decimal | None = None
    interest_uses_unverified_rate: bool = False
    requires_approval: bool = False
    needs_provider_pause: bool = False  # we chase while the package's own reminders are on: pause them first
    default_since: date | None = None  # first day of the default (verzuim); None while a notice is still needed
    notice_term_days: int | None = None  # this message is the notice of default (ingebrekestelling) with this term
    email_may_replace_letter: bool = False  # a letter step may go by e-mail instead of post
    terminal: bool = False
    min_days_between_messages: int = 0
    debtor_last_message_on: date | None = None
    why: Why

    @property
    def sends_message(self) -> bool:
        return not self.skipped and self.channel in (Channel.EMAIL, Channel.LETTER, Channel.PROVIDER)


class NonDecision(_Frozen):
    invoice_ref: str
    debtor_ref: str
    administration_ref: str
    reason: Reason
    detail: str = ""
    # when something may happen next, where known (preview, docs/credit-management.md#safe-mode)
    next_date: date | None = None
    why: Why


class Message(_Frozen):
    """One message (or task) to one debtor at one level in one currency: all its invoices together
    (docs/credit-management.md#no-duplicates, docs/credit-management.md#partial-payments-credit-notes-and-grouping)."""

    administration_ref: str
    debtor_ref: str
    currency: str
    level: int
    level_name: str
    action: Action
    channel: Channel
    template: str
    invoice_refs: tuple[str, ...]
    decisions: tuple[Decision, ...]
    open_amount: Decimal
    costs: CostLine | None = None  # combined: WIK on the total principal (docs/law.md#wik-collection-costs)
    # 14-day letter: the combined amount to state in the letter (docs/law.md#the-14-day-letter)
    letter_costs: CostLine | None = None
    interest: Decimal | None = None
    requires_approval: bool = False
    needs_provider_pause: bool = False
    default_since: date | None = None  # the latest first day of default of its invoices (None: one is not in default)
    notice_term_days: int | None = None  # the message is a notice of default giving this many days
    email_may_replace_letter: bool = False
    idempotency_key: str


class EvaluationResult(_Frozen):
    run_date: date
    messages: tuple[Message, ...] = ()
    skipped: tuple[Decision, ...] = ()  # catch-up skips: record the level, send nothing
    non_decisions: tuple[NonDecision, ...] = ()

    @property
    def decisions(self) -> tuple[Decision, ...]:
        """Every level move of this run: the grouped messages' decisions plus the silent skips."""
        return tuple(d for m in self.messages for d in m.decisions) + self.skipped
