"""Phone tasks (docs/credit-management.md#channels, docs/credit-management.md#late-payment-reasons): a worklist entry
for a person to call a debtor, completed with an outcome code.

When a level's channel is ``phone`` the outbox builds a :class:`PhoneTask` with :func:`build_phone_task`: the
debtor's number, the open invoices, the history of earlier contact moments and a call script rendered from
``templates/<language>/phone_script/script.txt``. The dashboard shows it in the worklist; the person who called
records a :class:`CallResult` with :func:`complete_task` (outcome, late-payment reason, promise date), which the
services layer stores as a contact moment and turns into a hold, promise or arrangement.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from connector.channels.context import MessageContext, MessageKind
from connector.channels.templating import render_part
from connector.clock import local_date


class CallOutcome(str, enum.Enum):
    # docs/credit-management.md#promises-to-pay: pauses the sequence until the promise date
    PROMISE_TO_PAY = "promise_to_pay"
    PAYMENT_ARRANGEMENT = "payment_arrangement"  # docs/credit-management.md#payment-arrangements
    DISPUTE = "dispute"  # docs/credit-management.md#holds-and-disputes: the invoice goes on hold
    # docs/credit-management.md#reminders-for-paid-invoices: check the bank / re-sync before the next step
    ALREADY_PAID = "already_paid"
    CALL_BACK = "call_back"
    NO_ANSWER = "no_answer"
    VOICEMAIL = "voicemail"
    WRONG_NUMBER = "wrong_number"
    REFUSED = "refused"


REACHED = frozenset(
    {
        CallOutcome.PROMISE_TO_PAY,
        CallOutcome.PAYMENT_ARRANGEMENT,
        CallOutcome.DISPUTE,
        CallOutcome.ALREADY_PAID,
        CallOutcome.CALL_BACK,
        CallOutcome.REFUSED,
    }
)


class LateReason(str, enum.Enum):
    """Why the invoice is late (docs/credit-management.md#late-payment-reasons), recorded with a contact moment."""

    MISCOMMUNICATION = "miscommunication"
    DISSATISFIED = "dissatisfied"
    FINANCIAL_TROUBLE = "financial_trouble"
    NEGLIGENCE = "negligence"
    OTHER = "other"


@dataclass(frozen=True)
class HistoryLine:
    """An earlier contact moment as the caller sees it (date, channel, one-line summary)."""

    on: date
    channel: str
    summary: str


@dataclass(frozen=True)
class PhoneTask:
    debtor_ref: str
    debtor_name: str
    phone: str | None
    language: str
    level_name: str
    currency: str
    total_open: Decimal
    invoice_numbers: tuple[str, ...]
    history: tuple[HistoryLine, ...]
    script: str
    outcomes: tuple[CallOutcome, ...]
    due_on: date


@dataclass(frozen=True)
class CallResult:
    debtor_ref: str
    outcome: CallOutcome
    called_at: datetime
    reached: bool
    note: str = ""
    reason: LateReason | None = None
    promise_date: date | None = None


def build_phone_task(
    ctx: MessageContext, *, debtor_ref: str, history: Sequence[HistoryLine] = (), due_on: date | None = None
) -> PhoneTask:
    """A task to call the debtor of ``ctx``; history is shown newest first."""
    ordered = tuple(sorted(history, key=lambda h: h.on, reverse=True))
    outcomes = tuple(CallOutcome)
    script = render_part(
        MessageKind.PHONE_SCRIPT, "script.txt", ctx, phone=ctx.debtor.phone, history=ordered, outcomes=outcomes
    )
    return PhoneTask(
        debtor_ref=debtor_ref,
        debtor_name=ctx.debtor.name,
        phone=ctx.debtor.phone,
        language=ctx.language,
        level_name=ctx.level_name,
        currency=ctx.currency,
        total_open=ctx.total_open,
        invoice_numbers=tuple(i.number for i in ctx.invoices),
        history=ordered,
        script=script,
        outcomes=outcomes,
        due_on=due_on or ctx.issued_on,
    )


def complete_task(
    task: PhoneTask,
    outcome: CallOutcome | str,
    *,
    called_at: datetime,
    note: str = "",
    reason: LateReason | str | None = None,
    promise_date: date | None = None,
) -> CallResult:
    """Record the call. A promise to pay needs a promise date not before the call; timestamps must be UTC-aware."""
    outcome = CallOutcome(outcome)
    if called_at.tzinfo is None:
        raise ValueError("called_at must be timezone-aware")
    if outcome is CallOutcome.PROMISE_TO_PAY:
        if promise_date is None:
            raise ValueError("a promise to pay needs the promised date")
        if promise_date < local_date(called_at):
            raise ValueError("the promised date lies before the call")
    elif promise_date is not None:
        raise ValueError(f"a promise date only goes with {CallOutcome.PROMISE_TO_PAY.value}")
    return CallResult(
        debtor_ref=task.debtor_ref,
        outcome=outcome,
        called_at=called_at,
        reached=outcome in REACHED,
        note=note,
        reason=LateReason(reason) if reason is not None else None,
        promise_date=promise_date,
    )
