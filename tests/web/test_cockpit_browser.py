"""The cockpit in a real browser, on the demo's stack with 30 more client administrations seeded into storage: Dutch
and English, sort, filter, pause one client in bulk, drill down to its worklist and back; axe-core on each state,
screenshots ``cockpit-*.png``, and a 400 px screen (tests/web/conftest.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from bench.cockpit import seed
from connector import demo
from connector.storage import repos
from tests.web.conftest import needs_browser, serious_violations, shoot

pytestmark = needs_browser


def _seed(stack: demo.DemoRun) -> None:
    rt = stack.runtime
    seed(rt, stack.org_id, 1, 31, 4, rt.today(stack.org_id), rt.clock())


def _paused(stack: demo.DemoRun, name: str) -> bool:
    with stack.runtime.sessions() as s:
        return next(a.paused for a in repos.list_administrations(s, stack.org_id) if a.name == name)


def test_sort_filter_pause_drill_down_and_back(stack: demo.DemoRun, page: Page) -> None:
    _seed(stack)
    page.goto(f"{stack.web.url}/?lang=nl")
    page.locator("#nav-cockpit").click()
    expect(page.locator("h1")).to_have_text("Cockpit")
    expect(page.locator("#portfolio-totals")).to_contain_text("Openstaand")
    assert serious_violations(page) == [], "axe on the cockpit (nl)"
    shoot(page, "cockpit-nl")

    page.locator("#sort-overdue").click()  # ascending, then the most overdue first
    page.locator("#sort-overdue").click()
    expect(page.locator("th[aria-sort='descending']")).to_contain_text("Vervallen")
    shoot(page, "cockpit-sorted-nl")

    page.select_option("#f-package", "xero")
    page.locator("#filter").click()
    expect(page.locator("#matching")).to_have_text("10 administraties")
    expect(page.locator("#cockpit-table tbody")).not_to_contain_text("Moneybird")
    assert serious_violations(page) == [], "axe on the filtered cockpit (nl)"
    shoot(page, "cockpit-filtered-nl")

    row = page.locator("#cockpit-table tbody tr", has_text="Client 0004 BV")
    row.locator("input.pick").check()
    page.select_option("#b-action", "pause")
    page.locator("#bulk-apply").click()
    expect(page.locator(".notice.ok")).to_contain_text("Aanmanen pauzeren: 1 administraties gewijzigd")
    expect(row.locator("[data-health='paused']")).to_have_text("aanmanen gepauzeerd")
    assert _paused(stack, "Client 0004 BV"), "the ticked client is not paused in storage"
    assert not _paused(stack, "Client 0001 BV"), "an unticked client was paused"
    shoot(page, "cockpit-paused-nl")

    row.locator("a.client").click()
    expect(page.locator("h1")).to_have_text("Werklijst")
    expect(page.locator("#f-adm option[selected]")).to_have_text("Client 0004 BV")
    assert serious_violations(page) == [], "axe on the drilled-down worklist (nl)"
    shoot(page, "cockpit-drilldown-nl")
    page.locator("#back-to-cockpit").click()
    expect(page.locator("h1")).to_have_text("Cockpit")


@pytest.mark.parametrize("width", [1280, 400])
def test_the_cockpit_in_english_and_on_a_small_screen(stack: demo.DemoRun, english: Page, width: int) -> None:
    _seed(stack)
    english.set_viewport_size({"width": width, "height": 900})
    english.goto(f"{stack.web.url}/cockpit?lang=en")
    expect(english.locator("h1")).to_have_text("Cockpit")
    expect(english.locator("#matching")).to_have_text("30 administrations")  # the seeded (the demo connects none yet)
    expect(english.locator("#portfolio-aging-EUR-table")).to_contain_text("Over 90 days")
    english.locator("#sort-name").click()
    expect(english.locator("th[aria-sort]")).to_contain_text("Client")
    assert serious_violations(english) == [], f"axe on the cockpit (en, {width} px)"
    shoot(english, f"cockpit-en-{width}px")
    overflow = english.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the cockpit is {overflow} px wider than a {width} px screen"
