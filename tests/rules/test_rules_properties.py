"""Hypothesis invariants of the engine and the law."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from rules_factories import DUE, default_policy, level, policy, rates, snapshot

from connector.model import InvoiceStatus, Segment
from connector.rules import (
    Action,
    Decision,
    FourteenDayLetterEvidence,
    InvoiceSnapshot,
    LetterChannel,
    Policy,
    Reason,
    RunContext,
    evaluate,
    evaluate_invoice,
    wik_fee,
)
from connector.rules.law import WIK_MAXIMUM, CostBasis, compute_costs
from connector.rules.letter import letter_dates

D = Decimal
RATES = rates()
CONTEXT = RunContext(connection_id="c", rates=RATES)
POLICIES: list[Policy] = [
    default_policy("b2b"),
    default_policy("b2c"),
    policy(catch_up="skip"),
    policy(
        [
            level(0, 2),
            level(1, 5, computation="end_of_month"),
            level(2, 4, computation="previous_date"),
            level(3, 60, terminal=True),
        ],
        min_days_between_messages=3,
    ),
]

amounts = st.decimals(min_value=D("0.00"), max_value=D("2000000"), places=2)
segments = st.sampled_from([Segment.B2B, Segment.B2C, None])


def _index(pol: Policy, current: int | None) -> int:
    return -1 if current is None else next(i for i, lv in enumerate(pol.levels) if lv.level == current)


def _apply(snap: InvoiceSnapshot, decision: Decision, today: date) -> InvoiceSnapshot:
    update: dict[str, Any] = {"current_level": decision.level, "level_reached_on": today}
    if decision.sends_message:
        update["last_message_to_debtor_on"] = today
    if decision.notice_term_days is not None:
        update["notice_of_default_on"] = today
    if decision.action is Action.FOURTEEN_DAY_LETTER:
        stated = compute_costs(snap.open_amount, CostBasis.WIK).total
        update["fourteen_day_letter"] = FourteenDayLetterEvidence(
            sent_on=today,
            channel=LetterChannel.EMAIL,
            stated_costs=stated,
            printed_term_ends=letter_dates(today, LetterChannel.EMAIL).term_ends,
            text_counts_from_receipt=True,
        )
    return snap.model_copy(update=update)


@settings(max_examples=150, deadline=None)
@given(
    pol_index=st.integers(min_value=0, max_value=len(POLICIES) - 1),
    open_amount=amounts,
    segment=segments,
    start=st.integers(min_value=-10, max_value=30),
    gaps=st.lists(st.integers(min_value=0, max_value=25), min_size=1, max_size=20),
    provider_on=st.booleans(),
)
def test_runs_over_time_move_one_level_at_a_time_and_are_idempotent(
    pol_index: int, open_amount: Decimal, segment: Segment | None, start: int, gaps: list[int], provider_on: bool
) -> None:
    pol = POLICIES[pol_index]
    snap = snapshot(open_amount=open_amount, segment=segment, provider_reminders_active=provider_on)
    today = DUE + timedelta(days=start)
    last_run: date | None = None
    for gap in gaps:
        today += timedelta(days=gap)
        result = evaluate([snap], lambda s: pol, today, last_run_date=last_run, run_context=CONTEXT)
        again = evaluate([snap], lambda s: pol, today, last_run_date=last_run, run_context=CONTEXT)
        assert result == again  # deterministic
        assert len(result.decisions) <= 1  # one invoice: at most one level per run
        for decision in result.decisions:
            before = _index(pol, snap.current_level)
            assert _index(pol, decision.level) == before + 1  # up by exactly one: never down, never skipped
            if decision.costs is not None:
                assert decision.costs.fee <= WIK_MAXIMUM
            snap = _apply(snap, decision, today)
            same_day = evaluate([snap], lambda s: pol, today, last_run_date=today, run_context=CONTEXT)
            assert same_day.decisions == ()  # same-day evaluation is idempotent
        if open_amount <= pol.min_open_amount.amount:
            assert result.decisions == ()
        last_run = today


HOLDS: list[dict[str, Any]] = [
    {"status": InvoiceStatus.PAID},
    {"status": InvoiceStatus.CREDITED},
    {"status": InvoiceStatus.VOIDED},
    {"status": InvoiceStatus.DRAFT},
    {"status": InvoiceStatus.UNCOLLECTIBLE},
    {"open_amount": D("0")},
    {"disputed": True},
    {"on_hold": True},
    {"insolvent": True},
    {"handed_over": True},
    {"uncollectible": True},
    {"paused_at_provider": True},
    {"promise_to_pay_date": date(2100, 1, 1)},
    {"open_amount": D("0.05")},
]


@settings(max_examples=200, deadline=None)
@given(
    pol_index=st.integers(min_value=0, max_value=len(POLICIES) - 1),
    hold=st.sampled_from(HOLDS),
    current=st.sampled_from([None, 0, 1, 2]),
    offset=st.integers(min_value=-30, max_value=400),
    segment=segments,
)
def test_paid_or_held_invoice_never_gets_a_decision(
    pol_index: int, hold: dict[str, Any], current: int | None, offset: int, segment: Segment | None
) -> None:
    reached = {} if current is None else {"current_level": current, "level_reached_on": DUE - timedelta(days=40)}
    snap = snapshot(segment=segment, **reached, **hold)
    outcome = evaluate_invoice(snap, POLICIES[pol_index], DUE + timedelta(days=offset), rates=RATES)
    assert not isinstance(outcome, Decision)
    assert outcome.reason is not Reason.NOT_DUE or "open_amount" not in hold


@given(a=amounts, b=amounts)
def test_wik_is_bounded_and_monotone(a: Decimal, b: Decimal) -> None:
    low, high = sorted((a, b))
    assert wik_fee(low) <= wik_fee(high) <= WIK_MAXIMUM
    if low > 0:
        assert wik_fee(low) >= D("40")
    with_vat = compute_costs(high, CostBasis.WIK, charge_vat=True)
    assert with_vat.total <= D("8197.75")
