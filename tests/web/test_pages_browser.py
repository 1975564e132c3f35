"""Every page of the web app in a real browser: readable at 400 px, no serious accessibility violations (axe-core),
a screenshot each in Dutch and English."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from connector import demo
from tests.web.conftest import needs_browser, serious_violations, shoot

pytestmark = needs_browser

PAGES = [
    ("overview", "/"),
    ("tomorrow", "/tomorrow"),
    ("dead-letters", "/dead-letters"),
    ("reports-aging", "/reports"),
    ("reports-dso", "/reports/dso"),
    ("reports-forecast", "/reports/forecast"),
    ("not-found", "/nope"),
]


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_every_page_is_accessible_and_photographed(stack: demo.DemoRun, page: Page, today: date, lang: str) -> None:
    demo.run_provider(stack, "moneybird", today)
    for name, path in PAGES:
        page.goto(f"{stack.web.url}{path}?lang={lang}")
        expect(page.locator("h1")).to_be_visible()
        assert serious_violations(page) == [], f"axe on {path} in {lang}"
        assert shoot(page, f"{name}-{lang}").stat().st_size > 5_000, f"screenshot of {path}"


def test_pages_fit_a_400_pixel_screen(stack: demo.DemoRun, page: Page, today: date) -> None:
    demo.run_provider(stack, "moneybird", today)
    page.set_viewport_size({"width": 400, "height": 800})
    for name, path in PAGES:
        page.goto(f"{stack.web.url}{path}")
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow} px wider than a 400 px screen (wide tables scroll in their box)"
        shoot(page, f"{name}-400px")


def test_the_home_page_shows_the_figures_of_the_reports(stack: demo.DemoRun, page: Page, today: date) -> None:
    from connector.reports.build import headline

    demo.run_provider(stack, "moneybird", today)
    (figures,) = headline(stack.runtime, stack.org_id, today)
    page.goto(f"{stack.web.url}/?lang=en")
    tiles = page.locator("#kpis")
    expected_open = f"€{Decimal(figures['open']):,.2f}"
    expect(tiles.locator("[data-kpi=open]")).to_have_text(expected_open)
    expect(tiles.locator("[data-kpi=overdue]")).to_have_text(f"€{Decimal(figures['overdue']):,.2f}")
    assert Decimal(figures["overdue"]) > 0, "the demo has overdue invoices"
    page.goto(f"{stack.web.url}/?lang=nl")
    dutch = expected_open.replace(",", "_").replace(".", ",").replace("_", ".").replace("€", "€\xa0")
    expect(page.locator("#kpis [data-kpi=open]")).to_have_text(dutch)
    shoot(page, "home-kpis-nl")


@pytest.mark.parametrize("path", ["/reports", "/reports/dso", "/reports/forecast"])
def test_each_chart_has_a_bar_per_row_of_its_table(stack: demo.DemoRun, page: Page, today: date, path: str) -> None:
    demo.run_provider(stack, "moneybird", today)
    page.goto(f"{stack.web.url}{path}?lang=en")
    sections = page.locator("section.report")
    assert sections.count() > 0, f"{path} shows no chart for the demo's administrations"
    for i in range(sections.count()):
        section = sections.nth(i)
        bars = section.locator("svg.chart g.bar").count()
        rows = section.locator("table tr").count() - 1  # less the header row
        assert bars == rows > 0, f"{path}, chart {i}: {bars} bars for {rows} rows of its table"
