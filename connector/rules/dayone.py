"""The day-one choice: how an administration's history (invoices already overdue when dunning starts) enters
the ladder on the first runs. Pure: dates and policies in, a policy per invoice or a non-decision out.

Sits beside the engine: ``connector.decide`` wraps the administration's policy choice with ``day_one_policy``
and leaves out what ``split_history`` returns as not dunned; the onboarding's review step counts the first step
each invoice would get under each choice with ``plan`` (docs/onboarding.md#day-one-choices). Invoices due on or
after ``starts_on`` are not history and follow the policy as it is.

- ``reminder_1``: everyone starts at the first reminder (the policy's catch-up is ``send``), one step per run.
- ``by_age``: start at the level the invoice's age calls for: passed levels are recorded as not sent, one per run
  (catch-up ``skip``), never past the 14-day letter, an approval level or the top level.
- ``skip_history``: history invoices that never got a step are not dunned; new invoices are.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from connector.rules.decisions import NonDecision, Reason, Why
from connector.rules.engine import _catch_up_skips, level_date
from connector.rules.policy import CatchUp, Policy
from connector.rules.snapshot import InvoiceSnapshot


class DayOne(str, enum.Enum):
    REMINDER_1 = "reminder_1"
    BY_AGE = "by_age"
    SKIP_HISTORY = "skip_history"


@dataclass(frozen=True)
class DayOneSetting:
    choice: DayOne
    starts_on: date  # invoices due before this day are the history the choice is about


def is_history(setting: DayOneSetting | None, due_date: date) -> bool:
    return setting is not None and due_date < setting.starts_on


def day_one_policy(
    choose: Callable[[InvoiceSnapshot], Policy], setting: DayOneSetting | None
) -> Callable[[InvoiceSnapshot], Policy]:
    """The policy choice with the day-one catch-up for history invoices (``choose`` itself without a setting)."""
    if setting is None or setting.choice is DayOne.SKIP_HISTORY:
        return choose
    catch_up = CatchUp.SEND if setting.choice is DayOne.REMINDER_1 else CatchUp.SKIP

    def chosen(snapshot: InvoiceSnapshot) -> Policy:
        policy = choose(snapshot)
        if is_history(setting, snapshot.due_date) and policy.catch_up is not catch_up:
            return policy.model_copy(update={"catch_up": catch_up})
        return policy

    return chosen


def split_history(
    snapshots: Iterable[InvoiceSnapshot], setting: DayOneSetting | None
) -> tuple[list[InvoiceSnapshot], list[NonDecision]]:
    """(the snapshots to evaluate, a non-decision for each history invoice ``skip_history`` leaves alone)."""
    kept: list[InvoiceSnapshot] = []
    left: list[NonDecision] = []
    for snapshot in snapshots:
        alone = setting is not None and setting.choice is DayOne.SKIP_HISTORY and snapshot.current_level is None
        if alone and setting is not None and is_history(setting, snapshot.due_date):
            inputs = {"due_date": snapshot.due_date.isoformat(), "starts_on": setting.starts_on.isoformat()}
            why = Why(rule="day_one.skip_history", inputs=inputs, synced_at=snapshot.synced_at)
            detail = f"due before dunning started on {setting.starts_on}: history is not dunned"
            left.append(
                NonDecision(
                    invoice_ref=snapshot.invoice_ref,
                    debtor_ref=snapshot.debtor_ref,
                    administration_ref=snapshot.administration_ref,
                    reason=Reason.BEFORE_START,
                    detail=detail,
                    why=why,
                )
            )
        else:
            kept.append(snapshot)
    return kept, left


def first_step(policy: Policy, due_date: date, today: date, setting: DayOneSetting) -> int | None:
    """The index of the first level that sends a message to an invoice that has had no step yet, or None when it
    gets none (left alone, or no level due yet). Pre-due levels of an overdue invoice lapse without a message."""
    if not policy.levels:
        return None
    if is_history(setting, due_date) and setting.choice is DayOne.SKIP_HISTORY:
        return None
    by_age = is_history(setting, due_date) and setting.choice is DayOne.BY_AGE
    skipping = policy.model_copy(update={"catch_up": CatchUp.SKIP})
    index = 0
    while index < len(policy.levels) - 1:
        lapsed = policy.levels[index].days < 0 and today > due_date
        if not (lapsed or (by_age and _catch_up_skips(skipping, index, due_date, today))):
            break
        index += 1
    return index if level_date(policy.levels[index], due_date, today) <= today else None


def plan(policy: Policy, due_dates: Iterable[date], today: date, setting: DayOneSetting) -> Counter[int | None]:
    """How many invoices (not yet dunned) get their first message at each level index; None: no message."""
    return Counter(first_step(policy, due, today, setting) for due in due_dates)
