"""The report pages on SQLite and PostgreSQL: a chart per currency with a bar per administration (and one for all),
a non-EUR administration in its own currency, the table beside each chart, CSV and XLSX, Dutch and English."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from flask.testing import FlaskClient
from pydantic import SecretStr

from connector import clock, model
from connector.settings import Settings
from connector.storage import repos
from dashboard import create_app

ADMINISTRATIONS = [  # name, currency, (days overdue, open amount) per invoice
    ("Bakker BV", "EUR", [(45, "1000.00"), (-5, "250.50")]),
    ("Visser VOF", "EUR", [(100, "400.00")]),
    ("Harbour Inc", "USD", [(10, "700.00"), (70, "300.00")]),
]


@pytest.fixture
def client(db_url: str, tmp_path: Path, today: date) -> Iterator[FlaskClient]:
    settings = Settings(
        database_url=db_url,
        var_dir=tmp_path,
        secret_keys=[SecretStr(Fernet.generate_key().decode())],
        queue_immediate=True,
        base_url="https://dunning.example",
    )
    app = create_app(settings)
    app.config.update(SERVER_NAME="dunning.example", PREFERRED_URL_SCHEME="https")  # the Host DUNNING_BASE_URL names
    rt = app.extensions["dunning"].runtime
    org_id = app.extensions["dunning"].org_id
    with rt.sessions.begin() as s:
        connection = repos.create_connection(s, org_id, "moneybird")
        for n, (name, currency, invoices) in enumerate(ADMINISTRATIONS):
            tenant = model.Tenant(provider_tenant_id=f"t{n}", name=name, currency=currency)
            adm = repos.upsert_administration(s, org_id, connection.id, "moneybird", tenant)
            rows = [
                model.Invoice(
                    provider_ref=f"{n}-{i}",
                    number=f"{n}-{i}",
                    debtor_ref="d1",
                    invoice_date=today - timedelta(days=days + 30),
                    due_date=today - timedelta(days=days),
                    currency=currency,
                    total=Decimal(amount),
                    open_amount=Decimal(amount),
                    status=model.InvoiceStatus.OPEN,
                    provider_state="open",
                )
                for i, (days, amount) in enumerate(invoices)
            ]
            repos.upsert_invoices(s, org_id, adm.id, rows, clock.utcnow())
    yield app.test_client()  # no accounts yet: this machine is the operator (dashboard.access)
    rt.close()


def _bars(body: str, chart_id: str) -> int:
    svg = re.search(rf'<svg[^>]*id="{chart_id}".*?</svg>', body, re.S)
    assert svg, f"chart {chart_id} is missing"
    return svg.group(0).count('<g class="bar"')


@pytest.mark.parametrize(
    ("chart_id", "bars"),
    [
        ("aging-EUR", 3),  # Bakker BV, Visser VOF, all EUR administrations
        ("aging-USD", 2),  # Harbour Inc and its own total: never added to the euros
    ],
)
def test_aging_draws_a_bar_per_administration_per_currency(client: FlaskClient, chart_id: str, bars: int) -> None:
    body = client.get("/reports?lang=en").get_data(as_text=True)
    assert _bars(body, chart_id) == bars, f"{chart_id} should have {bars} bars"
    assert "US$1,000.00" in body or "$1,000.00" in body, "the USD administration's total in dollars"


def test_dso_has_a_trend_per_administration_in_its_currency(client: FlaskClient) -> None:
    body = client.get("/reports/dso?lang=en").get_data(as_text=True)
    for index, (name, currency, _) in enumerate(sorted(ADMINISTRATIONS)):
        assert f'data-administration="{name}" data-currency="{currency}"' in body, f"{name} is left out"
        assert _bars(body, f"dso-{index}") == 12, f"{name}: a bar per month for twelve months"


def test_forecast_draws_a_bar_per_week_and_one_for_later(client: FlaskClient) -> None:
    body = client.get("/reports/forecast?lang=en").get_data(as_text=True)
    assert _bars(body, "forecast-0") == 14, "13 weeks and 'later'"
    assert _bars(body, "forecast-1") == 14, "the USD forecast has its own chart"


@pytest.mark.parametrize(("lang", "words"), [("nl", ["Ouderdomsanalyse", "Alle administraties"]), ("en", ["Aging"])])
def test_the_pages_speak_the_users_language(client: FlaskClient, lang: str, words: list[str]) -> None:
    body = client.get(f"/reports?lang={lang}").get_data(as_text=True)
    for word in words:
        assert word in body, f"{word!r} missing in {lang}"


@pytest.mark.parametrize("path", ["/reports", "/reports/dso", "/reports/forecast"])
def test_downloads_hold_the_same_rows(client: FlaskClient, path: str) -> None:
    from openpyxl import load_workbook

    csv = client.get(f"{path}?format=csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv", f"{path} CSV"
    lines = csv.get_data(as_text=True).strip().splitlines()
    xlsx = client.get(f"{path}?format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet.max_row == len(lines), f"{path}: XLSX and CSV hold the same number of rows"
    assert "USD" in csv.get_data(as_text=True), f"{path}: the USD administration is in the file"
