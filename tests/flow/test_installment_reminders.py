"""docs/credit-management.md#payment-arrangements: while an arrangement holds, the reminders follow its schedule: one
e-mail per instalment, a few days before it is due, with the amount and date; nothing for a paid instalment; never
twice."""

from __future__ import annotations

from datetime import date, timedelta

from babel.dates import format_date

from connector import decide, demo, outbox, sync
from connector.debtors import create_arrangement, pay_installment
from connector.storage import repos


def _run(run: demo.DemoRun, adm_id: int, day: date) -> None:
    rt = run.runtime
    policies, rates = decide.load_rules(rt)
    with rt.sessions() as s:
        adm = repos.get_administration(s, run.org_id, adm_id)
    decide.run_administration(rt, adm, day, policies, rates)
    outbox.drain(rt, run.org_id)


def test_installment_reminders_follow_the_schedule(stack: demo.DemoRun, today: date) -> None:
    rt = stack.runtime
    sync.sync_connection(rt, stack.org_id, demo.connect(stack, "moneybird"))
    with rt.sessions.begin() as s:
        adm = repos.list_administrations(s, stack.org_id)[0]
        adm.safe_mode = False
        debtors = repos.get_debtors(s, stack.org_id, adm.id)
        invoice = next(
            i for i in repos.get_invoices(s, stack.org_id, adm.id, open_only=True) if debtors[i.debtor_ref].email
        )
    first_due = today + timedelta(days=6)
    plan = create_arrangement(
        rt,
        stack.org_id,
        adm.id,
        invoice.debtor_ref,
        [invoice.provider_ref],
        installments=3,
        first_due=first_due,
        every_days=30,
    )
    _run(stack, adm.id, first_due - timedelta(days=5))  # too early: nothing
    assert not [m for m in stack.mailbox.messages() if "termijn" in m["Subject"].lower()]
    _run(stack, adm.id, first_due - timedelta(days=3))
    (mail,) = [m for m in stack.mailbox.messages() if "termijn 1 van 3" in m["Subject"].lower()]
    body = next(p.get_payload(decode=True).decode() for p in mail.walk() if p.get_content_type() == "text/plain")
    assert format_date(first_due, "d MMMM y", locale="nl") in body and (invoice.number or "") in body
    _run(stack, adm.id, first_due - timedelta(days=2))  # same instalment: never twice
    assert len([m for m in stack.mailbox.messages() if "termijn 1 van 3" in m["Subject"].lower()]) == 1
    pay_installment(rt, stack.org_id, plan, 2, paid_on=first_due)
    _run(stack, adm.id, first_due + timedelta(days=28))  # instalment 2 is paid already: no reminder for it
    assert not [m for m in stack.mailbox.messages() if "termijn 2 van 3" in m["Subject"].lower()]
    notes = [
        w
        for w in stack.sandboxes["moneybird"].app.extensions["sandbox"].writes(adm.provider_tenant_id)
        if w["kind"] == "note" and "Betalingsregeling" in (w.get("text") or "")
    ]
    assert notes, "the reminder was not written back to the package"
