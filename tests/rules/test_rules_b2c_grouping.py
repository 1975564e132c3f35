"""Consumer costs behind the 14-day letter (L2, L6), B2B EUR 40 (L3), grouping per debtor and idempotency (U6)."""

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
LETTER_SENT = date(2026, 3, 31)  # level 4 of the default b2c ladder: due + 21


def _letter(**overrides: Any) -> FourteenDayLetterEvidence:
    values: dict[str, Any] = {"sent_on": LETTER_SENT, "channel": LetterChannel.POST, "stated_costs": D("150.00")}
    values.update(overrides)
    return FourteenDayLetterEvidence(**values)


def _after_letter(**overrides: Any) -> InvoiceSnapshot:
    values: dict[str, Any] = {
        "segment": Segment.B2C,
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
def test_b2c_costs_level_waits_for_day_15_after_receipt(today: date, reason: Reason) -> None:
    outcome = evaluate_invoice(_after_letter(), default_policy("b2c"), today, rates=rates())
    assert isinstance(outcome, NonDecision) and outcome.reason is reason
    if reason is Reason.FOURTEEN_DAY_TERM:
        assert outcome.next_date == date(2026, 4, 17)


def test_b2c_costs_from_day_15_after_receipt() -> None:
    outcome = evaluate_invoice(_after_letter(), default_policy("b2c"), date(2026, 4, 17), rates=rates())
    assert isinstance(outcome, Decision) and outcome.level == 5
    assert outcome.costs is not None and outcome.costs.total == D("150.00")
    # consumer interest [11 Mar, 17 Apr) = 37 days at 4 % (1-1-2026, art. 6:119 BW)
    assert outcome.interest == D("4.05")


@pytest.mark.parametrize(
    ("overrides", "withheld"),
    [
        ({"fourteen_day_letter": None}, "no 14-day letter evidence"),
        ({"fourteen_day_letter": _letter(stated_costs=None)}, "does not state the cost amount"),
        ({"fourteen_day_letter": _letter(term_from_receipt=False)}, "from its own date"),
        ({"fourteen_day_letter": _letter(sent_on=DUE)}, "before the debtor was in default"),
    ],
)
def test_b2c_without_a_compliant_letter_moves_on_without_costs(overrides: dict[str, Any], withheld: str) -> None:
    outcome = evaluate_invoice(_after_letter(**overrides), default_policy("b2c"), date(2026, 4, 20), rates=rates())
    assert isinstance(outcome, Decision) and outcome.level == 5
    assert outcome.costs is None and withheld in (outcome.costs_withheld or "")


@pytest.mark.parametrize(
    ("open_amount", "stated", "total"),
    [("1200", "180.00", "180.00"), ("700", "180.00", "105.00"), ("1200", "100.00", "100.00")],
)
def test_b2c_recomputes_on_part_payment_and_never_exceeds_the_letter(open_amount: str, stated: str, total: str) -> None:
    snap = _after_letter(open_amount=D(open_amount), fourteen_day_letter=_letter(stated_costs=D(stated)))
    outcome = evaluate_invoice(snap, default_policy("b2c"), date(2026, 4, 17), rates=rates())
    assert isinstance(outcome, Decision) and outcome.costs is not None
    assert outcome.costs.total == D(total)


def test_unknown_debtor_type_gets_consumer_rules_even_under_a_b2b_policy() -> None:
    b2b = default_policy("b2b")
    demand = next(lv for lv in b2b.levels if lv.charge_costs)
    before = b2b.levels[b2b.level_index(demand.level) - 1]  # type: ignore[operator]
    snap = snapshot(segment=None, current_level=before.level, level_reached_on=DUE + timedelta(days=20))
    outcome = evaluate_invoice(snap, b2b, DUE + timedelta(days=demand.days), rates=rates())
    assert isinstance(outcome, Decision) and outcome.costs is None
    assert "14-day letter" in (outcome.costs_withheld or "")
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


def test_combined_costs_use_the_total_principal() -> None:
    pol = {"levels": [level(0, 5, charge_costs=True, terminal=True)], "costs": {"enabled": True}}
    snaps = [snapshot(invoice_ref=f"I{i}", open_amount=D("100")) for i in range(5)]
    result = _run(snaps, DUE + timedelta(days=5), **pol)
    (message,) = result.messages
    assert message.costs is not None and message.costs.fee == D("75.00")
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
    snap = snapshot(
        segment=Segment.B2C, current_level=3, level_reached_on=DUE + timedelta(days=17), open_amount=D("1234.56")
    )
    outcome = evaluate_invoice(snap, default_policy("b2c"), LETTER_SENT, rates=rates())
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
