"""Answers on the debtor's page (docs/portal.md#answers): each kind is stored with its link (never the token), is
on the timeline and in the worklist, and from that moment the ladder sends nothing for its invoices, whatever runs
after it (a sync re-delivering the invoices, the daily run, a rerun of the same day)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.debtors import daily_checks
from connector.model.outbox import OutboxAction, OutboxStatus
from connector.portal_answers import PAUSE_DAYS
from connector.storage import repos
from tests.portal.test_page import Page, _debtor, _invoice, page

__all__ = ["page"]

LADDER = {
    OutboxAction.FRIENDLY_REMINDER,
    OutboxAction.REMINDER,
    OutboxAction.DEMAND_LETTER,
    OutboxAction.FOURTEEN_DAY_LETTER,
    OutboxAction.FINAL_NOTICE,
    OutboxAction.PHONE_TASK,
    OutboxAction.CREDIT_STOP,
    OutboxAction.HAND_OVER,
}
FORMS = {
    "paid": {"paid_on": "{yesterday}", "amount": "121,00"},
    "dispute": {"reason": "amount_wrong", "message_dispute": "The price was 100"},
    "arrangement": {"terms": "2"},
    "question": {"message_question": "Can I pay next month?"},
}


def _post(page: Page, token: str, kind: str, invoices: list[str], **fields: str) -> tuple[int, str, str]:
    yesterday = (page.world.clock().date() - timedelta(days=1)).isoformat()
    data = {k: v.replace("{yesterday}", yesterday) for k, v in {**FORMS[kind], **fields}.items()}
    answer = page.client("198.51.100.20").post(f"/p/{token}", data={"kind": kind, "invoice": invoices, **data})
    location = answer.headers.get("Location", "")
    return answer.status_code, location, answer.get_data(as_text=True)


def _answers(page: Page, debtor_ref: str = "D1") -> list[repos.tables.PortalAnswer] | list:  # type: ignore[type-arg]
    with page.world.rt.sessions() as s:
        return repos.portal_answers(s, page.world.org_id, page.world.adm_id, debtor_ref=debtor_ref)


def _tasks(page: Page) -> list:  # type: ignore[type-arg]
    return [i for i in page.world.outbox(OutboxAction.PORTAL_ANSWER) if i.status is OutboxStatus.TASK_OPEN]


@pytest.mark.parametrize("kind", sorted(FORMS))
def test_each_answer_is_stored_audited_and_in_the_worklist(page: Page, kind: str) -> None:
    link = page.issue()
    status, location, _body = _post(page, link.token, kind, ["I2"])
    assert status == 303 and location == f"/p/{link.token}?done=" + location.rsplit("=", 1)[1], (status, location)
    [row] = _answers(page)
    assert row.kind == kind and row.invoice_refs == ["I2"], (row.kind, row.invoice_refs)
    with page.world.rt.sessions() as s:
        [link_row] = repos.portal_links(s, page.world.org_id, page.world.adm_id, "D1")
        trail = [e for e in repos.audit_trail(s, page.world.org_id, limit=50) if e.kind == "portal_answer"]
    assert row.link_id == link_row.id, "the answer does not name its link"
    assert len(trail) == 1 and trail[0].data["link"] == link_row.id and trail[0].debtor_ref == "D1", trail
    secret = link.token.split(".")[1]
    assert secret not in repr(trail[0].data) + trail[0].message, "the token is in the audit trail"
    [task] = _tasks(page)
    assert task.payload.portal_answer == row.id and task.invoice_refs == ("I2",), task
    done = page.client("198.51.100.20").get(location).get_data(as_text=True)
    assert 'id="done"' in done, "the page does not confirm the answer"


def test_a_dispute_holds_the_invoice_and_writes_a_note_back(page: Page) -> None:
    link = page.issue()
    _post(page, link.token, "dispute", ["I1"])
    state = page.world.state("I1")
    assert state is not None and state.hold_reason == "dispute", "the disputed invoice is not on hold"
    notes = page.world.outbox(OutboxAction.NOTE)
    assert any(n.invoice_refs == ("I1",) and n.payload.kind == "hold" for n in notes), "no note for the package"


def test_an_arrangement_inside_the_policy_starts_and_outside_waits(page: Page) -> None:
    link = page.issue()
    _post(page, link.token, "arrangement", ["I1", "I2"], terms="2")  # 171.00 in 2: inside 6 terms of >= 25
    _post(page, link.token, "arrangement", ["I1", "I2"], terms="12")  # more terms than the policy allows
    inside, outside = _answers(page)
    assert inside.status == "accepted" and inside.arrangement_id is not None, inside.status
    assert outside.status == "awaiting_approval" and outside.arrangement_id is None, outside.status
    with page.world.rt.sessions() as s:
        [plan] = repos.arrangements(s, page.world.org_id, page.world.adm_id, status="active")
    assert sorted(plan.invoice_refs) == ["I1", "I2"], plan.invoice_refs


@pytest.mark.parametrize(
    ("kind", "fields", "problem"),
    [
        ("paid", {"amount": "lots"}, "amount you paid"),
        ("paid", {"amount": "-5"}, "amount you paid"),
        ("paid", {"paid_on": "2999-01-01"}, "day you paid"),
        ("dispute", {"reason": "because"}, "why you dispute"),
        ("question", {"message_question": "  "}, "Write your question"),
        ("arrangement", {"terms": "1"}, "how many instalments"),
    ],
)
def test_a_wrong_field_comes_back_with_what_to_do(page: Page, kind: str, fields: dict[str, str], problem: str) -> None:
    link = page.issue()
    status, _location, body = _post(page, link.token, kind, ["I2"], **fields)
    assert status == 400 and problem in body, f"{kind} {fields}: {status}"
    assert _answers(page) == [], "a refused answer was stored"


@pytest.mark.parametrize("invoices", [[], ["I9"], ["I3"], ["nope"]], ids=["none", "other-debtor", "paid", "unknown"])
def test_only_this_debtors_open_invoices_can_be_answered(page: Page, invoices: list[str]) -> None:
    link = page.issue()
    status, _location, body = _post(page, link.token, "question", invoices)
    assert status == 400 and "Tick the invoice" in body, f"{invoices}: {status}"
    assert _answers(page) == [] and _answers(page, "D2") == [], "an answer about someone else's invoice was stored"


def test_a_broken_link_cannot_answer(page: Page) -> None:
    link = page.issue()
    with page.world.rt.sessions.begin() as s:
        repos.revoke_portal_links(s, page.world.org_id, page.world.adm_id, "D1")
    status, _location, body = _post(page, link.token, "question", ["I1"])
    assert status == 404 and "Deze link werkt niet" in body, status
    assert _answers(page) == [], "a revoked link answered"


def test_closing_the_task_lets_the_ladder_go_on(page: Page) -> None:
    from connector import services

    link = page.issue()
    _post(page, link.token, "question", ["I1"])
    [task] = _tasks(page)
    services.complete_task(page.world.rt, page.world.org_id, task.id, "answered by phone")
    [row] = _answers(page)
    assert row.status == "resolved", row.status


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=st.sampled_from(sorted(FORMS)),
    steps=st.lists(st.sampled_from(["sync", "run", "rerun", "checks", "next day"]), min_size=1, max_size=5),
)
def test_after_any_answer_nothing_is_sent_for_its_invoices(page: Page, kind: str, steps: list[str]) -> None:
    """'paid', 'dispute' and 'arrangement' stop the ladder until resolved, past a claimed payment's check day too
    (the daily checks only put it in front of a person); a question pauses it for ``PAUSE_DAYS``."""
    world = page.world
    n = len(world.outbox()) + len(_answers(page, "P")) + int(world.clock().timestamp())  # a fresh debtor each time
    debtor, answered, control = f"P{n}", f"A{n}", f"C{n}"
    _debtor(world, debtor, "nl")
    _invoice(world, answered, debtor, "300.00")
    link = page.issue(debtor)
    status, _location, _body = _post(page, link.token, kind, [answered])
    assert status == 303, f"{kind}: the answer was refused ({status})"
    _invoice(world, control, debtor, "80.00")  # same debtor, not answered: the ladder goes on for it (an agreed
    # arrangement pauses the debtor's other invoices too, docs/credit-management.md#payment-arrangements)
    answered_on = world.clock().date()
    for step in ["run", *steps]:
        if step == "sync":
            _invoice(world, answered, debtor, "300.00")  # the package delivers the invoice again, unchanged
        elif step == "checks":
            daily_checks(world.rt, world.org_id, world.clock().date())
        elif step == "next day":
            world.clock.now += timedelta(days=PAUSE_DAYS // 2)  # past a claimed payment's check day (7)
            daily_checks(world.rt, world.org_id, world.clock().date())
            world.run(world.clock().date())
        else:
            world.run(world.clock().date())
    paused_until = answered_on + timedelta(days=PAUSE_DAYS) if kind == "question" else None
    sent = [
        i
        for i in world.outbox()
        if i.action in LADDER and answered in i.invoice_refs and (paused_until is None or i.run_date <= paused_until)
    ]
    assert not sent, f"after {kind} then {steps}: {[(i.action, i.run_date) for i in sent]}"
    held, moved = world.state(answered), world.state(control)
    if paused_until is None or world.clock().date() <= paused_until:  # a question's pause may have run out
        assert held is None or held.level is None, f"after {kind} then {steps}: the ladder moved to {held.level}"
    assert kind == "arrangement" or (moved is not None and moved.level is not None), "the control did not move"


def test_the_page_offers_each_answer_without_inline_script(page: Page) -> None:
    link = page.issue()
    body = page.client("198.51.100.21").get(f"/p/{link.token}?lang=en").get_data(as_text=True)
    for kind in FORMS:
        assert re.search(rf'name="kind" value="{kind}"', body), f"no {kind} button"
    assert 'name="csrf"' in body and "<script" not in body and "style=" not in body


@pytest.mark.parametrize("kind", sorted(FORMS))
def test_a_message_decided_before_the_answer_does_not_go_out(page: Page, kind: str) -> None:
    """The outbox's freshness gate: a reminder queued before the answer is dropped for the answered invoice."""
    import importlib

    from connector.storage.convert import invoice_row_to_model

    link = page.issue()
    _post(page, link.token, kind, ["I2"])
    with page.world.rt.sessions() as s:
        adm = repos.get_administration(s, page.world.org_id, page.world.adm_id)
        rows = repos.debtor_invoices(s, page.world.org_id, adm.id, "D1")
        invoices = [invoice_row_to_model(r) for r in rows if r.provider_ref in ("I1", "I2")]
    drain = importlib.import_module("connector.outbox.drain")  # the module, not the function the package exports
    due = [i.provider_ref for i in drain._still_due(page.world.rt, adm, invoices)]
    expected = ["I1", "I2"] if kind == "arrangement" else ["I1"]  # an agreed arrangement is followed by its plan
    assert due == expected, f"after {kind}: the gate lets {due} through"
