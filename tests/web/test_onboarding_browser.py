"""Onboarding in a real browser at 400 px: sign up with Moneybird through the sandbox's consent, the four steps
(administrations, policies, the day-one plan, sending on with its confirmation), then the connections page; in
Dutch and English, axe on every page, screenshots onboarding-*.png and connections-*.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from connector import demo
from tests.web.conftest import needs_browser, serious_violations, shoot

pytestmark = needs_browser
TEXTS = {
    "en-GB": {"signup": "Sign up with Moneybird", "save": "Save and log in", "step": "Step {} of 4"},
    "nl-NL": {"signup": "Aanmelden met Moneybird", "save": "Opslaan en inloggen", "step": "Stap {} van 4"},
}


def _look(page: Page, name: str) -> None:
    assert serious_violations(page) == [], f"axe on {name}"
    shoot(page, name)


@pytest.mark.parametrize("locale", list(TEXTS))
def test_sign_up_onboard_and_see_the_connections(stack: demo.DemoRun, browser: Browser, locale: str) -> None:
    texts = TEXTS[locale]
    lang = locale[:2]
    context = browser.new_context(locale=locale, viewport={"width": 400, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{stack.web.url}/signup")
        page.get_by_role("button", name=texts["signup"]).click()  # the sandbox consents and redirects back
        expect(page).to_have_url(re.compile(r"/signup/account$"))
        page.fill("#email", f"onboard-{lang}@shop.example")
        page.fill("#password", "a good long password")
        page.fill("#repeat", "a good long password")
        page.get_by_role("button", name=texts["save"]).click()
        expect(page).to_have_url(re.compile(r"/onboarding$"))
        for number, name in enumerate(("administrations", "policies", "plan"), 1):
            expect(page.locator("#step-count")).to_have_text(texts["step"].format(number))
            if name == "plan":
                expect(page.locator("input[value=by_age]").first).to_be_visible()
                page.locator("input[value=by_age]").first.check()
            _look(page, f"onboarding-{name}-{lang}")
            page.locator("#next").click()
        expect(page.locator("#step-count")).to_have_text(texts["step"].format(4))
        page.locator("#switch-on").click()  # without the confirmation: refused, said why
        expect(page.locator("#error")).to_be_visible()
        _look(page, f"onboarding-sending-{lang}")
        page.locator("#confirm").check()
        page.locator("#switch-on").click()
        expect(page.locator("#kpis")).to_be_visible()
        expect(page.locator("#onboarding-banner")).to_have_count(0)
        page.locator("#nav-connections").click()
        expect(page.locator("#connections tr")).to_have_count(2)  # the header and the Moneybird connection
        _look(page, f"connections-{lang}")
        page.locator("[id^=disconnect-]").first.click()
        expect(page.locator("#confirm-disconnect")).to_be_visible()
        _look(page, f"connections-disconnect-{lang}")
    finally:
        context.close()
