"""A phone step becomes an open task in the worklist (number, history, script) and is closed by the call's outcome."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from connector import demo, outbox, queries, sync
from connector.debtors.contacts import record_call_outcome
from connector.model.outbox import OutboxAction, OutboxChannel, OutboxPayload
from connector.storage import repos


def test_phone_task_opens_in_the_worklist_and_closes_with_the_outcome(stack: demo.DemoRun, today: date) -> None:
    promised = today + timedelta(days=7)
    rt = stack.runtime
    sync.sync_connection(rt, stack.org_id, demo.connect(stack, "moneybird"))
    with rt.sessions.begin() as s:
        adm = repos.list_administrations(s, stack.org_id)[0]
        invoice = repos.get_invoices(s, stack.org_id, adm.id, open_only=True)[0]
        repos.add_outbox_item(
            s,
            stack.org_id,
            adm.id,
            idempotency_key="phone-1",
            action=OutboxAction.PHONE_TASK,
            debtor_ref=invoice.debtor_ref,
            invoice_refs=[invoice.provider_ref],
            level=3,
            level_name="Phone call",
            channel=OutboxChannel.PHONE,
            run_date=today,
            payload=OutboxPayload(open_amount=Decimal("1.00"), currency="EUR"),
        )
    outbox.drain(rt, stack.org_id)
    (task,) = [w for w in queries.worklist(rt, stack.org_id) if w["action"] == "phone_task"]
    assert task["status"] == "task_open"
    with rt.sessions() as s:
        item = next(i for i in repos.outbox_items(s, stack.org_id) if i.idempotency_key == "phone-1")
    task_part = item.payload.delivered.task if item.payload.delivered else None
    assert task_part is not None, "the phone task was not recorded with the item"
    assert invoice.number in " ".join(task_part.invoices), "the script does not name the invoice"
    assert task_part.script.strip(), "empty script"
    assert stack.mailbox.messages() == []  # a phone step sends no e-mail
    record_call_outcome(rt, stack.org_id, adm.id, invoice.debtor_ref, "promise_to_pay", promise_date=promised)
    with rt.sessions() as s:
        item = next(i for i in repos.outbox_items(s, stack.org_id) if i.idempotency_key == "phone-1")
        state = repos.reminder_states(s, stack.org_id, adm.id).get(invoice.provider_ref)
        debtor = repos.get_debtors(s, stack.org_id, adm.id)[invoice.debtor_ref]
    assert item.status == "done", item.status
    assert item.payload.outcome == "promise_to_pay", item.payload.outcome
    assert promised in {getattr(state, "promise_date", None), debtor.promise_date}
