"""``dunning report dso`` shows every currency: an administration in another currency appears in its own currency
(docs/reports.md#currencies); before, only EUR was counted and a GBP administration vanished."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from connector import model
from connector.reports import build as reporting
from connector.storage import repos
from connector.storage.db import transaction
from tests.debtors.conftest import World, _world


@pytest.fixture
def world(sqlite_url: str, tmp_path: Path) -> Iterator[World]:
    yield from _world(sqlite_url, tmp_path)


def test_dso_has_a_row_and_figures_for_each_currency(world: World) -> None:
    day = world.clock.now.date()
    world.debtor("D1")
    world.invoice("I1", "D1", day - timedelta(days=10), "100.00")
    with transaction(world.rt.sessions) as s:
        conn = repos.create_connection(s, world.org_id, "moneybird")
        tenant = model.Tenant(provider_tenant_id="2", name="Acme Ltd", currency="GBP")
        gbp = repos.upsert_administration(s, world.org_id, conn.id, "moneybird", tenant).id
        invoice = model.Invoice(
            provider_ref="G1",
            number="UK-1",
            debtor_ref="D9",
            invoice_date=day - timedelta(days=40),
            due_date=day - timedelta(days=10),
            currency="GBP",
            total=Decimal("250.00"),
            open_amount=Decimal("250.00"),
            status=model.InvoiceStatus.OPEN,
            provider_state="open",
        )
        repos.upsert_invoices(s, world.org_id, gbp, [invoice], world.clock())
    result = reporting.build(world.rt, world.org_id, "dso", day)
    currencies = {c["currency"]: c for c in result["currencies"]}
    assert set(currencies) == {"EUR", "GBP"}, f"currencies shown: {sorted(currencies)}"
    assert currencies["GBP"]["open_receivables"] == "250.00", f"GBP figures: {currencies['GBP']}"
    rows = {(r["administration"], r["currency"]) for r in result["rows"]}
    assert ("Acme Ltd", "GBP") in rows and ("Acme BV", "EUR") in rows, f"rows: {rows}"
    assert result["currency"] == "EUR" and result["report"] == "dso", "the top-level figures stay EUR's"
    assert "GBP" in reporting.as_csv("dso", result), "the CSV lists the GBP administration"
