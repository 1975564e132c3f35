"""The dashboard in a real browser: overview after a run (nl/en), connect from scratch, safe mode, dead letters."""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from connector import demo, inbox
from connector.errors import GarbageResponse
from connector.storage import repos
from tests.e2e.conftest import CHROMIUM, log_in

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed at /usr/bin/chromium"),
]


def _outbox(run: demo.DemoRun) -> list[tuple[str, str]]:
    with run.runtime.sessions() as s:
        return [(i.status, i.debtor_ref) for i in repos.outbox_items(s, run.org_id)]


def _administrations(run: demo.DemoRun) -> list[tuple[int, str, bool]]:
    with run.runtime.sessions() as s:
        return [(a.id, a.name, a.safe_mode) for a in repos.list_administrations(s, run.org_id)]


def test_overview_lists_administrations_and_todays_actions_in_dutch_and_english(
    stack: demo.DemoRun, page: Page, today: date
) -> None:
    summary = demo.run_provider(stack, "moneybird", today)
    assert summary["writebacks"] > 0
    items = _outbox(stack)
    names = [name for _, name, _ in _administrations(stack)]

    page.goto(stack.web.url)
    expect(page.locator("h1")).to_have_text("Debiteurenbeheer")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.get_by_role("heading", name="Acties van vandaag")).to_be_visible()
    rows = page.locator("#administrations tr").filter(has=page.locator("td"))
    expect(rows).to_have_count(len(names))
    for name in names:
        expect(page.locator("#administrations")).to_contain_text(name)
    expect(page.locator("#worklist tr.status-done")).to_have_count(sum(1 for status, _ in items if status == "done"))
    expect(page.locator("#worklist tr").filter(has=page.locator("td"))).to_have_count(len(items))
    expect(page.locator("#worklist tr.status-done .pill").first).to_have_text("verzonden")

    page.goto(f"{stack.web.url}/?lang=en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Credit management")
    expect(page.get_by_role("heading", name="Today's actions")).to_be_visible()
    expect(page.locator("#worklist tr.status-done .pill").first).to_have_text("sent")
    page.goto(stack.web.url)  # the choice sticks (cookie) without the query parameter
    expect(page.locator("h1")).to_have_text("Credit management")
    page.get_by_role("link", name="NL").click()
    expect(page.locator("h1")).to_have_text("Debiteurenbeheer")


def test_language_follows_the_browser_when_not_chosen(stack: demo.DemoRun, browser: Browser) -> None:
    for locale, title in (("en-GB", "Credit management"), ("nl-NL", "Debiteurenbeheer"), ("fr-FR", "Debiteurenbeheer")):
        context = browser.new_context(locale=locale)
        try:
            log_in(context, stack)
            page = context.new_page()
            page.goto(stack.web.url)
            expect(page.locator("h1")).to_have_text(title)
        finally:
            context.close()
    plain = demo.login(stack).get(stack.web.url, timeout=10)  # no Accept-Language at all: Dutch
    assert "<h1>Debiteurenbeheer</h1>" in plain.text


def test_connect_from_an_empty_installation(stack: demo.DemoRun, page: Page) -> None:
    page.goto(stack.web.url)
    expect(page.locator("#administrations")).to_contain_text("Nog geen administratie gekoppeld.")
    page.get_by_role("link", name="Koppel moneybird").click()  # sandbox auto-consents and redirects back
    # its administrations go through the onboarding wizard (docs/onboarding.md#connections)
    expect(page.locator("h1")).to_have_text("Aan de slag")
    expected = len(stack.sandboxes["moneybird"].app.extensions["sandbox"].tenant_ids())
    expect(page.locator('input[name="administration"]')).to_have_count(expected)
    assert page.url.endswith("/onboarding"), page.url

    page.get_by_role("link", name="Overzicht").first.click()
    names = [name for _, name, _ in _administrations(stack)]
    assert len(names) == expected
    for name in names:
        expect(page.locator("#administrations")).to_contain_text(name)
    expect(page.locator("#administrations")).not_to_contain_text("Nog geen administratie")
    # the callback queued a full sync (immediate queue in the demo): the invoices are there
    first_row = page.locator("#administrations tr").filter(has_text=names[0])
    expect(first_row).not_to_contain_text("0 / 0")


def test_safe_mode_toggle_switches_and_persists(stack: demo.DemoRun, page: Page) -> None:
    demo.connect(stack, "moneybird")
    adm_id, name, safe = _administrations(stack)[0]
    assert safe, "a new administration starts in safe mode"
    page.goto(stack.web.url)
    row = page.locator("#administrations tr").filter(has_text=name)
    button = row.get_by_role("button")
    expect(button).to_have_text("Veilige modus aan – klik om te verzenden")

    button.click()
    expect(button).to_have_text("Verzenden aan – klik voor veilige modus")
    assert dict((i, s) for i, _, s in _administrations(stack))[adm_id] is False
    page.reload()
    expect(row.get_by_role("button")).to_have_text("Verzenden aan – klik voor veilige modus")
    others = [s for i, _, s in _administrations(stack) if i != adm_id]
    assert all(others), "only the clicked administration changed"

    row.get_by_role("button").click()
    expect(row.get_by_role("button")).to_have_text("Veilige modus aan – klik om te verzenden")
    assert dict((i, s) for i, _, s in _administrations(stack))[adm_id] is True


def _post_signed(run: demo.DemoRun, body: bytes, idempotency_key: str) -> requests.Response:
    from adapters.moneybird.webhooks import sign

    rt = run.runtime
    with rt.sessions() as s:
        adm = repos.list_administrations(s, run.org_id)[0]
        assert adm.webhook_secret_ciphertext, "connecting registered a webhook with its secret"
        secret = rt.cipher.decrypt(
            rt.webhook_secret_binding("moneybird", adm.provider_tenant_id), adm.webhook_secret_ciphertext
        )["secret"]
    now = int(time.time())
    headers = {
        "Moneybird-Signature": f"t={now},v1={sign(secret, now, body)}",
        "Idempotency-Key": idempotency_key,
        "Content-Type": "application/json",
    }
    return requests.post(f"{run.web.url}/webhooks/moneybird", data=body, headers=headers, timeout=10)


def test_dead_letters_are_listed_and_replayed(stack: demo.DemoRun, page: Page, monkeypatch: pytest.MonkeyPatch) -> None:
    demo.connect(stack, "moneybird")
    sandbox = stack.sandboxes["moneybird"].app.extensions["sandbox"]
    with stack.runtime.sessions() as s:
        adm = repos.list_administrations(s, stack.org_id)[0]
    tenant = adm.provider_tenant_id
    garbage = json.dumps({"administration_id": tenant, "not": "an event"}).encode()
    assert _post_signed(stack, garbage, "idem-garbage").status_code == 200

    # a parseable event whose re-read fails permanently also ends as a dead letter
    invoice_id = sandbox.open_invoice_ids(tenant)[0]

    def provider_answers_garbage(*_args: object, **_kwargs: object) -> str:
        raise GarbageResponse("simulated: the invoice came back without an id")

    monkeypatch.setattr(inbox, "apply_hint", provider_answers_garbage)
    event = {
        "administration_id": tenant,
        "webhook_id": adm.webhook_ref,
        "entity_type": "SalesInvoice",
        "entity_id": invoice_id,
        "state": "open",
        "action": "sales_invoice_updated",
    }
    assert _post_signed(stack, json.dumps(event).encode(), "idem-event").status_code == 200
    monkeypatch.undo()

    page.goto(stack.web.url)
    expect(page.get_by_role("link", name="Mislukte webhooks: 2")).to_be_visible()
    page.get_by_role("link", name="Mislukte webhooks: 2").click()
    expect(page.locator("h1")).to_have_text("Mislukte webhooks")
    rows = page.locator("#dead tr").filter(has=page.locator("td"))
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="unparseable")).to_have_count(1)
    expect(rows.filter(has_text="GarbageResponse")).to_have_count(1)

    page.get_by_role("button", name="Opnieuw verwerken").click()
    expect(page).to_have_url(f"{stack.web.url}/dead-letters")
    # the re-read event is processed now; the unparseable body stays until the parser learns it
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("unparseable")
    with stack.runtime.sessions() as s:
        events = repos.inbox_events(s, stack.org_id)
    replayed = [e for e in events if e.entity_id == invoice_id]
    assert [e.status for e in replayed] == ["processed"]
    assert replayed[0].last_error is None


def test_screenshot_of_the_dashboard(stack: demo.DemoRun, page: Page, tmp_path: Path, today: date) -> None:
    demo.run_provider(stack, "moneybird", today)
    page.goto(stack.web.url)
    expect(page.locator("#worklist")).to_be_visible()
    target = tmp_path / "dashboard.png"
    page.screenshot(path=str(target), full_page=True)
    data = target.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 10_000  # a rendered page with tables, not an empty canvas
