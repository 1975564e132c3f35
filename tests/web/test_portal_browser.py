"""The debtor's page in a real browser at phone width (400 px), opened from a real reminder e-mail in the demo's
mailbox (Xero: our own e-mail channel): dispute one invoice, propose an arrangement for two, say "paid" for a
third, ask a question in English; the worklist shows the tasks and a rerun of the day sends nothing for those
invoices. Dutch and English, axe-core, screenshots ``portal-*.png`` (tests/web/conftest.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from connector import demo, outbox
from connector.auth import portal
from connector.model.bank import BankDetails
from connector.model.outbox import OutboxAction
from connector.ports import RateLimit
from connector.registry import ADAPTERS
from connector.settings import Settings
from connector.storage import repos
from connector.storage.db import transaction
from tests.web.conftest import needs_browser, serious_violations, shoot

pytestmark = needs_browser
LADDER = {"friendly_reminder", "reminder", "demand_letter", "fourteen_day_letter", "final_notice", "phone_task"}


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, installation_db: str) -> Iterator[demo.DemoRun]:
    monkeypatch.setattr(ADAPTERS["xero"], "limits", (RateLimit(100_000, 60),))
    settings = Settings(var_dir=tmp_path / "var", database_url=installation_db)
    options = {"xero": {"tenants": 1, "invoices_per_tenant": 40, "contacts_per_tenant": 6, "rate_limits": False}}
    run = demo.start(settings, providers=["xero"], options=options)
    yield run
    run.shutdown()


def _links(stack: demo.DemoRun) -> dict[str, str]:
    """debtor ref -> the path of the personal link in the newest reminder e-mail to it."""
    base = stack.runtime.settings.base_url.rstrip("/")
    keys, now = stack.runtime.settings.fernet_keys(), stack.runtime.clock()
    found: dict[str, str] = {}
    for message in stack.mailbox.messages():
        text = next(
            part.get_payload(decode=True).decode() for part in message.walk() if part.get_content_type() == "text/plain"
        )
        for token in re.findall(re.escape(base) + r"/p/([\w.-]+)", text):
            with stack.runtime.sessions() as s:
                checked = portal.check_token(s, keys, token, now)
            if checked.link is not None:
                found[checked.link.debtor_ref] = f"/p/{token}"
    return found


def _open_counts(stack: demo.DemoRun) -> dict[str, int]:
    with stack.runtime.sessions() as s:
        [adm] = repos.list_administrations(s, stack.org_id)
        rows = repos.get_invoices(s, stack.org_id, adm.id, open_only=True)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.debtor_ref] = counts.get(row.debtor_ref, 0) + 1
    return counts


def _phone(browser: Browser, language: str) -> Page:
    context = browser.new_context(
        locale="nl-NL" if language == "nl" else "en-GB", viewport={"width": 400, "height": 900}
    )
    return context.new_page()


def _ref(debtor_page: Page, n: int) -> str:
    return str(debtor_page.locator(f"#pick-{n}").get_attribute("value"))


def test_a_debtor_answers_from_the_link_in_its_email(
    stack: demo.DemoRun, browser: Browser, page: Page, today: date
) -> None:
    for day in range(0, 15, 7):  # a few days of the ladder: reminders to several debtors
        demo.run_provider(stack, "xero", today + timedelta(days=day))
    last_run = today + timedelta(days=14)
    links, counts = _links(stack), _open_counts(stack)
    assert links, "no reminder e-mail with a personal link in the mailbox"
    ranked = sorted(links, key=lambda ref: -counts.get(ref, 0))
    assert len(ranked) >= 2, f"reminders went to {len(ranked)} debtor(s) only"
    dutch_ref, english_ref = ranked[0], ranked[1]
    assert counts.get(dutch_ref, 0) >= 4, f"the busiest debtor has only {counts.get(dutch_ref)} open invoices"

    with transaction(stack.runtime.sessions) as s:  # the owner's account for transfers (docs/portal.md#paying)
        [adm] = repos.list_administrations(s, stack.org_id)
        repos.set_bank_details(s, stack.org_id, adm.id, BankDetails("Demo BV", "NL91ABNA0417164300", "ABNANL2A"))
    phone = _phone(browser, "nl")
    phone.goto(f"{stack.web.url}{links[dutch_ref]}?lang=nl")
    expect(phone.locator("h1")).to_contain_text("Uw facturen bij")
    cards, online, banked = (phone.locator(sel).count() for sel in ("li.invoice", ".pay a.button", "dl.bank"))
    assert online + banked == cards and banked > 0, f"{cards} invoices: {online} pay online, {banked} by transfer"
    expect(phone.locator("dl.bank").first).to_contain_text("NL91 ABNA 0417 1643 00")
    expect(phone.locator("#pdf-1")).to_contain_text("(pdf)")  # Xero gives the invoice's PDF
    pdf = phone.request.get(f"{stack.web.url}{phone.locator('#pdf-1').get_attribute('href')}")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF-"), f"the invoice PDF: {pdf.status}"
    assert serious_violations(phone) == [], "axe on the debtor's page (nl)"
    shoot(phone, "portal-page-nl")
    refs = [_ref(phone, n) for n in (1, 2, 3, 4)]

    phone.locator("#pick-1").check()
    phone.locator("#answer-dispute summary").click()
    phone.locator("#reason").select_option("amount_wrong")
    phone.locator("#message_dispute").fill("Het bedrag klopt niet met de offerte.")
    shoot(phone, "portal-dispute-nl")
    phone.locator("#send-dispute").click()
    expect(phone.locator("#done")).to_contain_text("staat stil")
    shoot(phone, "portal-disputed-nl")

    phone.locator("#pick-2").check()
    phone.locator("#pick-3").check()
    phone.locator("#answer-arrangement summary").click()
    phone.locator("#terms").select_option("2")
    phone.locator("#send-arrangement").click()
    expect(phone.locator("#done")).to_be_visible()

    phone.locator("#pick-4").check()
    phone.locator("#answer-paid summary").click()
    phone.locator("#paid_on").fill((today - timedelta(days=1)).isoformat())
    phone.locator("#amount").fill("100,00")
    phone.locator("#send-paid").click()
    expect(phone.locator("#done")).to_contain_text("Wij zoeken uw betaling op")
    assert serious_violations(phone) == [], "axe on the page after the answers (nl)"
    shoot(phone, "portal-answered-nl")

    english = _phone(browser, "en")
    english.goto(f"{stack.web.url}{links[english_ref]}?lang=en")
    expect(english.locator("h1")).to_contain_text("Your invoices at")
    english.locator("#answer-question summary").click()
    english.locator("#pick-1").check()
    english.locator("#message_question").fill("Can I pay at the end of the month?")
    english.locator("#send-question").click()
    expect(english.locator("#done")).to_contain_text("answer your question")
    assert serious_violations(english) == [], "axe on the debtor's page (en)"
    shoot(english, "portal-answered-en")
    question_ref = _ref(english, 1)

    with stack.runtime.sessions() as s:
        answers = repos.portal_answers(s, stack.org_id)
    kinds = sorted((a.kind, tuple(a.invoice_refs)) for a in answers)
    assert kinds == sorted(
        [
            ("dispute", (refs[0],)),
            ("arrangement", (refs[1], refs[2])),
            ("paid", (refs[3],)),
            ("question", (question_ref,)),
        ]
    ), kinds
    assert len(stack.mailbox.messages()) >= len(links) + 4 - 1, "not every answer was confirmed by e-mail"

    page.goto(f"{stack.web.url}/worklist?lang=nl")
    for task in ("betwist factuur (portaal)", "Vraag van debiteur (portaal)"):
        expect(page.locator("main")).to_contain_text(task)
    shoot(page, "portal-worklist-nl")
    page.goto(f"{stack.web.url}/worklist?tab=snoozed&lang=nl")  # 'paid' waits for the sync until its check day
    expect(page.locator("main")).to_contain_text("betaald (portaal)")
    expect(page.locator("main")).to_contain_text("Debiteur meldt betaald op")

    outbox.drain(stack.runtime, stack.org_id)  # what the worker does next: the hold note goes to Xero
    sandbox = stack.sandboxes["xero"].app.extensions["sandbox"]
    with stack.runtime.sessions() as s:
        [adm] = repos.list_administrations(s, stack.org_id)
    notes = [str(record) for record in sandbox.org(adm.provider_tenant_id).history.get(refs[0], [])]
    assert any("dispute" in note for note in notes), f"the sandbox has no hold note on the disputed invoice: {notes}"

    before = {i.id for i in _ladder(stack)}
    demo.run_provider(stack, "xero", last_run)  # a rerun of the last day: sync, rules, outbox (the question's
    # pause of PAUSE_DAYS from today lasts until that day; the other answers until a person closes the task)
    concerned = {*refs, question_ref}
    new = [i for i in _ladder(stack) if i.id not in before and concerned & set(i.invoice_refs)]
    assert not new, f"reminders for answered invoices: {[(i.action, i.invoice_refs) for i in new]}"


def _ladder(stack: demo.DemoRun) -> list:  # type: ignore[type-arg]
    with stack.runtime.sessions() as s:
        return [
            i
            for i in repos.outbox_items(s, stack.org_id)
            if i.action.value in LADDER or i.action is OutboxAction.REMINDER
        ]
