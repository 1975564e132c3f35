"""Debtor management wired into the dunning run: holds, promises, arrangements, 14-day letters, hand-over."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from connector import debtors
from connector.errors import PermanentError
from connector.storage import repos
from tests.debtors.conftest import World

DUE = date(2026, 1, 1)


def test_a_held_invoice_gets_no_decision_and_a_note_then_resumes_after_release(any_world: World) -> None:
    w = any_world
    w.debtor("d1")
    w.invoice("i1", "d1", DUE, "500.00")
    w.clock.day(date(2026, 1, 5))
    assert debtors.hold_invoice(w.rt, w.org_id, w.adm_id, "i1", "dispute") is True
    assert debtors.hold_invoice(w.rt, w.org_id, w.adm_id, "i1", "dispute") is False  # same hold: nothing new

    report = w.run(date(2026, 1, 5))
    assert report.decisions == 0 and report.non_decisions.get("on_hold") == 1
    notes = w.outbox("note")
    assert [(n.invoice_refs, n.status, "dispute" in (n.payload.text or "")) for n in notes] == [
        (("i1",), "pending", True)
    ]
    state = w.state("i1")
    assert state is not None and state.level is None

    assert debtors.release_invoice(w.rt, w.org_id, w.adm_id, "i1") is True
    assert debtors.release_invoice(w.rt, w.org_id, w.adm_id, "i1") is False
    assert len(w.outbox("note")) == 2 and len({n.idempotency_key for n in w.outbox("note")}) == 2
    report = w.run(date(2026, 1, 6))
    assert report.decisions >= 1 and "on_hold" not in report.non_decisions
    state = w.state("i1")
    assert state is not None and state.level is not None


def test_a_second_hold_after_a_release_is_a_new_note(world: World) -> None:
    world.debtor("d1")
    world.invoice("i1", "d1", DUE, "500.00")
    for _ in range(2):
        debtors.hold_invoice(world.rt, world.org_id, world.adm_id, "i1", "complaint")
        debtors.release_invoice(world.rt, world.org_id, world.adm_id, "i1")
    assert len({n.idempotency_key for n in world.outbox("note")}) == 4


def test_unknown_hold_reason_is_refused(world: World) -> None:
    world.debtor("d1")
    world.invoice("i1", "d1", DUE, "500.00")
    with pytest.raises(PermanentError, match="dispute"):
        debtors.hold_invoice(world.rt, world.org_id, world.adm_id, "i1", "because")
    assert world.outbox() == []


def test_debtor_hold_with_an_end_date_lapses_and_is_released_with_a_note(world: World) -> None:
    w = world
    w.debtor("d1")
    w.invoice("i1", "d1", DUE, "500.00")
    w.invoice("i2", "d1", DUE, "100.00")
    w.clock.day(date(2026, 1, 5))
    debtors.hold_debtor(w.rt, w.org_id, w.adm_id, "d1", "talk_first", until=date(2026, 1, 9))
    assert w.run(date(2026, 1, 9)).non_decisions.get("on_hold") == 2
    assert debtors.expire_holds(w.rt, w.org_id, date(2026, 1, 9)) == 0  # the 9th is still inside the hold
    assert debtors.expire_holds(w.rt, w.org_id, date(2026, 1, 10)) == 1
    assert [n.payload.kind for n in w.outbox("note")] == ["debtor_hold", "debtor_release"]
    assert sorted(w.outbox("note")[0].invoice_refs) == ["i1", "i2"]
    assert "on_hold" not in w.run(date(2026, 1, 10)).non_decisions


@pytest.mark.parametrize(
    ("run_on", "paused"),
    [(date(2026, 1, 5), True), (date(2026, 1, 10), True), (date(2026, 1, 11), False)],
)
def test_a_promise_pauses_through_its_date_then_the_ladder_resumes(world: World, run_on: date, paused: bool) -> None:
    world.debtor("d1")
    world.invoice("i1", "d1", DUE, "500.00")
    world.clock.day(date(2026, 1, 5))
    debtors.promise_invoice(world.rt, world.org_id, world.adm_id, "i1", date(2026, 1, 10))
    report = world.run(run_on)
    assert (report.non_decisions.get("promise_pending") == 1) is paused
    assert (report.decisions == 0) is paused


def test_a_promise_in_the_past_is_refused(world: World) -> None:
    world.debtor("d1")
    world.invoice("i1", "d1", DUE, "500.00")
    world.clock.day(date(2026, 1, 5))
    with pytest.raises(PermanentError, match="past"):
        debtors.promise_invoice(world.rt, world.org_id, world.adm_id, "i1", date(2026, 1, 4))


def test_a_broken_promise_is_counted_and_cleared(world: World) -> None:
    world.debtor("d1")
    world.invoice("i1", "d1", DUE, "500.00")
    world.invoice("i2", "d1", DUE, "80.00")
    world.clock.day(date(2026, 1, 5))
    debtors.promise_invoice(world.rt, world.org_id, world.adm_id, "i1", date(2026, 1, 10))
    debtors.promise_invoice(world.rt, world.org_id, world.adm_id, "i2", date(2026, 1, 10))
    world.invoice("i2", "d1", DUE, "80.00", open_amount="0.00", status="paid")  # i2 paid in time
    assert debtors.check_promises(world.rt, world.org_id, date(2026, 1, 10)) == (0, 0)
    assert debtors.check_promises(world.rt, world.org_id, date(2026, 1, 11)) == (1, 1)
    state = world.state("i1")
    assert state is not None and state.promise_date is None
    with world.rt.sessions() as s:
        assert repos.audit_counts(s, world.org_id, world.adm_id, "promise_broken") == {"d1": 1}


def _arrangement(w: World) -> int:
    w.debtor("d1")
    w.invoice("a1", "d1", DUE, "300.00")
    w.invoice("a2", "d1", DUE, "200.00")
    w.clock.day(date(2026, 1, 5))
    return debtors.create_arrangement(
        w.rt, w.org_id, w.adm_id, "d1", ["a1", "a2"], installments=3, first_due=date(2026, 1, 15), every_days=30
    )


def test_an_arrangement_pauses_the_ladder_and_a_missed_installment_beyond_grace_breaks_it(world: World) -> None:
    w = world
    plan = _arrangement(w)
    [listed] = debtors.list_arrangements(w.rt, w.org_id)
    assert [(i["due_date"], i["amount"]) for i in listed["installments"]] == [
        ("2026-01-15", "166.66"),
        ("2026-02-14", "166.66"),
        ("2026-03-16", "166.68"),
    ]
    assert w.run(date(2026, 1, 5)).non_decisions.get("arrangement_active") == 2
    assert debtors.pay_installment(w.rt, w.org_id, plan, 1, paid_on=date(2026, 1, 15)) == "active"
    # installment 2 is due 14 Feb; grace 3 days (policy): still kept on the 17th
    assert w.run(date(2026, 2, 17)).non_decisions.get("arrangement_active") == 2
    assert debtors.check_arrangements(w.rt, w.org_id, date(2026, 2, 17)).broken == []
    check = debtors.check_arrangements(w.rt, w.org_id, date(2026, 2, 18))
    assert check.broken == [plan]
    assert debtors.list_arrangements(w.rt, w.org_id)[0]["status"] == "broken"
    assert [n.payload.kind for n in w.outbox("note")] == ["arrangement", "arrangement_broken"]
    report = w.run(date(2026, 2, 18))
    assert "arrangement_active" not in report.non_decisions and report.decisions == 2
    assert {s.level for s in (w.state("a1"), w.state("a2")) if s} != {None}


def test_payments_pay_installments_in_order_and_complete_the_arrangement(world: World) -> None:
    w = world
    plan = _arrangement(w)
    w.payment("p1", "a1", date(2026, 1, 14), "166.66")
    w.payment("p0", "a1", date(2026, 1, 2), "50.00")  # before the agreement: not an installment
    check = debtors.check_arrangements(w.rt, w.org_id, date(2026, 1, 20))
    assert (check.installments_paid, check.completed, check.broken) == (1, [], [])
    installments = debtors.list_arrangements(w.rt, w.org_id)[0]["installments"]
    assert [(i["paid"], i["paid_on"]) for i in installments] == [(True, "2026-01-14"), (False, None), (False, None)]
    w.invoice("a1", "d1", DUE, "300.00", open_amount="0.00", status="paid")
    w.invoice("a2", "d1", DUE, "200.00", open_amount="0.00", status="paid")
    assert debtors.check_arrangements(w.rt, w.org_id, date(2026, 2, 1)).completed == [plan]
    assert debtors.list_arrangements(w.rt, w.org_id, status="completed")[0]["id"] == plan


def test_an_arrangement_over_another_debtors_invoice_is_refused(world: World) -> None:
    world.debtor("d1")
    world.debtor("d2")
    world.invoice("x1", "d2", DUE, "100.00")
    with pytest.raises(PermanentError, match="another debtor"):
        debtors.create_arrangement(
            world.rt, world.org_id, world.adm_id, "d1", ["x1"], installments=2, first_due=date(2026, 2, 1)
        )


LETTER_SENT = date(2026, 3, 3)  # Tuesday: presumed delivered Thu 5 March, term 6-19 March, costs from Fri 20 March


@pytest.mark.parametrize(
    ("evidence", "received_on", "run_on", "expected"),
    [
        ("posted", None, date(2026, 3, 19), "fourteen_day_term"),
        ("posted", None, date(2026, 3, 20), "150.00"),
        ("posted", date(2026, 3, 4), date(2026, 3, 19), "fourteen_day_term"),  # early receipt: the printed date holds
        ("posted", date(2026, 3, 5), date(2026, 3, 20), "150.00"),  # received as presumed
        ("posted", date(2026, 3, 9), date(2026, 3, 20), "new letter"),  # late receipt: printed 19 Mar < 23 Mar
        ("queued", None, date(2026, 3, 20), "letter_not_posted"),  # never marked posted: no term, no costs
        (None, None, date(2026, 3, 20), "no costs"),
    ],
)
def test_fourteen_day_letter_evidence_decides_the_consumer_costs(
    world: World, evidence: str | None, received_on: date | None, run_on: date, expected: str
) -> None:
    w = world
    w.debtor("c1", segment="b2c")
    debtors.set_default_start(w.rt, w.org_id, w.adm_id, "c1", False)  # a fatal term: in default from 2 February
    w.invoice("b1", "c1", date(2026, 2, 1), "1000.00")
    w.set_state("b1", level=4, level_name="14-day letter", level_reached_on=LETTER_SENT)
    if evidence:
        with w.rt.sessions.begin() as s:
            letter = repos.record_letter_evidence(
                s,
                w.org_id,
                w.adm_id,
                debtor_ref="c1",
                invoice_refs=["b1"],
                kind="fourteen_day_letter",
                sent_on=LETTER_SENT if evidence == "posted" else None,
                channel="post",
                stated_costs_minor=15000,
                currency="EUR",
                sha256="f" * 64,
                queued_on=LETTER_SENT,
                dates_assume_sent_on=LETTER_SENT,
                printed_term_ends=date(2026, 3, 19),
                text_counts_from_receipt=True,
            )
        if received_on:
            debtors.record_letter_receipt(w.rt, w.org_id, letter, received_on)
    report = w.run(run_on)
    final = [i for i in w.outbox() if i.level == 5]
    if expected in ("fourteen_day_term", "letter_not_posted"):
        assert report.non_decisions.get(expected) == 1, report.non_decisions
        assert w.outbox() == []
    elif expected == "new letter":
        (proposal,) = w.outbox()
        assert (proposal.level, proposal.action.value, proposal.status.value) == (
            4,
            "fourteen_day_letter",
            "awaiting_approval",
        ), "the worklist must propose a new 14-day letter"
        assert proposal.payload.letter_costs is not None and proposal.payload.costs is None
        again = w.run(run_on + timedelta(days=1))
        assert again.non_decisions.get("new_letter_proposed") == 1 and len(w.outbox()) == 1, "proposed twice"
    elif expected == "no costs":
        assert len(final) == 1, final
        assert final[0].payload.costs is None, final[0].payload.costs
    else:
        assert len(final) == 1, final
        fee = final[0].payload.costs.fee if final[0].payload.costs else None
        assert str(fee) == expected, fee


def test_a_consumer_without_a_fatal_term_gets_no_letter_before_the_notice(world: World) -> None:
    w = world
    w.debtor("c2", segment="b2c")
    w.invoice("n1", "c2", date(2026, 2, 1), "1000.00")
    w.set_state("n1", level=3, level_name="Phone call", level_reached_on=date(2026, 2, 18))
    report = w.run(date(2026, 3, 10))  # level 4 is due (due + 30), but no notice of default went out
    assert report.non_decisions.get("not_in_default") == 1 and w.outbox() == []
    w.set_state("n1", notice_of_default_on=date(2026, 2, 15))  # e-mailed Sun 15 Feb: received 16, ends Mon 2 Mar
    w.run(date(2026, 3, 11))
    (letter,) = w.outbox()
    assert letter.action.value == "fourteen_day_letter" and letter.payload.default_since == date(2026, 3, 3)


def test_hand_over_writes_pdf_and_csv_with_everything_and_stops_reminders(world: World, tmp_path: Path) -> None:
    w = world
    w.debtor("d1", name="Jansen Bouw")
    w.invoice("h1", "d1", DUE, "1000.00")
    w.invoice("h2", "d1", date(2026, 1, 15), "250.00")
    w.clock.day(date(2026, 2, 20))
    debtors.record_call_outcome(w.rt, w.org_id, w.adm_id, "d1", "no_answer", reason="financial_trouble")
    debtors.record_call_outcome(w.rt, w.org_id, w.adm_id, "d1", "refused", note="will not pay")
    with w.rt.sessions.begin() as s:
        repos.record_letter_evidence(
            s,
            w.org_id,
            w.adm_id,
            debtor_ref="d1",
            invoice_refs=["h1", "h2"],
            kind="demand_letter",
            sent_on=date(2026, 2, 1),
            channel="email",
            stated_costs_minor=None,
            currency="EUR",
            sha256="c" * 64,
            document_ref="aanmaning-d1.pdf",
        )
    w.clock.day(date(2026, 3, 1))
    result = debtors.hand_over(w.rt, w.org_id, w.adm_id, "d1", tmp_path / "dossier", agency="Incasso BV")

    assert result.pdf_path.read_bytes().startswith(b"%PDF")
    rows = list(csv.DictReader(io.StringIO(result.csv_path.read_text(encoding="utf-8"))))
    kinds = [r["record_type"] for r in rows]
    assert kinds.count("invoice") == 2 and kinds.count("letter") == 1
    assert {r["reference"] for r in rows if r["record_type"] == "invoice"} == {"2026-h1", "2026-h2"}
    contacts = [r for r in rows if r["record_type"] == "contact"]
    phone = [r for r in contacts if r["channel"] == "phone"]
    assert [(r["description"], r["reason"]) for r in phone] == [
        ("no_answer", "financial_trouble"),
        ("refused will not pay", ""),
    ]
    claim = {r["description"]: r["amount"] for r in rows if r["record_type"] == "claim"}
    # WIK on 1,250.00 = 15 % = 187.50 (docs/law.md#wik-collection-costs); commercial interest 10.15 %: 1000 x 58/365 =
    # 16.13, 250 x 44/365 = 3.06
    assert claim == {"principal": "1250.00", "collection_costs": "187.50", "vat_on_costs": "0.00", "interest": "19.19"}
    assert result.total_claim == Decimal("1456.69")
    assert all((st := w.state(ref)) is not None and st.handed_over for ref in ("h1", "h2"))

    queued = len(w.outbox())
    report = w.run(date(2026, 3, 2))
    assert report.non_decisions.get("handed_over") == 2 and report.decisions == 0
    assert len(w.outbox()) == queued


def test_uncollectible_needs_confirmation(world: World) -> None:
    world.debtor("d1")
    world.invoice("u1", "d1", DUE, "75.00")
    with pytest.raises(PermanentError, match="confirm"):
        debtors.mark_invoice_uncollectible(world.rt, world.org_id, world.adm_id, "u1")
    with pytest.raises(PermanentError, match="confirm"):
        debtors.set_collection_status(world.rt, world.org_id, world.adm_id, "d1", "uncollectible")
    assert world.outbox() == []
    debtors.mark_invoice_uncollectible(world.rt, world.org_id, world.adm_id, "u1", confirm=True)
    debtors.mark_invoice_uncollectible(world.rt, world.org_id, world.adm_id, "u1", confirm=True)  # once only
    assert [(i.action, i.invoice_refs) for i in world.outbox()] == [("mark_uncollectible", ("u1",))]
    assert world.run(date(2026, 1, 20)).non_decisions.get("uncollectible") == 1


def test_credit_stop_by_hand_is_written_back_once_per_change(world: World) -> None:
    world.debtor("d1")
    world.invoice("i1", "d1", DUE, "75.00")
    assert debtors.set_credit_stop(world.rt, world.org_id, world.adm_id, "d1", stop=True) is True
    assert debtors.set_credit_stop(world.rt, world.org_id, world.adm_id, "d1", stop=True) is False
    assert debtors.set_credit_stop(world.rt, world.org_id, world.adm_id, "d1", stop=False) is True
    assert [(i.action, i.invoice_refs) for i in world.outbox()] == [
        ("credit_stop", ("i1",)),
        ("credit_release", ("i1",)),
    ]


def test_segment_override_and_insolvency_reach_the_snapshot(world: World) -> None:
    from connector.snapshots import build_snapshots

    world.debtor("d1", segment="b2b")
    world.invoice("i1", "d1", DUE, "75.00")
    debtors.set_segment(world.rt, world.org_id, world.adm_id, "d1", "b2c")
    debtors.set_insolvent(world.rt, world.org_id, world.adm_id, "d1", True)
    with world.rt.sessions() as s:
        adm = repos.get_administration(s, world.org_id, world.adm_id)
    [snap] = build_snapshots(world.rt, adm)
    assert (snap.segment and snap.segment.value, snap.insolvent) == ("b2c", True)
    assert world.run(date(2026, 1, 20)).non_decisions.get("insolvent") == 1


def test_a_factored_invoice_is_left_to_the_factor(world: World) -> None:
    """docs/credit-management.md#factoring: an invoice sold to a factor gets no reminders of ours; the package is told
    with a note."""
    world.debtor("d1")
    world.invoice("i1", "d1", DUE, "500.00")
    world.clock.day(date(2026, 1, 20))
    assert debtors.hold_invoice(world.rt, world.org_id, world.adm_id, "i1", "factored") is True
    report = world.run(date(2026, 1, 20))
    assert report.decisions == 0 and report.non_decisions.get("on_hold") == 1
    (note,) = world.outbox("note")
    assert "factored" in (note.payload.text or "")


def test_credit_limit_flags_a_debtor_whose_open_items_exceed_it(world: World) -> None:
    """docs/credit-management.md#screening-and-credit-limits: a credit limit per debtor; the worklist lists the debtor
    once its open items exceed it."""
    from connector import queries

    world.debtor("d1")
    world.invoice("i1", "d1", DUE, "600.00")
    world.invoice("i2", "d1", DUE, "500.00")
    debtors.set_credit_limit(world.rt, world.org_id, world.adm_id, "d1", Decimal("1200.00"))
    assert queries.over_credit_limit(world.rt, world.org_id) == []  # 1,100 open <= 1,200
    debtors.set_credit_limit(world.rt, world.org_id, world.adm_id, "d1", Decimal("1000.00"))
    (flagged,) = queries.over_credit_limit(world.rt, world.org_id)
    assert (flagged["debtor_ref"], flagged["open"], flagged["limit"]) == ("d1", "1100.00", "1000.00")
    with pytest.raises(PermanentError):
        debtors.set_credit_limit(world.rt, world.org_id, world.adm_id, "d1", Decimal("-1"))
    debtors.set_credit_limit(world.rt, world.org_id, world.adm_id, "d1", None)
    assert queries.over_credit_limit(world.rt, world.org_id) == []


def test_an_insolvent_debtor_gets_one_file_claim_task_and_no_reminders(world: World) -> None:
    """docs/law.md#insolvency: legal hold; a person files the claim with the trustee (one open task listing what to
    file)."""
    world.debtor("d1")
    world.invoice("i1", "d1", DUE, "600.00")
    world.invoice("i2", "d1", DUE, "400.50")
    world.clock.day(date(2026, 1, 20))
    debtors.set_insolvent(world.rt, world.org_id, world.adm_id, "d1", True)
    first = world.run(date(2026, 1, 20))
    assert first.decisions == 0 and first.non_decisions.get("insolvent") == 2
    (task,) = [i for i in world.outbox() if i.action == "file_claim"]
    assert (task.status, sorted(task.invoice_refs), str(task.payload.open_amount)) == (
        "task_open",
        ["i1", "i2"],
        "1000.50",
    )
    world.run(date(2026, 1, 21))
    assert len([i for i in world.outbox() if i.action == "file_claim"]) == 1  # not a new task every day


def test_a_file_claim_task_is_closed_by_hand_not_by_a_call(world: World) -> None:
    from connector import services
    from connector.debtors.contacts import record_call_outcome

    world.debtor("d1")
    world.invoice("i1", "d1", DUE, "600.00")
    world.clock.day(date(2026, 1, 20))
    debtors.set_insolvent(world.rt, world.org_id, world.adm_id, "d1", True)
    world.run(date(2026, 1, 20))
    (task,) = world.outbox("file_claim")
    record_call_outcome(world.rt, world.org_id, world.adm_id, "d1", "no_answer")
    assert world.outbox("file_claim")[0].status == "task_open"  # a call is not filing the claim
    services.complete_task(world.rt, world.org_id, task.id, "filed with mr. De Vries, curator")
    assert world.outbox("file_claim")[0].status == "done"
    with pytest.raises(PermanentError):
        services.complete_task(world.rt, world.org_id, task.id)
