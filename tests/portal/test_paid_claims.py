"""'I have paid' on the debtor's page (docs/portal.md#answers): the ladder stops for the invoice at once and never
resumes by itself; a sync that shows the payment before the check day (answer day + the policy's
``paid_claim_check_days``) resolves the answer and nobody ever sees a task; without the payment the task waits
(the worklist's snoozed tab) and appears on the check day, not before, with what is still open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest

from connector.debtors import daily_checks
from connector.model.outbox import OutboxAction, OutboxStatus
from connector.storage import repos
from connector.worklist import WorklistQuery, worklist_page
from tests.portal.test_answers import LADDER, _post
from tests.portal.test_page import Page, page

__all__ = ["page"]

CHECK_DAYS = 7  # the packaged policies' paid_claim_check_days


@dataclass(frozen=True)
class Case:
    name: str
    synced: dict[int, str]  # day after the answer -> the open amount of I2 (of 50.00) a sync delivers that day
    resolved_on: int | None  # the day the answer resolves by itself; None: it stays open for a person
    task_from: int | None  # the first day the task is on today's worklist; None: never
    task_amount: Decimal | None  # what the task states as still open


CASES = [
    Case("paid before the check day", {3: "0"}, 3, None, None),
    Case("paid on the check day, before the daily run", {CHECK_DAYS: "0"}, CHECK_DAYS, None, None),
    Case("no payment", {}, None, CHECK_DAYS, Decimal("50.00")),
    Case("part payment", {2: "30.00"}, None, CHECK_DAYS, Decimal("30.00")),
    Case("part then paid after the check day", {2: "30.00", CHECK_DAYS + 2: "0"}, CHECK_DAYS + 2, CHECK_DAYS, None),
]


def _sync(page: Page, open_amount: str) -> None:
    """The package delivers I2 (50.00) with this much still open."""
    due = page.world.clock().date() - timedelta(days=20)
    status = "paid" if Decimal(open_amount) == 0 else "open"
    page.world.invoice("I2", "D1", due, "50.00", open_amount=open_amount, status=status)


def _on_list(page: Page, tab: str, day: date) -> list[Decimal | None]:
    rows = worklist_page(page.world.rt, page.world.org_id, WorklistQuery(tab=tab), day).rows
    return [r.amount for r in rows if r.action == OutboxAction.PORTAL_ANSWER.value]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_claimed_payment_waits_for_the_sync_then_asks_a_person(page: Page, case: Case) -> None:
    world = page.world
    start = world.clock().date()
    link = page.issue()
    status, _location, _body = _post(page, link.token, "paid", ["I2"], amount="50,00")
    assert status == 303, f"{case.name}: the answer was refused ({status})"
    [answer] = repos_answers(page)
    assert answer.check_on == start + timedelta(days=CHECK_DAYS), f"{case.name}: check day {answer.check_on}"
    seen: dict[int, tuple[str, list[Decimal | None]]] = {}
    for n in range(CHECK_DAYS + 4):
        day = world.clock.day(start + timedelta(days=n))
        if n in case.synced:
            _sync(page, case.synced[n])
        daily_checks(world.rt, world.org_id, day)
        world.run(day)
        [answer] = repos_answers(page)
        seen[n] = (answer.status, _on_list(page, "today", day))
        waiting = _on_list(page, "snoozed", day)
        if case.resolved_on is not None and n >= case.resolved_on:
            assert answer.status == "confirmed", f"{case.name}, day {n}: answer {answer.status}"
            assert not seen[n][1] and not waiting, f"{case.name}, day {n}: a resolved claim is on the worklist"
        elif case.task_from is not None and n >= case.task_from:
            assert answer.status == "open", f"{case.name}, day {n}: answer {answer.status}"
            assert seen[n][1] == [case.task_amount or seen[n][1][0]], f"{case.name}, day {n}: today's list {seen[n]}"
        else:
            assert answer.status == "open" and not seen[n][1], f"{case.name}, day {n}: shown before the check day"
            assert len(waiting) == 1, f"{case.name}, day {n}: the task does not wait on the snoozed tab"
    sent = [i for i in world.outbox() if i.action in LADDER and "I2" in i.invoice_refs]
    assert not sent, f"{case.name}: the ladder moved without a person: {[(i.action, i.run_date) for i in sent]}"
    if case.task_amount is not None:
        [task] = [i for i in world.outbox(OutboxAction.PORTAL_ANSWER) if i.status is OutboxStatus.TASK_OPEN]
        assert task.payload.open_amount == case.task_amount, f"{case.name}: the task states {task.payload.open_amount}"
        assert task.payload.claimed_amount == Decimal("50.00") and task.payload.claim_check_on == answer.check_on
    if case.resolved_on is None:
        [row] = [r for r in worklist_page(world.rt, world.org_id, WorklistQuery(), day).rows if r.claim]
        assert row.claim == (start - timedelta(days=1), Decimal("50.00"), answer.check_on), row.claim
    if case.resolved_on is not None:
        with world.rt.sessions() as s:
            trail = [e for e in repos.audit_trail(s, world.org_id, limit=100) if e.kind == "portal_paid_confirmed"]
        assert len(trail) == 1, f"{case.name}: {len(trail)} audit entries for the confirmed payment"


def repos_answers(page: Page) -> list[repos.tables.PortalAnswer]:  # type: ignore[name-defined]
    with page.world.rt.sessions() as s:
        return repos.portal_answers(s, page.world.org_id, page.world.adm_id, debtor_ref="D1")
