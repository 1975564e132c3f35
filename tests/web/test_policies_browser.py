"""The policy editor in a real browser, in Dutch and English: change a step, see the preview of today's effect,
save it as the organisation's own copy, see it in use and in the history; axe-core finds nothing serious; the
pages fit a 400 px screen (docs/policies.md#the-editor)."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Page, expect

from connector import demo, policies
from tests.web.conftest import needs_browser, serious_violations, shoot

pytestmark = needs_browser


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_change_preview_save_and_history(stack: demo.DemoRun, page: Page, today: date, lang: str) -> None:
    demo.run_provider(stack, "moneybird", today)
    page.goto(f"{stack.web.url}/policies?lang={lang}")
    assert serious_violations(page) == [], f"axe on the policy list in {lang}"
    shoot(page, f"policies-{lang}")
    page.locator("#policies a[id$='-b2b']").first.click()
    expect(page.locator("#policy-name")).to_contain_text("b2b")
    page.fill("#levels-1-days", "13")
    page.click("#preview-button")
    expect(page.locator("#preview-summary")).to_be_visible()
    assert serious_violations(page) == [], f"axe on the preview in {lang}"
    shoot(page, f"policy-preview-{lang}")
    page.fill("#copy_name", f"Demo strict {lang}")
    page.click("#save-button")
    expect(page.locator("#notice")).to_be_visible()
    expect(page.locator("#policy-name")).to_contain_text(f"Demo strict {lang}")
    expect(page.locator("#history")).to_contain_text(f"Demo strict {lang}")
    with stack.runtime.sessions() as s:
        [version] = policies.policy_versions(s, stack.org_id, f"Demo strict {lang}")
    assert version.document["levels"][1]["days"] == 13, "the saved version has the changed step"
    page.fill("#levels-2-days", "3")  # not after the step before: refused at the field
    page.click("#save-button")
    expect(page.locator("#problem-levels-2-days")).to_be_visible()
    assert serious_violations(page) == [], f"axe on the editor with a problem in {lang}"
    shoot(page, f"policy-edit-problem-{lang}")


def test_the_policy_pages_fit_a_400_pixel_screen(stack: demo.DemoRun, page: Page, today: date) -> None:
    demo.run_provider(stack, "moneybird", today)
    page.set_viewport_size({"width": 400, "height": 800})
    page.goto(f"{stack.web.url}/policies")
    edit_url = page.locator("#policies a[id$='-b2b']").first.get_attribute("href")
    for name, path in (("policies", "/policies"), ("policy-edit", edit_url)):
        page.goto(f"{stack.web.url}{path}")
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        shoot(page, f"{name}-400px")
        assert overflow <= 0, f"{path} is {overflow} px wider than a 400 px screen"
