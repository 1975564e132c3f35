"""Table-driven engine cases (docs/credit-management.md#acceptance-checks): ladder, holds, guards."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from rules_factories import DUE, level, policy, rates, snapshot

from connector.errors import ConfigurationError
from connector.model import InvoiceStatus
from connector.rules import (
    Arrangement,
    Decision,
    Installment,
    NonDecision,
    Reason,
    RunRefused,
    evaluate,
    evaluate_invoice,
)
from connector.rules.policy import Policy

D = Decimal


def day(offset: int) -> date:
    return DUE + timedelta(days=offset)


def reached(level_: int, offset: int) -> dict[str, Any]:
    return {"current_level": level_, "level_reached_on": day(offset)}


# (case id, snapshot overrides, policy overrides, today offset, expected level or Reason, expected skipped)
LADDER_CASES: list[tuple[str, dict[str, Any], dict[str, Any], int, int | Reason, bool]] = [
    ("before the first level", {}, {}, -4, Reason.NOT_DUE, False),
    ("first level on its day", {}, {}, -3, 0, False),
    ("pre-due level on the due date: still sent", {}, {}, 0, 0, False),
    ("pre-due level after the due date: recorded, not sent", {}, {}, 20, 0, True),
    ("pre-due level lapsed, even in send mode, one level only", {}, {"catch_up": "send"}, 40, 0, True),
    ("next level on its day", reached(0, -3), {}, 3, 1, False),
    ("next level not yet", reached(0, -3), {}, 2, Reason.NOT_DUE, False),
    ("several due: one step only (send)", reached(0, -3), {}, 40, 1, False),
    ("several due: skip the passed one", reached(0, -3), {"catch_up": "skip"}, 40, 1, True),
    ("skip mode but only one due: sent", reached(0, -3), {"catch_up": "skip"}, 5, 1, False),
    ("top level is terminal", reached(3, 28), {}, 90, Reason.TERMINAL, False),
    ("same day twice", reached(1, 3), {}, 3, Reason.ALREADY_TODAY, False),
    ("tolerance: at the threshold", {"open_amount": D("0.10")}, {}, 5, Reason.BELOW_TOLERANCE, False),
    ("tolerance: just above", {"open_amount": D("0.11")}, {}, -3, 0, False),
    (
        "tolerance: custom",
        {"open_amount": D("4.99")},
        {"min_open_amount": {"amount": "5"}},
        5,
        Reason.BELOW_TOLERANCE,
        False,
    ),
    (
        "level from another policy: next higher",
        {"current_level": 7, "level_reached_on": day(0)},
        {},
        40,
        Reason.TERMINAL,
        False,
    ),
]


@pytest.mark.parametrize(
    ("case", "snap", "pol", "today", "expected", "skipped"), LADDER_CASES, ids=[c[0] for c in LADDER_CASES]
)
def test_ladder(
    case: str, snap: dict[str, Any], pol: dict[str, Any], today: int, expected: int | Reason, skipped: bool
) -> None:
    outcome = evaluate_invoice(snapshot(**snap), policy(**pol), day(today))
    if isinstance(expected, Reason):
        assert isinstance(outcome, NonDecision), outcome
        assert outcome.reason is expected
    else:
        assert isinstance(outcome, Decision), outcome
        assert (outcome.level, outcome.skipped) == (expected, skipped)
        assert outcome.from_level == snap.get("current_level")


COMPUTATION_POLICY = [
    level(0, 3),
    level(1, 5, computation="end_of_month"),
    level(2, 7, computation="previous_date"),
    level(3, 60, terminal=True),
]


@pytest.mark.parametrize(
    ("snap", "today", "expected"),
    [
        (reached(0, 3), date(2026, 3, 30), Reason.NOT_DUE),  # end_of_month of due+5 = 31 March
        (reached(0, 3), date(2026, 3, 31), 1),
        ({"current_level": 1, "level_reached_on": date(2026, 4, 2)}, date(2026, 4, 8), Reason.NOT_DUE),
        ({"current_level": 1, "level_reached_on": date(2026, 4, 2)}, date(2026, 4, 9), 2),  # previous + 7
    ],
)
def test_computation_modes(snap: dict[str, Any], today: date, expected: int | Reason) -> None:
    outcome = evaluate_invoice(snapshot(**snap), policy(COMPUTATION_POLICY), today)
    if isinstance(expected, Reason):
        assert isinstance(outcome, NonDecision) and outcome.reason is expected
        assert outcome.next_date is not None and outcome.next_date > today
    else:
        assert isinstance(outcome, Decision) and outcome.level == expected


def test_not_due_reports_the_next_date() -> None:
    outcome = evaluate_invoice(snapshot(**reached(0, -3)), policy(), day(1))
    assert isinstance(outcome, NonDecision) and outcome.next_date == day(3)


HOLD_CASES: list[tuple[str, dict[str, Any], Reason | None]] = [
    ("paid", {"status": InvoiceStatus.PAID}, Reason.PAID),
    ("credited", {"status": InvoiceStatus.CREDITED}, Reason.CREDITED),
    ("voided", {"status": InvoiceStatus.VOIDED}, Reason.VOIDED),
    ("draft", {"status": InvoiceStatus.DRAFT}, Reason.DRAFT),
    ("uncollectible status", {"status": InvoiceStatus.UNCOLLECTIBLE}, Reason.UNCOLLECTIBLE),
    ("zero open", {"open_amount": D("0")}, Reason.PAID),
    ("written off flag", {"uncollectible": True}, Reason.UNCOLLECTIBLE),
    ("handed over", {"handed_over": True}, Reason.HANDED_OVER),
    ("insolvent", {"insolvent": True}, Reason.INSOLVENT),
    ("disputed", {"disputed": True}, Reason.DISPUTED),
    ("on hold", {"on_hold": True, "hold_reason": "called"}, Reason.ON_HOLD),
    ("on hold until tomorrow", {"on_hold": True, "hold_until": day(11)}, Reason.ON_HOLD),
    ("on hold until today", {"on_hold": True, "hold_until": day(10)}, Reason.ON_HOLD),
    ("hold lapsed yesterday", {"on_hold": True, "hold_until": day(9)}, None),
    ("paused at provider", {"paused_at_provider": True}, Reason.PAUSED_AT_PROVIDER),
    ("paused by us (double-chase guard)", {"paused_at_provider": True, "provider_pause_ours": True}, None),
    ("promise today", {"promise_to_pay_date": day(10)}, Reason.PROMISE_PENDING),
    ("promise broken", {"promise_to_pay_date": day(9)}, None),
    (
        "arrangement kept",
        {
            "arrangement": Arrangement(
                installments=[
                    Installment(due_date=day(5), amount=D("500"), paid=True),
                    Installment(due_date=day(35), amount=D("500")),
                ]
            )
        },
        Reason.ARRANGEMENT_ACTIVE,
    ),
    (
        "arrangement instalment within grace",
        {"arrangement": Arrangement(installments=[Installment(due_date=day(8), amount=D("500"))])},
        Reason.ARRANGEMENT_ACTIVE,
    ),
    (
        "arrangement instalment missed",
        {"arrangement": Arrangement(installments=[Installment(due_date=day(6), amount=D("500"))])},
        None,
    ),
    (
        "arrangement completed but open",
        {"arrangement": Arrangement(installments=[Installment(due_date=day(6), amount=D("500"), paid=True)])},
        None,
    ),
]


@pytest.mark.parametrize(("case", "snap", "expected"), HOLD_CASES, ids=[c[0] for c in HOLD_CASES])
def test_holds_suppress_and_resume_at_the_next_level(case: str, snap: dict[str, Any], expected: Reason | None) -> None:
    outcome = evaluate_invoice(snapshot(**reached(0, -3), **snap), policy(), day(10))
    if expected is None:
        assert isinstance(outcome, Decision), outcome
        assert outcome.level == 1  # resume re-enters the ladder at the next level, never skipping
    else:
        assert isinstance(outcome, NonDecision), outcome
        assert outcome.reason is expected
        assert outcome.why.synced_at == snapshot().synced_at


def test_double_chase_guard() -> None:
    snap = snapshot(provider_reminders_active=True)
    theirs = evaluate_invoice(snap, policy(who_chases_when_provider_reminders_on="provider"), day(-3))
    assert isinstance(theirs, NonDecision) and theirs.reason is Reason.PROVIDER_CHASES
    ours = evaluate_invoice(snap, policy(who_chases_when_provider_reminders_on="us"), day(-3))
    assert isinstance(ours, Decision) and ours.needs_provider_pause
    quiet = evaluate_invoice(snapshot(), policy(), day(-3))
    assert isinstance(quiet, Decision) and not quiet.needs_provider_pause


def test_back_dated_run_is_refused_same_day_is_not() -> None:
    with pytest.raises(RunRefused):
        evaluate([snapshot()], lambda s: policy(), day(-3), last_run_date=day(-2))
    result = evaluate([snapshot()], lambda s: policy(), day(-2), last_run_date=day(-2))
    assert len(result.messages) == 1


def test_why_names_rule_inputs_and_sync_time() -> None:
    outcome = evaluate_invoice(snapshot(**reached(0, -3)), policy(), day(3))
    assert isinstance(outcome, Decision)
    assert outcome.why.rule == "ladder.next_level"
    assert outcome.why.inputs["level_date"] == day(3).isoformat()
    assert outcome.why.inputs["due_date"] == DUE.isoformat()
    assert outcome.why.synced_at == snapshot().synced_at


# --- costs and interest on decisions --------------------------------------------------------------------------

COSTS_POLICY = [
    level(0, 3),
    level(1, 28, channel="letter", action="demand_letter", charge_costs=True, charge_interest=True, terminal=True),
]


def _costs_policy(**overrides: Any) -> Policy:
    values: dict[str, Any] = {
        "costs": {"enabled": True, "b2b_mode": "wik"},
        "interest": {"enabled": True, "kind": "commercial"},
    }
    values.update(overrides)
    return policy(COSTS_POLICY, **values)


def test_b2b_demand_charges_wik_and_interest_on_the_current_open_amount() -> None:
    snap = snapshot(**reached(0, 3), open_amount=D("3000.00"))
    outcome = evaluate_invoice(snap, _costs_policy(), day(28), rates=rates())
    assert isinstance(outcome, Decision) and outcome.costs is not None
    assert outcome.costs.fee == D("425.00") and outcome.costs.vat == D("0.00")
    # 27 days [due+1, due+28) at the 1-1-2026 commercial rate 10.15 %
    assert outcome.interest == (D("3000") * D("0.1015") * 27 / 365).quantize(D("0.01"))
    part_paid = evaluate_invoice(
        snap.model_copy(update={"open_amount": D("1000")}), _costs_policy(), day(28), rates=rates()
    )
    assert isinstance(part_paid, Decision) and part_paid.costs is not None and part_paid.costs.fee == D("150.00")


def test_b2b_eu_forty_and_vat_with_both_conditions() -> None:
    vat = {"creditor_can_deduct_vat": False, "collector_charges_vat": True}
    pol = _costs_policy(costs={"enabled": True, "b2b_mode": "eu_fixed_40", **vat})
    outcome = evaluate_invoice(snapshot(**reached(0, 3)), pol, day(28), rates=rates())
    assert isinstance(outcome, Decision) and outcome.costs is not None
    assert (outcome.costs.fee, outcome.costs.vat) == (D("40"), D("8.40"))


def test_interest_without_a_rate_table_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        evaluate_invoice(snapshot(**reached(0, 3)), _costs_policy(), day(28))


def test_non_euro_invoice_gets_no_statutory_costs() -> None:
    outcome = evaluate_invoice(snapshot(**reached(0, 3), currency="USD"), _costs_policy(), day(28), rates=rates())
    assert isinstance(outcome, Decision) and outcome.costs is None and "EUR" in (outcome.costs_withheld or "")


def test_a_changed_due_date_reschedules() -> None:
    # docs/credit-management.md#due-dates-that-change: the due date is re-read on every sync; the next level follows the
    # new date
    moved = snapshot(**reached(0, -3), due_date=DUE + timedelta(days=10))
    outcome = evaluate_invoice(moved, policy(), day(3))
    assert isinstance(outcome, NonDecision) and outcome.reason is Reason.NOT_DUE
    assert outcome.next_date == day(13)
