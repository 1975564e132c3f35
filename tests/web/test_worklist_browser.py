"""The worklist, debtor, invoice and search pages in a real browser, on the demo's stack with a policy that asks for
approval at every step: approve in bulk and see the reminders arrive in the mailbox and the sandbox, log a call,
put a debtor on hold, read its timeline; Dutch and English, axe-core, screenshots (tests/web/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Page, expect

from connector import defaults, demo, outbox
from connector.model.outbox import OutboxStatus
from connector.settings import Settings
from connector.storage import repos
from tests.web.conftest import needs_browser, serious_violations, shoot

pytestmark = needs_browser


def _approval_everywhere(folder: Path) -> Path:
    """The packaged policies with ``requires_approval: true`` on every level: every step waits in the worklist."""
    folder.mkdir(parents=True)
    for source in sorted(defaults.policies_dir().glob("*.yaml")):
        policy = yaml.safe_load(source.read_text(encoding="utf-8"))
        for level in policy["levels"]:
            level["requires_approval"] = True
        (folder / source.name).write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
    return folder


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[demo.DemoRun]:
    """The demo's stack (tests/conftest.py) whose policies ask for approval at every step."""
    settings = Settings(
        var_dir=tmp_path / "var",
        policies_dir=_approval_everywhere(tmp_path / "policies"),
    )
    run = demo.start(
        settings,
        providers=["moneybird"],
        options={
            "moneybird": {"invoices_per_administration": 40, "contacts_per_administration": 10, "rate_limits": False}
        },
    )
    yield run
    run.shutdown()


def _waiting(stack: demo.DemoRun) -> list[int]:
    with stack.runtime.sessions() as s:
        return [i.id for i in repos.outbox_items(s, stack.org_id, status=OutboxStatus.AWAITING_APPROVAL)]


def _writes(stack: demo.DemoRun) -> int:
    sandbox = stack.sandboxes["moneybird"].app.extensions["sandbox"]
    with stack.runtime.sessions() as s:
        tenants = [a.provider_tenant_id for a in repos.list_administrations(s, stack.org_id)]
    return sum(len(sandbox.writes(tenant)) for tenant in tenants)


def _ours(stack: demo.DemoRun) -> list[object]:
    """The mailbox's e-mails our own channel sent (Moneybird's sandbox mails the reminders it sends there too)."""
    return [m for m in stack.mailbox.messages() if "moneybird.sandbox" not in str(m["Message-ID"])]


def test_approve_in_bulk_and_the_reminders_go_out(stack: demo.DemoRun, page: Page, today: date) -> None:
    demo.run_provider(stack, "moneybird", today)
    waiting = _waiting(stack)
    assert waiting, "with approval at every step the first run leaves steps waiting"
    mails, writes = len(_ours(stack)), _writes(stack)
    page.goto(f"{stack.web.url}/worklist?tab=approval&lang=nl")
    expect(page.locator("h1")).to_have_text("Werklijst")
    assert serious_violations(page) == [], "axe on the worklist (nl)"
    shoot(page, "worklist-approval-nl")
    page.locator("#select-all").check()
    page.locator("#bulk-approve").click()
    expect(page.locator(".notice.ok")).to_contain_text("Goedgekeurd")
    shoot(page, "worklist-approved-nl")
    assert not _waiting(stack), "every waiting step is approved"
    outbox.drain(stack.runtime, stack.org_id)  # what the worker does next
    with stack.runtime.sessions() as s:
        items = [i for i in repos.outbox_items(s, stack.org_id) if i.id in waiting]
    assert {i.status for i in items} == {OutboxStatus.DONE}, f"every approved step went out: {items[:3]}"
    by_us = [i for i in items if i.payload.delivered and i.payload.delivered.channel == "email"]
    assert len(_ours(stack)) - mails == len(by_us), "our own e-mails arrive in the mailbox"
    assert _writes(stack) > writes, "the package sends its reminders and learns of ours (the sandbox's writes)"


def test_log_a_call_hold_a_debtor_and_read_the_timeline(
    stack: demo.DemoRun, page: Page, english: Page, today: date
) -> None:
    demo.run_provider(stack, "moneybird", today)
    page.goto(f"{stack.web.url}/worklist")
    page.locator("table.worklist tbody tr td:nth-child(2) a").first.click()
    expect(page.locator("#timeline")).to_be_visible()
    debtor_url = page.url.split("?")[0].split("#")[0]
    page.select_option("#c-outcome", "call_back")
    page.select_option("#c-reason", "negligence")
    page.fill("#c-note", "Belt vrijdag terug")
    page.locator("#save-call").click()
    expect(page.locator(".notice.ok")).to_have_text("Gesprek opgeslagen.")
    expect(page.locator(".timeline")).to_contain_text("Belt vrijdag terug")
    page.select_option("#h-reason", "dispute")
    page.locator("#save-hold").click()
    expect(page.locator(".notice.ok")).to_contain_text("In de wacht")
    expect(page.locator("#debtor-hold")).to_contain_text("geschil over de factuur")
    expect(page.locator(".timeline")).to_contain_text("Debiteur in de wacht")
    assert serious_violations(page) == [], "axe on the debtor page (nl)"
    shoot(page, "debtor-nl")
    english.goto(f"{debtor_url}?lang=en")
    expect(english.locator(".timeline")).to_contain_text("Debtor on hold")
    expect(english.locator(".timeline")).to_contain_text(demo.DEMO_OWNER)
    assert serious_violations(english) == [], "axe on the debtor page (en)"
    shoot(english, "debtor-en")
    english.locator("table a[href*='/invoices/']").first.click()
    expect(english.locator("#why")).to_contain_text("on hold")
    assert serious_violations(english) == [], "axe on the invoice page (en)"
    shoot(english, "invoice-en")


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_other_pages_are_accessible_and_photographed(
    stack: demo.DemoRun, page: Page, today: date, lang: str
) -> None:
    demo.run_provider(stack, "moneybird", today)
    with stack.runtime.sessions() as s:
        item = repos.outbox_items(s, stack.org_id)[0].id
    for name, path in [
        ("worklist", "/worklist"),
        ("worklist-tomorrow", "/worklist?tab=tomorrow"),
        ("worklist-credit-stops", "/worklist?tab=credit_stops"),
        ("debtors", "/debtors"),
        ("search", "/search?q=a"),
        ("preview", f"/worklist/{item}/preview"),
    ]:
        page.goto(f"{stack.web.url}{path}{'&' if '?' in path else '?'}lang={lang}")
        expect(page.locator("h1")).to_be_visible()
        assert serious_violations(page) == [], f"axe on {path} in {lang}"
        assert shoot(page, f"{name}-{lang}").stat().st_size > 5_000, f"screenshot of {path}"
    page.set_viewport_size({"width": 400, "height": 800})
    page.goto(f"{stack.web.url}/worklist?lang={lang}")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the worklist is {overflow} px wider than a 400 px screen"
    shoot(page, f"worklist-400px-{lang}")
