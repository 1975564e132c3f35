"""Risk class from hand-computed payment histories; call outcomes as contact moments with their effects."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from connector import debtors
from connector.errors import NotFound, PermanentError
from connector.storage import repos
from tests.debtors.conftest import World


@pytest.mark.parametrize(
    ("average", "broken", "insolvent", "expected"),
    [
        (None, 0, False, "unknown"),
        (-3, 0, False, "low"),
        (7, 0, False, "low"),
        (8, 0, False, "medium"),
        (30, 0, False, "medium"),
        (31, 0, False, "high"),
        (None, 1, False, "medium"),
        (0, 1, False, "medium"),
        (0, 2, False, "high"),
        (None, 0, True, "high"),
    ],
)
def test_risk_class_thresholds(average: int | None, broken: int, insolvent: bool, expected: str) -> None:
    assert debtors.risk_class(average, broken, insolvent=insolvent) == expected


# debtor -> days late of each fully paid invoice; mean rounded half up: A (5+10)/2 = 7.5 -> 8, B 35, C 1, E 1
HISTORIES = {"A": [5, 10], "B": [40, 30], "C": [0, 2], "D": [], "E": [1, 1]}
EXPECTED = {
    "A": ("medium", 8, 2, 0, 0),
    "B": ("high", 35, 2, 0, 0),
    "C": ("low", 1, 2, 0, 0),
    "D": ("unknown", None, 0, 0, 0),
    "E": ("medium", 1, 2, 0, 1),  # one broken arrangement
    "F": ("high", None, 0, 2, 0),  # two broken promises
}


def test_classify_debtors_on_hand_computed_histories(world: World) -> None:
    w = world
    due = date(2025, 10, 1)
    for ref, lates in HISTORIES.items():
        w.debtor(ref)
        for n, late in enumerate(lates):
            inv = f"{ref}{n}"
            w.invoice(inv, ref, due, "100.00", open_amount="0.00", status="paid")
            w.payment(f"p{inv}", inv, due + timedelta(days=late), "100.00")
    w.payment("pA-part", "A0", due - timedelta(days=20), "1.00")  # an earlier part payment: the last one counts
    # E breaks an arrangement, F breaks two promises
    w.invoice("E9", "E", date(2026, 1, 1), "90.00")
    w.clock.day(date(2026, 1, 5))
    debtors.create_arrangement(w.rt, w.org_id, w.adm_id, "E", ["E9"], installments=2, first_due=date(2026, 1, 10))
    assert debtors.check_arrangements(w.rt, w.org_id, date(2026, 1, 20)).broken != []
    w.debtor("F")
    for n in range(2):
        w.invoice(f"F{n}", "F", date(2026, 1, 1), "50.00")
        debtors.promise_invoice(w.rt, w.org_id, w.adm_id, f"F{n}", date(2026, 1, 6))
    assert debtors.check_promises(w.rt, w.org_id, date(2026, 1, 7)) == (0, 2)

    risks = {r.debtor_ref: r for r in debtors.classify_debtors(w.rt, w.org_id)}
    got = {
        ref: (r.risk_class, r.average_days_late, r.paid_invoices, r.broken_promises, r.broken_arrangements)
        for ref, r in risks.items()
    }
    assert got == EXPECTED
    with w.rt.sessions() as s:
        stored = {ref: d.risk_class for ref, d in repos.get_debtors(s, w.org_id, w.adm_id).items()}
        changes = repos.audit_trail(s, w.org_id, kind="risk_class")
    assert stored == {ref: e[0] for ref, e in EXPECTED.items()}
    assert len(changes) == len(EXPECTED)
    debtors.classify_debtors(w.rt, w.org_id)  # unchanged classes: no new audit entries
    with w.rt.sessions() as s:
        assert len(repos.audit_trail(s, w.org_id, kind="risk_class")) == len(EXPECTED)


def test_call_with_a_promise_records_the_moment_and_pauses_the_debtor(world: World) -> None:
    w = world
    w.debtor("d1")
    w.invoice("i1", "d1", date(2026, 1, 1), "500.00")
    w.clock.day(date(2026, 1, 5))
    moment = debtors.record_call_outcome(
        w.rt, w.org_id, w.adm_id, "d1", "promise_to_pay", reason="financial_trouble", promise_date=date(2026, 1, 12)
    )
    with w.rt.sessions() as s:
        [row] = repos.contact_moments(s, w.org_id, w.adm_id, debtor_ref="d1")
        debtor = repos.get_debtors(s, w.org_id, w.adm_id)["d1"]
    assert (row.id, row.channel, row.outcome, row.reason_code, row.promise_date) == (
        moment,
        "phone",
        "promise_to_pay",
        "financial_trouble",
        date(2026, 1, 12),
    )
    assert debtor.promise_date == date(2026, 1, 12)
    assert w.run(date(2026, 1, 12)).non_decisions.get("promise_pending") == 1


def test_call_with_a_dispute_on_an_invoice_holds_it(world: World) -> None:
    w = world
    w.debtor("d1")
    w.invoice("i1", "d1", date(2026, 1, 1), "500.00")
    w.invoice("i2", "d1", date(2026, 1, 1), "50.00")
    debtors.record_call_outcome(w.rt, w.org_id, w.adm_id, "d1", "dispute", invoice_ref="i1", reason="dissatisfied")
    held, free = w.state("i1"), w.state("i2")
    assert held is not None and held.hold_reason == "dispute" and free is None
    assert [n.invoice_refs for n in w.outbox("note")] == [("i1",)]


def test_already_paid_holds_the_invoice_for_a_week(world: World) -> None:
    w = world
    w.debtor("d1")
    w.invoice("i1", "d1", date(2026, 1, 1), "500.00")
    w.clock.day(date(2026, 1, 5))
    debtors.record_call_outcome(w.rt, w.org_id, w.adm_id, "d1", "already_paid", invoice_ref="i1")
    state = w.state("i1")
    assert state is not None and (state.hold_reason, state.hold_until) == ("payment_claimed", date(2026, 1, 12))


@pytest.mark.parametrize(
    ("outcome", "reason", "promise", "message"),
    [
        ("promise_to_pay", None, None, "promised date"),
        ("no_answer", None, date(2026, 2, 1), "only goes with"),
        ("shouted", None, None, "unknown call outcome"),
        ("no_answer", "lazy", None, "unknown late-payment reason"),
    ],
)
def test_invalid_call_outcomes_are_refused_and_store_nothing(
    world: World, outcome: str, reason: str | None, promise: date | None, message: str
) -> None:
    world.debtor("d1")
    with pytest.raises(PermanentError, match=message):
        debtors.record_call_outcome(
            world.rt, world.org_id, world.adm_id, "d1", outcome, reason=reason, promise_date=promise
        )
    with world.rt.sessions() as s:
        assert repos.contact_moments(s, world.org_id, world.adm_id) == []


def test_refs_resolve_by_number_and_ambiguity_is_refused(world: World) -> None:
    from connector import model
    from connector.storage.db import transaction

    world.debtor("d1")
    world.invoice("i1", "d1", date(2026, 1, 1), "10.00")
    assert debtors.resolve_invoice(world.rt, world.org_id, "2026-i1") == world.adm_id
    assert debtors.resolve_debtor(world.rt, world.org_id, "C-d1") == world.adm_id
    with pytest.raises(NotFound):
        debtors.resolve_invoice(world.rt, world.org_id, "nope")
    with transaction(world.rt.sessions) as s:
        conn = repos.create_connection(s, world.org_id, "xero")
        tenant = model.Tenant(provider_tenant_id="2", name="Second")
        other = repos.upsert_administration(s, world.org_id, conn.id, "xero", tenant)
        inv = model.Invoice(
            provider_ref="i1",
            number="X-1",
            debtor_ref="d9",
            invoice_date=None,
            due_date=date(2026, 1, 1),
            currency="EUR",
            total=Decimal("5.00"),
            open_amount=Decimal("5.00"),
            status=model.InvoiceStatus.OPEN,
            provider_state="open",
        )
        repos.upsert_invoices(s, world.org_id, other.id, [inv], world.clock())
        other_id = other.id
    with pytest.raises(PermanentError, match="--administration"):
        debtors.resolve_invoice(world.rt, world.org_id, "i1")
    assert debtors.resolve_invoice(world.rt, world.org_id, "i1", other_id) == other_id


def test_late_reasons_are_counted_per_month(world: World) -> None:
    w = world
    w.debtor("d1")
    w.debtor("d2")
    calls = [
        (date(2026, 1, 5), "d1", "financial_trouble"),
        (date(2026, 1, 20), "d2", "financial_trouble"),
        (date(2026, 1, 21), "d2", "miscommunication"),
        (date(2026, 2, 2), "d1", "financial_trouble"),
        (date(2026, 2, 3), "d1", None),
    ]
    for day, debtor, reason in calls:
        w.clock.day(day)
        debtors.record_call_outcome(w.rt, w.org_id, w.adm_id, debtor, "call_back", reason=reason)
    debtors.record_contact(
        w.rt, w.org_id, w.adm_id, "d2", channel="email", note="invoice never arrived", reason="miscommunication"
    )
    with pytest.raises(PermanentError, match="channel"):
        debtors.record_contact(w.rt, w.org_id, w.adm_id, "d2", channel="pigeon", note="?")
    assert debtors.late_reasons(w.rt, w.org_id) == [
        {"administration_id": w.adm_id, "month": "2026-01", "reason": "financial_trouble", "count": 2},
        {"administration_id": w.adm_id, "month": "2026-01", "reason": "miscommunication", "count": 1},
        {"administration_id": w.adm_id, "month": "2026-02", "reason": "financial_trouble", "count": 1},
        {"administration_id": w.adm_id, "month": "2026-02", "reason": "miscommunication", "count": 1},
    ]
