"""The worklist's services on SQLite and PostgreSQL: rows, filters, paging and totals; approve, skip and snooze one
by one and in bulk, audited with who; another organisation's ids are not found; the debtor's timeline, the
invoice's next step and the global search."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from connector import debtors, worklist
from connector.errors import NotFound, PermanentError
from connector.model.outbox import OutboxStatus
from connector.storage import repos
from connector.storage.db import transaction
from tests.worklist.conftest import Desk

OPEN = ["approve_me", "queued", "call_d3", "failed"]


def _ids(desk: Desk, names: list[str]) -> list[int]:
    return sorted(desk.items[n] for n in names)


def _status(desk: Desk, name: str) -> OutboxStatus:
    with desk.world.rt.sessions() as s:
        item = repos.get_outbox_item(s, desk.world.org_id, desk.items[name])
    assert item is not None, f"item {name} vanished"
    return item.status


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, OPEN),
        ({"tab": "approval"}, ["approve_me"]),
        ({"tab": "phone"}, ["call_d3"]),
        ({"channel": "phone"}, ["call_d3"]),
        ({"step": "Friendly reminder"}, ["queued", "failed"]),
        ({"debtor": "d1"}, ["approve_me", "failed"]),
        ({"search": "jansen"}, ["approve_me", "failed"]),  # a debtor's name, any case
        ({"search": "2026-i3"}, ["queued"]),  # an invoice number finds its debtor's items
        ({"search": "12345678"}, ["call_d3"]),  # a KvK number
        ({"search": "nobody"}, []),
        ({"search": "Bakkerij Elders"}, []),  # another organisation's debtor
        ({"administration": "other"}, []),
    ],
)
def test_filters_select_the_open_items(any_desk: Desk, query: dict[str, str], expected: list[str]) -> None:
    desk = any_desk
    wanted = worklist.WorklistQuery(
        tab=query.get("tab", "today"),
        step=query.get("step"),
        channel=query.get("channel"),
        search=query.get("search"),
        debtor_id=desk.debtors[query["debtor"]] if "debtor" in query else None,
        administration_id=desk.world.adm_id + 1000 if query.get("administration") == "other" else None,
    )
    page = worklist.worklist_page(desk.world.rt, desk.world.org_id, wanted, desk.today)
    assert sorted(r.id for r in page.rows) == _ids(desk, expected), f"rows for {query}"
    assert page.count == len(expected), f"count for {query}"


def test_rows_carry_debtor_invoices_days_overdue_and_totals(desk: Desk) -> None:
    page = worklist.worklist_page(desk.world.rt, desk.world.org_id, worklist.WorklistQuery(), desk.today)
    rows = {r.id: r for r in page.rows}
    queued = rows[desk.items["queued"]]
    assert queued.debtor == "Fietsen de Vries" and queued.debtor_id == desk.debtors["d2"], "debtor name and link"
    assert [i.number for i in queued.invoices] == ["2026-i2", "2026-i3"], "invoice numbers"
    assert [i.id for i in queued.invoices] == [desk.invoices["i2"], desk.invoices["i3"]], "invoice links"
    assert queued.days_overdue == 20, "days overdue of the oldest invoice"
    assert queued.amount == Decimal("250.50") and queued.currency == "EUR", "amount"
    assert rows[desk.items["approve_me"]].can_approve and not queued.can_approve, "only a waiting item is approved"
    assert rows[desk.items["call_d3"]].is_call, "a phone task is a call"
    assert page.totals == {"EUR": Decimal("525.75")}, "totals add the open items' amounts per currency"
    assert page.steps == ["Friendly reminder", "Phone call", "Reminder"], "the step filter's choices"


@pytest.mark.parametrize("size", [1, 2, 3, 10])
def test_keyset_paging_visits_every_item_once(desk: Desk, size: int) -> None:
    seen: list[int] = []
    after = None
    for _ in range(10):
        query = worklist.WorklistQuery(after=after, limit=size)
        page = worklist.worklist_page(desk.world.rt, desk.world.org_id, query, desk.today)
        seen += [r.id for r in page.rows]
        after = page.next_after
        if after is None:
            break
    assert seen == _ids(desk, OPEN), f"pages of {size} cover every open item once, in order"


@pytest.mark.parametrize(
    ("action", "name", "expected"),
    [
        ("approve", "approve_me", OutboxStatus.PENDING),
        ("approve", "queued", PermanentError),  # already on its way: nothing to approve
        ("skip", "approve_me", OutboxStatus.SKIPPED),
        ("skip", "queued", OutboxStatus.SKIPPED),
        ("skip", "call_d3", OutboxStatus.SKIPPED),
        ("skip", "sent", PermanentError),  # done is done
        ("snooze", "queued", OutboxStatus.PENDING),
        ("snooze", "approve_me", OutboxStatus.AWAITING_APPROVAL),
        ("snooze", "sent", PermanentError),
    ],
)
def test_actions_on_one_item(any_desk: Desk, action: str, name: str, expected: object) -> None:
    desk = any_desk
    rt, org = desk.world.rt, desk.world.org_id
    item = desk.items[name]
    calls = {
        "approve": lambda: worklist.approve(rt, org, item),
        "skip": lambda: worklist.skip(rt, org, item, "spoke to them"),
        "snooze": lambda: worklist.snooze(rt, org, item, desk.today + timedelta(days=3)),
    }
    if isinstance(expected, type):
        with pytest.raises(expected):
            calls[action]()
        return
    with worklist.acting_as("anna@example.com"):
        calls[action]()
    assert _status(desk, name) is expected, f"{action} {name}"
    with rt.sessions() as s:
        entry = repos.audit_trail(s, org, limit=1)[0]
    assert entry.data.get("by") == "anna@example.com", f"{action} records who did it ({entry.kind})"


def test_a_snoozed_item_leaves_today_and_waits_for_its_day(desk: Desk) -> None:
    rt, org = desk.world.rt, desk.world.org_id
    until = desk.today + timedelta(days=2)
    worklist.snooze(rt, org, desk.items["queued"], until)
    today = worklist.worklist_page(rt, org, worklist.WorklistQuery(), desk.today)
    assert desk.items["queued"] not in [r.id for r in today.rows], "snoozed items leave today's list"
    snoozed = worklist.worklist_page(rt, org, worklist.WorklistQuery(tab="snoozed"), desk.today)
    assert [(r.id, r.snoozed_until) for r in snoozed.rows] == [(desk.items["queued"], until)], "the snoozed tab"
    on_the_day = worklist.worklist_page(rt, org, worklist.WorklistQuery(), until)
    assert desk.items["queued"] in [r.id for r in on_the_day.rows], "back on its day"
    with rt.sessions() as s:
        drainable = repos.pending_outbox(s, org, desk.world.clock())
    assert desk.items["queued"] not in [i.id for i in drainable], "the drainer leaves it until its day"


@pytest.mark.parametrize(
    ("action", "claim_minutes", "expected"),
    [
        ("skip", 5, OutboxStatus.PENDING),  # a drain is sending it right now: a person's skip must not race it
        ("snooze", 5, OutboxStatus.PENDING),
        ("skip", -5, OutboxStatus.SKIPPED),  # the drain's claim lapsed (its process died): the item is free again
    ],
)
def test_an_item_a_drain_has_claimed_is_left_alone(
    any_desk: Desk, action: str, claim_minutes: int, expected: OutboxStatus
) -> None:
    desk = any_desk
    rt, org, item = desk.world.rt, desk.world.org_id, desk.items["queued"]
    until = desk.world.clock() + timedelta(minutes=claim_minutes)
    with transaction(rt.sessions) as s:
        repos.update_outbox_item(s, org, item, claimed_by="drain-1", claimed_until=until)
    calls = {
        "skip": lambda: worklist.skip(rt, org, item, "paid at the desk"),
        "snooze": lambda: worklist.snooze(rt, org, item, desk.today + timedelta(days=3)),
    }
    if claim_minutes > 0:
        with pytest.raises(PermanentError, match="being sent"):
            calls[action]()
    else:
        calls[action]()
    assert _status(desk, "queued") is expected, f"{action} with a claim {claim_minutes} minutes from now"


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda d: worklist.snooze(d.world.rt, d.world.org_id, d.items["queued"], d.today), PermanentError),
        (lambda d: worklist.skip(d.world.rt, d.world.org_id, d.items["queued"], "   "), PermanentError),
    ],
    ids=["snooze-to-today", "skip-without-reason"],
)
def test_bad_input_is_refused_and_changes_nothing(desk: Desk, call: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        call(desk)  # type: ignore[operator]
    assert _status(desk, "queued") is OutboxStatus.PENDING, "nothing changed"


def test_bulk_actions_do_what_they_can_and_say_what_they_refused(desk: Desk) -> None:
    rt, org = desk.world.rt, desk.world.org_id
    result = worklist.approve_many(rt, org, [desk.items["approve_me"], desk.items["queued"], desk.other_item])
    assert result.done == [desk.items["approve_me"]], "the waiting item is approved"
    assert set(result.refused) == {desk.items["queued"], desk.other_item}, "the others are refused with a reason"
    result = worklist.skip_many(rt, org, [desk.items["queued"], desk.items["failed"]], "paid by bank transfer")
    assert result.done == [desk.items["queued"], desk.items["failed"]] and not result.refused, "skipped both"


@pytest.mark.parametrize(
    "call",
    [
        lambda d: worklist.approve(d.world.rt, d.world.org_id, d.other_item),
        lambda d: worklist.skip(d.world.rt, d.world.org_id, d.other_item, "x"),
        lambda d: worklist.snooze(d.world.rt, d.world.org_id, d.other_item, d.today + timedelta(days=1)),
        lambda d: worklist.debtor_view(d.world.rt, d.world.org_id, d.other_debtor),
        lambda d: worklist.invoice_view(d.world.rt, d.world.org_id, d.other_invoice),
    ],
    ids=["approve", "skip", "snooze", "debtor", "invoice"],
)
def test_another_organisations_ids_are_not_found(any_desk: Desk, call: object) -> None:
    with pytest.raises(NotFound):
        call(any_desk)  # type: ignore[operator]


def test_the_debtor_timeline_tells_everything_newest_first(any_desk: Desk) -> None:
    desk = any_desk
    rt, org, adm = desk.world.rt, desk.world.org_id, desk.world.adm_id
    with worklist.acting_as("anna@example.com"):
        debtors.record_call_outcome(rt, org, adm, "d2", "call_back", reason="negligence", note="call Friday")
        debtors.hold_invoice(rt, org, adm, "i3", "dispute")
    view = worklist.debtor_view(rt, org, desk.debtors["d2"])
    assert (view.name, view.open_invoices, view.overdue_invoices) == ("Fietsen de Vries", 2, 2), "what it owes"
    assert view.open_amount == Decimal("250.50"), "open amount"
    kinds = [e.kind for e in view.timeline]
    assert {"invoice", "payment", "call", "hold"} <= set(kinds), f"every kind of event: {kinds}"
    moments = [e.at for e in view.timeline]
    assert moments == sorted(moments, reverse=True), "newest first"
    call = next(e for e in view.timeline if e.kind == "call")
    assert (call.outcome, call.reason, call.note) == ("call_back", "negligence", "call Friday"), "the call's facts"
    hold = next(e for e in view.timeline if e.kind == "hold")
    assert hold.by == "anna@example.com" and hold.invoice == "2026-i3", "who held which invoice"
    payment = next(e for e in view.timeline if e.kind == "payment")
    assert payment.amount == Decimal("10.00") and payment.invoice_id == desk.invoices["i2"], "the payment"


def test_the_invoice_page_says_the_next_step_or_why_not(desk: Desk) -> None:
    rt, org, adm = desk.world.rt, desk.world.org_id, desk.world.adm_id
    view = worklist.invoice_view(rt, org, desk.invoices["i1"])
    assert (view.number, view.debtor, view.days_overdue) == ("2026-i1", "Bakkerij Jansen", 40), "the facts"
    assert view.outcome.kind == "recorded", f"40 days late, nothing sent yet: the pre-due level lapses {view.outcome}"
    assert (view.outcome.rule, view.outcome.level) == ("ladder.pre_due_lapsed", 0), f"and says why: {view.outcome}"
    debtors.hold_invoice(rt, org, adm, "i1", "dispute")
    held = worklist.invoice_view(rt, org, desk.invoices["i1"])
    assert (held.outcome.kind, held.outcome.reason) == ("wait", "on_hold"), f"held: {held.outcome}"
    assert held.hold_reason == "dispute", "our hold is shown"
    assert any(line.kind == "hold" for line in held.history), "the hold is in its history"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-i1", [("invoice", "2026-i1")]),  # not the other organisation's 2026-i1
        ("2026-i", [("invoice", "2026-i1"), ("invoice", "2026-i2"), ("invoice", "2026-i3"), ("invoice", "2026-i4")]),
        ("bos", [("debtor", "Hovenier Bos")]),
        ("12345678", [("debtor", "Hovenier Bos")]),
        ("C-d1", [("debtor", "Bakkerij Jansen")]),
        ("%", []),  # a wildcard is a character, not a pattern
        ("", []),
    ],
)
def test_global_search(any_desk: Desk, text: str, expected: list[tuple[str, str]]) -> None:
    hits = worklist.search(any_desk.world.rt, any_desk.world.org_id, text)
    assert [(h.kind, h.title) for h in hits] == expected, f"search {text!r}"
