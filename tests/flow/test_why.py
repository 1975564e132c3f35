"""`dunning why`: every invoice can say why it did or did not get a step, including quiet outcomes (not yet due)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from connector import demo, queries, sync
from connector.errors import NotFound
from connector.storage import repos


def test_why_answers_for_decisions_and_non_decisions(stack: demo.DemoRun, today: date) -> None:
    rt = stack.runtime
    sync.sync_connection(rt, stack.org_id, demo.connect(stack, "moneybird"))
    with rt.sessions() as s:
        adm = repos.list_administrations(s, stack.org_id)[0]
        invoices = repos.get_invoices(s, stack.org_id, adm.id, open_only=True)
    later = next(i for i in invoices if i.due_date > today + timedelta(days=3))
    overdue = next(i for i in invoices if i.due_date < today)
    (now,) = [e for e in queries.why(rt, stack.org_id, later.provider_ref, today) if e["kind"] == "now"]
    assert now["message"].startswith("not_due") and now["data"]["why"]["rule"] == "ladder.not_due"
    assert now["data"]["why"]["synced_at"] and now["data"]["next_date"] == str(later.due_date - timedelta(days=3))
    (due,) = [e for e in queries.why(rt, stack.org_id, overdue.provider_ref, today) if e["kind"] == "now"]
    assert due["message"].startswith("level 0") and due["data"]["why"]["rule"] == "ladder.pre_due_lapsed"
    with pytest.raises(NotFound, match="no invoice 'no-such-invoice' here"):
        queries.why(rt, stack.org_id, "no-such-invoice", today)
    by_number = queries.why(rt, stack.org_id, later.number or "", today)  # the number a person sees
    assert all(e in by_number for e in queries.why(rt, stack.org_id, later.provider_ref, today))
