"""The owner's API keys and webhooks pages in a real browser, in Dutch and English: a key is shown once and works
against the API until it is revoked; a subscription's secret is shown once, a real receiver on 127.0.0.1 gets a
delivery whose answer code the log shows, replay and removal; axe-core finds nothing serious; 400 px wide."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import Page, expect

from connector import demo, notify
from connector.storage import repos
from connector.storage.db import transaction
from tests.receiver import start_receiver
from tests.web.conftest import needs_browser, serious_violations, shoot

pytestmark = needs_browser


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_a_key_is_shown_once_works_and_is_revoked(stack: demo.DemoRun, page: Page, lang: str) -> None:
    page.goto(f"{stack.web.url}/settings/api-keys?lang={lang}")
    expect(page.locator("h1")).to_be_visible()
    page.fill("#key-name", "ERP koppeling")
    page.check("input[name=scope][value=write]")
    page.click("#create-key")
    key = page.locator("#new-key").inner_text().strip()
    assert key.startswith("dk_"), f"the new key is shown: {key!r}"
    assert serious_violations(page) == [], f"axe on the new key in {lang}"
    shoot(page, f"api-keys-created-{lang}")
    api = f"{stack.web.url}/api/v1/administrations"
    assert requests.get(api, headers={"Authorization": f"Bearer {key}"}, timeout=30).status_code == 200, "key works"
    page.goto(f"{stack.web.url}/settings/api-keys?lang={lang}")
    assert key not in page.content(), "the key is never shown again"
    prefix = key.split("_")[1]
    row = page.locator(f"#key-{prefix}")
    expect(row).to_contain_text("ERP koppeling")
    row.locator("button").click()
    expect(page.locator("#notice")).to_be_visible()
    assert requests.get(api, headers={"Authorization": f"Bearer {key}"}, timeout=30).status_code == 401, "revoked"
    assert serious_violations(page) == [], f"axe on the key list in {lang}"
    shoot(page, f"api-keys-{lang}")


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_a_subscription_delivers_to_a_receiver_and_its_log_replays(stack: demo.DemoRun, page: Page, lang: str) -> None:
    receiver = start_receiver()
    try:
        page.goto(f"{stack.web.url}/settings/webhooks?lang={lang}")
        page.fill("#hook-url", receiver.url)
        page.check("input[name=events][value='reminder.sent']")
        page.fill("#hook-description", "boekhouding")
        page.click("#add-subscription")
        secret = page.locator("#new-secret").inner_text().strip()
        assert secret.startswith("whsec_"), f"the secret is shown once: {secret!r}"
        with transaction(stack.runtime.sessions) as s:
            repos.emit_event(s, stack.org_id, "reminder.sent", {"invoices": ["2026-0001"]})
        run = notify.deliver_due(stack.runtime, stack.org_id)
        assert run.delivered == 1 and len(receiver.received) == 1, f"one delivery reached the receiver: {run}"
        page.goto(f"{stack.web.url}/settings/webhooks?lang={lang}")
        assert secret not in page.content(), "the secret is never shown again"
        log = page.locator("#deliveries")
        expect(log).to_contain_text("HTTP 200")
        assert serious_violations(page) == [], f"axe on the webhooks page in {lang}"
        shoot(page, f"webhooks-{lang}")
        log.locator("button").first.click()
        expect(page.locator("#notice")).to_be_visible()
        notify.deliver_due(stack.runtime, stack.org_id)
        assert len(receiver.received) == 2, "the replay was sent again"
        page.locator("#subscriptions button").first.click()
        expect(page.locator("#subscriptions")).not_to_contain_text(receiver.url)
    finally:
        receiver.shutdown()


def test_the_pages_fit_a_400_pixel_screen(stack: demo.DemoRun, page: Page) -> None:
    notify.subscribe(
        stack.runtime, stack.org_id, "https://erp.example.nl/hooks/a-rather-long-path/for-dunning", ["reminder.sent"]
    )
    page.set_viewport_size({"width": 400, "height": 800})
    for name, path in (("api-keys", "/settings/api-keys"), ("webhooks", "/settings/webhooks")):
        page.goto(f"{stack.web.url}{path}")
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        shoot(page, f"{name}-400px")
        wide = page.evaluate(
            """() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth
                && e.parentElement.getBoundingClientRect().right <= innerWidth)
                .slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className)"""
        )
        assert overflow <= 0, f"{path} is {overflow} px wider than a 400 px screen: {wide}"
