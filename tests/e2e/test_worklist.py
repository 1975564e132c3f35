"""The worklist in a real browser: open phone tasks with number and script, credit stops, tomorrow's dry run."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from connector import demo, outbox, sync
from connector.debtors import set_credit_stop
from connector.model.outbox import OutboxAction, OutboxChannel, OutboxPayload
from connector.storage import repos
from tests.e2e.conftest import CHROMIUM

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"),
]


def test_phone_tasks_credit_stops_and_tomorrow(page: Page, stack: demo.DemoRun, today: date) -> None:
    rt = stack.runtime
    sync.sync_connection(rt, stack.org_id, demo.connect(stack, "moneybird"))
    with rt.sessions.begin() as s:
        adm = repos.list_administrations(s, stack.org_id)[0]
        adm.safe_mode = False
        invoice = repos.get_invoices(s, stack.org_id, adm.id, open_only=True)[0]
        debtor = repos.get_debtors(s, stack.org_id, adm.id)[invoice.debtor_ref]
        repos.add_outbox_item(
            s,
            stack.org_id,
            adm.id,
            idempotency_key="call-1",
            action=OutboxAction.PHONE_TASK,
            debtor_ref=invoice.debtor_ref,
            invoice_refs=[invoice.provider_ref],
            level=3,
            level_name="Bellen",
            channel=OutboxChannel.PHONE,
            run_date=today,
            payload=OutboxPayload(open_amount=Decimal("1.00"), currency="EUR"),
        )
    outbox.drain(rt, stack.org_id)
    set_credit_stop(rt, stack.org_id, adm.id, invoice.debtor_ref, stop=True)
    page.goto(stack.web.url)
    calls = page.locator("#phone-tasks")
    expect(calls).to_contain_text(debtor.name)
    expect(calls).to_contain_text(invoice.number or invoice.provider_ref)
    page.locator("#phone-tasks summary").first.click()
    expect(page.locator("#phone-tasks pre").first).to_be_visible()
    expect(page.locator("#credit-stops")).to_contain_text(debtor.name)
    page.click("#nav-tomorrow")
    expect(page.get_by_role("heading", name="Acties van morgen")).to_be_visible()
    expect(page.locator("#tomorrow tr").filter(has=page.locator("td")).first).to_be_visible()
    with rt.sessions() as s:
        names = {
            d.name
            for a in repos.list_administrations(s, stack.org_id)
            for d in repos.get_debtors(s, stack.org_id, a.id).values()
        }
    assert page.locator("#tomorrow tr td:nth-child(2)").first.inner_text() in names  # names, not provider ids
    with rt.sessions() as s:
        before = len(repos.outbox_items(s, stack.org_id))
    page.reload()
    with rt.sessions() as s:
        assert len(repos.outbox_items(s, stack.org_id)) == before  # the dry run stores nothing
