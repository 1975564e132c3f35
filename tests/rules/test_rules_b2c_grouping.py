"""Consumer costs behind the default and the 14-day letter, the EUR 40 per late business invoice, grouping per
debtor and idempotency."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from rules_factories import DUE, default_policy, level, policy, rates, snapshot

from connector.errors import PolicyError
from connector.model import Segment
from connector.rules import (
    Decision,
    FourteenDayLetterEvidence,
    LetterChannel,
    NonDecision,
    Reason,
    RunContext,
    evaluate,
    evaluate_invoice,
    idempotency_key,
)
from connector.rules.snapshot import InvoiceSnapshot

D = Decimal
LETTER_SENT = date(2026, 3, 31)  # Tuesday; level 4 of the default b2c ladder (due + 30 = 9 April) at the earliest


def _letter(**overrides: Any) -> FourteenDayLetterEvidence:
    """Posted Tue 31 March: presumed received Thu 2 April, term ends Thu 16 April, costs from Fri 17 April."""
    values: dict[str, Any] = {
        "sent_on": LETTER_SENT,
        "channel": LetterChannel.POST,
        "stated_costs": D("150.00"),
        "printed_term_ends": date(2026, 4, 16),
        "text_counts_from_receipt": True,
    }
    values.update(overrides)
    return FourteenDayLetterEvidence(**values)


def _after_letter(**overrides: Any) -> InvoiceSnapshot:
    """A consumer with a fatal payment term (in default from 11 March) whose 14-day letter went out."""
    values: dict[str, Any] = {
        "segment": Segment.B2C,
        "default_needs_notice": False,
        "current_level": 4,
        "level_reached_on": LETTER_SENT,
        "fourteen_day_letter": _letter(),
    }
    values.update(overrides)
    return snapshot(**values)


@pytest.mark.parametrize(
    ("today", "reason"),
    [
        (date(2026, 4, 14), Reason.NOT_DUE),  # previous_date + 15 = 15 April
        (date(2026, 4, 15), Reason.FOURTEEN_DAY_TERM),  # posted Tue 31 Mar -> received Thu 2 Apr -> costs 17 Apr
        (date(2026, 4, 16), Reason.FOURTEEN_DAY_TERM),
    ],
)
def test_b2c_costs_level_waits_for_the_day_after_the_term(today: date, reason: Reason) -> None:
    outcome = evaluate_invoice(_after_letter(), default_policy("b2c"), today, rates=rates())
    assert isinstance(outcome, NonDecision) and outcome.reason is reason, outcome
    if reason is Reason.FOURTEEN_DAY_TERM:
        assert outcome.next_date == date(2026, 4, 17)


def test_b2c_costs_from_the_day_after_the_term() -> None:
    outcome = evaluate_invoice(_after_letter(), default_policy("b2c"), date(2026, 4, 17), rates=rates())
    assert isinstance(outcome, Decision) and outcome.level == 5
    assert outcome.costs is not None and outcome.costs.total == D("150.00")
    # consumer interest [11 Mar, 17 Apr) = 37 days at 4 % (1-1-2026, art. 6:119 BW) from the default
    assert outcome.interest == D("4.05")


def test_b2c_without_a_letter_on_record_moves_on_without_costs() -> None:
    outcome = evaluate_invoice(
        _after_letter(fourteen_day_letter=None), default_policy("b2c"), date(2026, 4, 20), rates=rates()
    )
    assert isinstance(outcome, Decision) and outcome.level == 5
    assert outcome.costs is None and "no 14-day letter on record" in (outcome.costs_withheld or "")


@pytest.mark.parametrize(
    ("letter", "defect"),
    [
        (_letter(stated_costs=None), "does not state the amount"),
        (_letter(text_counts_from_receipt=False), "does not count the 14 days"),
        (_letter(sent_on=DUE), "before the debtor was in default"),
        (_letter(received_on=date(2026, 4, 7)), "later than it assumed"),  # late receipt: printed 16 Apr < 21 Apr
    ],
)
def test_a_defective_letter_charges_nothing_and_a_new_letter_is_proposed(
    letter: FourteenDayLetterEvidence, defect: str
) -> None:
    policy_ = default_policy("b2c")
    sent = _after_letter(fourteen_day_letter=letter, level_reached_on=letter.sent_on)
    outcome = evaluate_invoice(sent, policy_, date(2026, 4, 20), rates=rates())
    assert isinstance(outcome, Decision), outcome
    assert (outcome.level, outcome.action.value) == (4, "fourteen_day_letter"), "not a new 14-day letter"
    assert outcome.requires_approval, "a new letter is proposed to a person, not sent by itself"
    assert outcome.costs is None and outcome.letter_costs is not None
    assert defect in outcome.why.inputs["defect"]
    # the next day the proposal waits for its approval; no second proposal
    proposed = _after_letter(fourteen_day_letter=letter, level_reached_on=date(2026, 4, 20))
    again = evaluate_invoice(proposed, policy_, date(2026, 4, 21), rates=rates())
    assert isinstance(again, NonDecision) and again.reason is Reason.NEW_LETTER_PROPOSED


def test_a_letter_waiting_for_the_post_holds_the_costs_level() -> None:
    waiting = _after_letter(fourteen_day_letter=_letter(sent_on=None))
    outcome = evaluate_invoice(waiting, default_policy("b2c"), date(2026, 5, 20), rates=rates())
    assert isinstance(outcome, NonDecision) and outcome.reason is Reason.LETTER_NOT_POSTED


@pytest.mark.parametrize(
    ("open_amount", "stated", "total"),
    [("1200", "180.00", "180.00"), ("700", "180.00", "105.00"), ("1200", "100.00", "100.00")],
)
def test_b2c_recomputes_on_part_payment_and_never_exceeds_the_letter(open_amount: str, stated: str, total: str) -> None:
    snap = _after_letter(open_amount=D(open_amount), fourteen_day_letter=_letter(stated_costs=D(stated)))
    outcome = evaluate_invoice(snap, default_policy("b2c"), date(2026, 4, 17), rates=rates())
    assert isinstance(outcome, Decision) and outcome.costs is not None
    assert outcome.costs.total == D(total)


# --- when default starts -----------------------------------------------------------------------------------------


def _before_letter(**overrides: Any) -> InvoiceSnapshot:
    values: dict[str, Any] = {"segment": Segment.B2C, "current_level": 3, "level_reached_on": DUE + timedelta(days=17)}
    values.update(overrides)
    return snapshot(**values)


@pytest.mark.parametrize(
    ("overrides", "today", "outcome", "default_since"),
    [
        # fatal term: in default from the day after the due date; the letter goes on its level's day
        ({"default_needs_notice": False}, DUE + timedelta(days=30), "letter", date(2026, 3, 11)),
        # notice needed, none sent: no default, no letter
        ({}, DUE + timedelta(days=30), Reason.NOT_IN_DEFAULT, None),
        # notice e-mailed Tue 24 March: received Wed 25, term ends Wed 8 April, default from Thu 9 April
        ({"notice_of_default_on": date(2026, 3, 24)}, date(2026, 4, 9), "letter", date(2026, 4, 9)),
        # notice e-mailed Fri 27 March: received Sat 28, +14 is Sat 11 April, term ends Mon 13, default from Tue 14
        ({"notice_of_default_on": date(2026, 3, 27)}, date(2026, 4, 13), Reason.NOT_IN_DEFAULT, date(2026, 4, 14)),
        ({"notice_of_default_on": date(2026, 3, 27)}, date(2026, 4, 14), "letter", date(2026, 4, 14)),
    ],
)
def test_the_fourteen_day_letter_follows_the_default(
    overrides: dict[str, Any], today: date, outcome: Any, default_since: date | None
) -> None:
    result = evaluate_invoice(_before_letter(**overrides), default_policy("b2c"), today, rates=rates())
    if outcome == "letter":
        assert isinstance(result, Decision) and result.action.value == "fourteen_day_letter", result
        assert result.default_since == default_since
    else:
        assert isinstance(result, NonDecision) and result.reason is outcome, result
        assert result.next_date == default_since


def test_consumer_interest_runs_from_the_default_not_the_due_date() -> None:
    notice = _after_letter(default_needs_notice=None, notice_of_default_on=date(2026, 3, 24), fourteen_day_letter=None)
    fatal = _after_letter(fourteen_day_letter=None)
    on = date(2026, 5, 9)
    with_notice = evaluate_invoice(notice, default_policy("b2c"), on, rates=rates())
    with_fatal_term = evaluate_invoice(fatal, default_policy("b2c"), on, rates=rates())
    assert isinstance(with_notice, Decision) and isinstance(with_fatal_term, Decision)
    assert with_notice.interest == D("3.29"), "4 % on 1,000 from 9 April: 30 days"
    assert with_fatal_term.interest == D("6.47"), "4 % on 1,000 from 11 March: 59 days"


def test_the_notice_of_default_is_marked_only_where_a_notice_is_needed() -> None:
    at_notice = snapshot(segment=Segment.B2C, current_level=1, level_reached_on=DUE + timedelta(days=3))
    needed = evaluate_invoice(at_notice, default_policy("b2c"), DUE + timedelta(days=14), rates=rates())
    fatal = evaluate_invoice(
        at_notice.model_copy(update={"default_needs_notice": False}),
        default_policy("b2c"),
        DUE + timedelta(days=14),
        rates=rates(),
    )
    assert isinstance(needed, Decision) and needed.notice_term_days == 14
    assert isinstance(fatal, Decision) and fatal.notice_term_days is None


def test_unknown_debtor_type_gets_consumer_rules_even_under_a_b2b_policy() -> None:
    b2b = default_policy("b2b")
    demand = next(lv for lv in b2b.levels if lv.charge_costs)
    before = b2b.levels[b2b.level_index(demand.level) - 1]  # type: ignore[operator]
    snap = snapshot(segment=None, current_level=before.level, level_reached_on=DUE + timedelta(days=20))
    outcome = evaluate_invoice(snap, b2b, DUE + timedelta(days=demand.days), rates=rates())
    assert isinstance(outcome, Decision) and outcome.costs is None
    # consumer rules: no fatal term recorded, so a notice of default is needed first (the b2b ladder has none)
    assert "not yet in default" in (outcome.costs_withheld or "")
    business = evaluate_invoice(
        snap.model_copy(update={"segment": Segment.B2B}), b2b, DUE + timedelta(days=demand.days), rates=rates()
    )
    assert isinstance(business, Decision) and business.costs is not None and business.costs.fee == D("150.00")


def test_b2b_forty_euro_from_the_day_after_the_due_date_without_a_letter() -> None:
    pol = policy([level(0, 1, charge_costs=True, terminal=True)], costs={"enabled": True, "b2b_mode": "eu_fixed_40"})
    on_due = evaluate_invoice(snapshot(), pol, DUE)
    assert isinstance(on_due, NonDecision) and on_due.reason is Reason.NOT_DUE
    outcome = evaluate_invoice(snapshot(), pol, DUE + timedelta(days=1))
    assert isinstance(outcome, Decision) and outcome.costs is not None and outcome.costs.total == D("40")


# --- grouping and idempotency ---------------------------------------------------------------------------------


def _run(snaps: list[InvoiceSnapshot], today: date, **pol: Any) -> Any:
    chosen = policy(**pol)
    return evaluate(snaps, lambda s: chosen, today, run_context=RunContext(connection_id="conn-1", rates=rates()))


def test_two_invoices_of_one_debtor_at_one_level_make_one_message() -> None:
    snaps = [snapshot(invoice_ref="B"), snapshot(invoice_ref="A", open_amount=D("250"))]
    result = _run(snaps, DUE - timedelta(days=3))
    assert len(result.messages) == 1
    message = result.messages[0]
    assert message.invoice_refs == ("A", "B") and message.open_amount == D("1250.00")
    assert message.idempotency_key == idempotency_key("conn-1", "ADM-1", "D-1", ["B", "A"], 0, DUE - timedelta(3))


@pytest.mark.parametrize(("segment", "fee"), [(Segment.B2B, "200.00"), (Segment.B2C, "75.00")])
def test_five_invoices_of_100_in_one_message(segment: Segment, fee: str) -> None:
    """Five late invoices of EUR 100: a business owes EUR 40 per invoice (EUR 200); a consumer the scale on EUR 500."""
    pol = {"levels": [level(0, 5, charge_costs=True, terminal=True)], "costs": {"enabled": True}}
    snaps = [snapshot(invoice_ref=f"I{i}", open_amount=D("100"), segment=segment) for i in range(5)]
    if segment is Segment.B2C:
        letter = _letter(sent_on=DUE + timedelta(days=1), printed_term_ends=DUE + timedelta(days=17))
        snaps = [s.model_copy(update={"default_needs_notice": False, "fourteen_day_letter": letter}) for s in snaps]
    result = _run(snaps, DUE + timedelta(days=30), **pol)
    (message,) = result.messages
    assert message.costs is not None and message.costs.fee == D(fee)
    assert all(d.costs is not None and d.costs.fee == D("40.00") for d in message.decisions)


def test_separate_debtors_and_currencies_get_separate_messages() -> None:
    snaps = [
        snapshot(invoice_ref="1"),
        snapshot(invoice_ref="2", debtor_ref="D-2"),
        snapshot(invoice_ref="3", currency="USD"),
    ]
    assert len(_run(snaps, DUE - timedelta(days=3)).messages) == 3


def test_interval_holds_back_messages_to_a_recently_contacted_debtor() -> None:
    last = DUE - timedelta(days=5)
    snaps = [
        snapshot(invoice_ref="1", last_message_to_debtor_on=last),
        snapshot(invoice_ref="2", last_message_to_debtor_on=last),
    ]
    result = _run(snaps, DUE - timedelta(days=3), min_days_between_messages=5)
    assert result.messages == ()
    assert {n.reason for n in result.non_decisions} == {Reason.INTERVAL}
    assert all(n.next_date == DUE for n in result.non_decisions)
    later = _run(snaps, DUE, min_days_between_messages=5)
    assert len(later.messages) == 1


def test_one_message_per_debtor_per_run_when_an_interval_is_set() -> None:
    # "new" is still two days before its own due date, so its pre-due notice (level 0) is due and sendable
    new = snapshot(invoice_ref="new", due_date=DUE + timedelta(days=5))
    snaps = [new, snapshot(invoice_ref="old", current_level=0, level_reached_on=DUE)]
    result = _run(snaps, DUE + timedelta(days=3), min_days_between_messages=5)
    assert [(m.level, m.invoice_refs) for m in result.messages] == [(1, ("old",))]  # most escalated first
    (held,) = result.non_decisions
    assert (held.invoice_ref, held.reason) == ("new", Reason.INTERVAL)
    no_interval = _run(snaps, DUE + timedelta(days=3), min_days_between_messages=0)
    assert sorted(m.level for m in no_interval.messages) == [0, 1]


def test_phone_tasks_are_not_held_by_the_interval() -> None:
    levels = [level(0, 1, channel="phone", action="phone_task"), level(1, 10, terminal=True)]
    snaps = [snapshot(last_message_to_debtor_on=DUE)]
    result = _run(snaps, DUE + timedelta(days=1), levels=levels, min_days_between_messages=5)
    assert len(result.messages) == 1 and result.messages[0].channel.value == "phone"


def test_catch_up_skips_are_reported_apart_from_messages() -> None:
    snaps = [snapshot()]
    result = _run(snaps, DUE + timedelta(days=20), catch_up="skip")
    assert result.messages == () and [d.level for d in result.skipped] == [0]
    assert result.decisions == result.skipped


def test_no_policy_becomes_a_non_decision() -> None:
    def no_policy(snap: InvoiceSnapshot) -> Any:
        raise PolicyError("unknown policy override 'x'")

    result = evaluate([snapshot()], no_policy, DUE)
    assert [n.reason for n in result.non_decisions] == [Reason.NO_POLICY]


def test_idempotency_key_is_deterministic_and_specific() -> None:
    base = idempotency_key("c", "a", "d", ["1", "2"], 1, DUE)
    assert len(base) == 64 and int(base, 16) >= 0
    assert base == idempotency_key("c", "a", "d", ["2", "1"], 1, DUE)
    others = {
        idempotency_key("c2", "a", "d", ["1", "2"], 1, DUE),
        idempotency_key("c", "a2", "d", ["1", "2"], 1, DUE),
        idempotency_key("c", "a", "d2", ["1", "2"], 1, DUE),
        idempotency_key("c", "a", "d", ["1"], 1, DUE),
        idempotency_key("c", "a", "d", ["1", "2"], 2, DUE),
        idempotency_key("c", "a", "d", ["1", "2"], 1, DUE + timedelta(days=1)),
    }
    assert base not in others and len(others) == 6


def test_the_fourteen_day_letter_decision_carries_the_amount_to_state() -> None:
    snap = _before_letter(default_needs_notice=False, open_amount=D("1234.56"))
    outcome = evaluate_invoice(snap, default_policy("b2c"), DUE + timedelta(days=30), rates=rates())
    assert isinstance(outcome, Decision) and outcome.action.value == "fourteen_day_letter"
    assert outcome.letter_costs is not None and outcome.letter_costs.total == D("185.18")
    assert outcome.costs is None  # the letter itself charges nothing


def test_results_serialise_to_json_for_the_outbox() -> None:
    result = _run(
        [snapshot(invoice_ref="1"), snapshot(invoice_ref="2")],
        DUE + timedelta(days=5),
        levels=[level(0, 5, charge_costs=True, terminal=True)],
        costs={"enabled": True},
    )
    dumped = result.model_dump(mode="json")
    message = dumped["messages"][0]
    assert message["costs"]["fee"] == "300.00" and message["invoice_refs"] == ["1", "2"]
    assert message["decisions"][0]["why"]["synced_at"].startswith("2026-03-01T06:00:00")
