"""Accounts in a real browser: sign up through a package's consent (the sandbox's OAuth), log out and in, reset a
forgotten password through the e-mail in the demo's mailbox, in Dutch and English."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from connector import accounts, demo, queries
from connector.storage import repos
from tests.web.conftest import needs_browser, serious_violations, shoot

pytestmark = needs_browser


@pytest.mark.parametrize(
    ("locale", "texts"),
    [
        ("en-GB", {"signup": "Sign up with Moneybird", "save": "Save and log in", "out": "Log out", "in": "Log in"}),
        (
            "nl-NL",
            {"signup": "Aanmelden met Moneybird", "save": "Opslaan en inloggen", "out": "Uitloggen", "in": "Inloggen"},
        ),
    ],
)
def test_sign_up_with_a_package_then_log_out_and_in(
    stack: demo.DemoRun, browser: Browser, locale: str, texts: dict[str, str]
) -> None:
    context = browser.new_context(locale=locale)
    try:
        page = context.new_page()
        page.goto(f"{stack.web.url}/")
        expect(page).to_have_url(re.compile(r"/login\?next=/$"))
        assert serious_violations(page) == [], f"axe on the login page ({locale})"
        shoot(page, f"login-{locale}")
        page.locator("#signup").click()
        assert serious_violations(page) == [], f"axe on the sign-up page ({locale})"
        shoot(page, f"signup-{locale}")
        page.get_by_role("button", name=texts["signup"]).click()  # the sandbox consents and redirects back
        expect(page).to_have_url(re.compile(r"/signup/account$"))
        names = [a.name for a in _administrations(stack)]
        for name in names:
            expect(page.locator("#connected")).to_contain_text(name)
        shoot(page, f"signup-account-{locale}")
        email = f"new-{locale.lower()}@shop.example"
        page.fill("#email", email)
        page.fill("#password", "a good long password")
        page.fill("#repeat", "a good long password")
        page.get_by_role("button", name=texts["save"]).click()
        expect(page.locator("#user-email")).to_have_text(email)
        expect(page.locator("#org-name")).to_have_text(names[0])
        person = accounts.find_person(stack.runtime, email)
        assert person is not None, "signing up made no account"
        (membership,) = accounts.memberships(stack.runtime, person.id)
        assert membership.role == "owner" and membership.org_id != stack.org_id, "not the owner of a new organisation"
        page.locator("#logout").click()
        expect(page.locator("h1")).to_have_text(texts["in"])
        page.fill("#email", email)
        page.fill("#password", "a good long password")
        page.locator("form button[type=submit]").click()
        expect(page.locator("#user-email")).to_have_text(email)
    finally:
        context.close()


def _administrations(stack: demo.DemoRun) -> list[queries.AdministrationView]:
    """The administrations of the organisation the last sign-up created."""
    with stack.runtime.sessions() as s:
        orgs = [org_id for org_id, _ in repos.list_organisations(s) if org_id != stack.org_id]
    assert orgs, "the consent created no organisation"
    return list(queries.administrations(stack.runtime, orgs[-1]))


def test_a_forgotten_password_is_reset_through_the_mailbox(stack: demo.DemoRun, browser: Browser) -> None:
    context = browser.new_context(locale="en-GB")
    try:
        page = context.new_page()
        page.goto(f"{stack.web.url}/forgot")
        shoot(page, "forgot-en")
        page.fill("#email", demo.DEMO_OWNER)
        page.locator("form button[type=submit]").click()
        expect(page.locator("h1")).to_have_text("Check your e-mail")
        (mail,) = [m for m in stack.mailbox.messages() if m["Subject"] == "Choose a new password"]
        assert mail["To"] == demo.DEMO_OWNER, f"the reset mail went to {mail['To']}"
        parts = [p for p in mail.walk() if p.get_content_type() == "text/plain"]
        body = parts[0].get_payload(decode=True).decode()
        link = re.search(r"(http://\S+/reset/\S+)", body)
        assert link is not None and link.group(1).startswith(stack.web.url), f"no link from the base URL in: {body}"
        page.goto(link.group(1))
        shoot(page, "reset-en")
        assert serious_violations(page) == [], "axe on the reset page"
        page.fill("#password", "another long password")
        page.fill("#repeat", "another long password")
        page.get_by_role("button", name="Save and log in").click()
        expect(page.locator("#user-email")).to_have_text(demo.DEMO_OWNER)
        page.goto(link.group(1))
        expect(page.locator("h1")).to_have_text("This link no longer works")
        assert accounts.authenticate(stack.runtime, demo.DEMO_OWNER, "another long password", "10.1.1.1") is not None
    finally:
        context.close()
