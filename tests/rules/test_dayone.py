"""The day-one choice (connector.rules.dayone, docs/onboarding.md#day-one-choices), table-driven over invoice ages on
the packaged B2B ladder (friendly -3, reminders 3 and 14, call 17, demand 28, final 42, credit stop 49 needs
approval, hand-over 56): the first message each choice gives, the catch-up the engine then uses, and the history
``skip_history`` leaves alone."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from connector.policies import packaged_policies
from connector.rules import evaluate_invoice
from connector.rules.dayone import DayOne, DayOneSetting, day_one_policy, first_step, plan, split_history
from connector.rules.decisions import Decision, NonDecision, Reason
from connector.rules.policy import CatchUp
from tests.rules.rules_factories import snapshot

TODAY = date(2028, 2, 29)  # a pure function of its dates: any day does; a leap day for good measure
STARTS = TODAY - timedelta(days=2)  # invoices due before this are history
B2B = packaged_policies()["b2b"]


@pytest.mark.parametrize(
    ("age", "reminder_1", "by_age", "skip_history"),
    [
        (-5, None, None, None),  # not due yet: the friendly notice falls 3 days before the due date
        (-2, 0, 0, 0),  # the friendly notice is due (not history: due after dunning started)
        (
            1,
            None,
            None,
            None,
        ),  # friendly lapsed (overdue), first reminder falls on day 3; not history (due after start)
        (5, 1, 1, None),  # history: reminder 1 by either start; skipping history leaves it
        (15, 1, 2, None),  # the second reminder's age
        (20, 1, 3, None),  # the phone call
        (30, 1, 4, None),  # the demand letter
        (45, 1, 5, None),  # the final notice
        (100, 1, 6, None),  # stops at the credit stop: a level that needs approval is never skipped
    ],
)
def test_the_first_message_per_choice_by_age(
    age: int, reminder_1: int | None, by_age: int | None, skip_history: int | None
) -> None:
    due = TODAY - timedelta(days=age)
    for choice, expected in [
        (DayOne.REMINDER_1, reminder_1),
        (DayOne.BY_AGE, by_age),
        (DayOne.SKIP_HISTORY, skip_history),
    ]:
        got = first_step(B2B, due, TODAY, DayOneSetting(choice, STARTS))
        assert got == expected, (
            f"{age} days overdue, {choice.value}: first message at level index {got}, not {expected}"
        )


def test_the_plan_counts_invoices_per_first_step() -> None:
    dues = [TODAY - timedelta(days=age) for age in (5, 15, 15, 30, 100, 1)]
    counts = {c: dict(plan(B2B, dues, TODAY, DayOneSetting(c, STARTS))) for c in DayOne}
    assert counts[DayOne.REMINDER_1] == {1: 5, None: 1}, counts
    assert counts[DayOne.BY_AGE] == {1: 1, 2: 2, 4: 1, 6: 1, None: 1}, counts
    assert counts[DayOne.SKIP_HISTORY] == {None: 6}, counts


@pytest.mark.parametrize(("choice", "catch_up"), [(DayOne.REMINDER_1, CatchUp.SEND), (DayOne.BY_AGE, CatchUp.SKIP)])
def test_history_gets_the_choices_catch_up_and_new_invoices_the_policys(choice: DayOne, catch_up: CatchUp) -> None:
    skipping = B2B.model_copy(update={"catch_up": CatchUp.SKIP if catch_up is CatchUp.SEND else CatchUp.SEND})
    choose = day_one_policy(lambda _s: skipping, DayOneSetting(choice, STARTS))
    old = snapshot(due_date=TODAY - timedelta(days=30))
    new = snapshot(due_date=STARTS)
    assert choose(old).catch_up is catch_up, f"{choice.value}: history got catch-up {choose(old).catch_up}"
    assert choose(new).catch_up is skipping.catch_up, f"{choice.value}: a new invoice's policy was changed"


def test_by_age_makes_the_engine_record_passed_levels_without_a_message() -> None:
    old = snapshot(due_date=TODAY - timedelta(days=30), current_level=1, level_reached_on=TODAY - timedelta(days=1))
    for choice, skipped in [(DayOne.BY_AGE, True), (DayOne.REMINDER_1, False)]:
        policy = day_one_policy(lambda _s: B2B, DayOneSetting(choice, STARTS))(old)
        outcome = evaluate_invoice(old, policy, TODAY)
        assert isinstance(outcome, Decision) and outcome.level == 2, f"{choice.value}: {outcome}"
        assert outcome.skipped is skipped, f"{choice.value}: the second reminder skipped={outcome.skipped}"


def test_skip_history_leaves_only_undunned_history_alone() -> None:
    history = snapshot(invoice_ref="OLD", due_date=TODAY - timedelta(days=40))
    started = snapshot(invoice_ref="STARTED", due_date=TODAY - timedelta(days=40), current_level=1)
    new = snapshot(invoice_ref="NEW", due_date=STARTS)
    kept, left = split_history([history, started, new], DayOneSetting(DayOne.SKIP_HISTORY, STARTS))
    assert [s.invoice_ref for s in kept] == ["STARTED", "NEW"], "the wrong invoices were evaluated"
    assert [(n.invoice_ref, n.reason) for n in left] == [("OLD", Reason.BEFORE_START)], left
    assert all(isinstance(n, NonDecision) and n.why.rule == "day_one.skip_history" for n in left)
    kept, left = split_history([history], None)
    assert (len(kept), left) == (1, []), "without a day-one choice everything is evaluated"
