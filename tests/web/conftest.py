"""Fixtures for the web app's browser tests (tests/web); reuse them from any test module under tests/web.

- ``stack`` (tests/conftest.py): a fresh installation with the real app on 127.0.0.1: the Moneybird sandbox, our
  web app (werkzeug in a thread, the same ``create_app`` gunicorn serves), the SMTP mailbox; ``stack.web.url``.
- ``page`` (pytest-playwright) runs Debian's chromium (``/usr/bin/chromium``, see ``browser_type_launch_args``);
  a Dutch browser by default. In a test that also uses ``stack`` the page is logged in as the demo's owner
  (``connector.demo.DEMO_OWNER``). ``english`` gives a second, English page, logged in the same way.
- ``log_in(context, stack, email, password)``: logs a browser context in as anyone (the session cookie of a real
  login through ``/login``); ``member(stack, role)`` makes a person with that role in the demo organisation and
  returns ``(email, password)``.
- ``needs_browser``: put ``pytestmark = [needs_browser]`` in a module; it skips with the reason when chromium is
  missing, and marks the tests ``e2e``.
- ``shoot(page, name)``: saves a full-page screenshot as ``test-artifacts/screenshots/<name>.png`` (gitignored;
  CI keeps the folder) and returns its path. Name each page once, e.g. ``shoot(page, "worklist-nl")``.
- ``serious_violations(page)``: runs axe-core (vendored in tests/web/vendor/axe.min.js, from the npm registry) on
  the page as it is and returns the serious and critical violations as ``"rule: target, ..."`` lines; assert
  ``== []`` with the page's name in the message.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from connector import accounts, demo
from tests.e2e.conftest import CHROMIUM, CHROMIUM_FLAGS, log_in, logged_in_page

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
needs_browser = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"),
]


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    return {"executable_path": str(CHROMIUM), "args": CHROMIUM_FLAGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """A Dutch-speaking browser by default (the product's users); tests that need English say so."""
    return {**browser_context_args, "locale": "nl-NL"}


@pytest.fixture
def page(context: BrowserContext, request: pytest.FixtureRequest) -> Page:
    return logged_in_page(context, request)


@pytest.fixture
def english(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(locale="en-GB")
    try:
        yield logged_in_page(context, request)
    finally:
        context.close()


def member(stack: demo.DemoRun, role: str, email: str | None = None) -> tuple[str, str]:
    """A person with ``role`` in the demo organisation: (e-mail, password)."""
    address, password = email or f"{role}@people.example", f"{role}-password-123"
    accounts.add_user(stack.runtime, address, stack.org_id, role, password)
    return address, password


__all__ = ["log_in", "member"]


def shoot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(target), full_page=True)
    return target


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page (evaluated by the browser's devtools protocol, so
    the page's Content-Security-Policy needs no exception for it)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    found: list[dict[str, Any]] = page.evaluate(
        """async () => (await window.axe.run(document, {resultTypes: ['violations']})).violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => ({id: v.id, help: v.help, targets: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))"""
    )
    return [f"{v['id']} ({v['help']}): {', '.join(v['targets'])}" for v in found]
