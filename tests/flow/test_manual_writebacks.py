"""What a person decides reaches the accounting package: a hold note on the held invoice, a credit stop on the
contact, a confirmed write-off as Moneybird's uncollectible state; none of it e-mails the debtor."""

from __future__ import annotations

import pytest

from connector import demo, outbox, sync
from connector.debtors import hold_invoice, mark_invoice_uncollectible, set_credit_stop
from connector.errors import PermanentError
from connector.storage import repos


def test_holds_credit_stops_and_write_offs_are_written_back(stack: demo.DemoRun) -> None:
    rt = stack.runtime
    sync.sync_connection(rt, stack.org_id, demo.connect(stack, "moneybird"))
    sandbox = stack.sandboxes["moneybird"].app.extensions["sandbox"]
    with rt.sessions() as s:
        adm = repos.list_administrations(s, stack.org_id)[0]
        held, written_off = repos.get_invoices(s, stack.org_id, adm.id, open_only=True)[:2]
    assert hold_invoice(rt, stack.org_id, adm.id, held.provider_ref, "dispute")
    assert set_credit_stop(rt, stack.org_id, adm.id, held.debtor_ref, stop=True)
    with pytest.raises(PermanentError):
        mark_invoice_uncollectible(rt, stack.org_id, adm.id, written_off.provider_ref)
    mark_invoice_uncollectible(rt, stack.org_id, adm.id, written_off.provider_ref, confirm=True)
    report = outbox.drain(rt, stack.org_id)
    assert report.skipped == 0 and report.failed == 0 and report.done == 3
    writes = sandbox.writes(adm.provider_tenant_id)
    notes = [w for w in writes if w["kind"] == "note"]
    assert any(held.provider_ref in w["invoice_ids"] for w in notes), "the hold note did not reach the held invoice"
    assert any(w.get("contact_id") == held.debtor_ref for w in notes), "the credit stop did not reach the contact"
    assert sandbox.invoice(adm.provider_tenant_id, written_off.provider_ref)["state"] == "uncollectible"
    assert stack.mailbox.messages() == []
    assert outbox.drain(rt, stack.org_id).done == 0  # nothing twice
